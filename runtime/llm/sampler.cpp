#include "runtime/llm/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ek {

Sampler::Sampler(const SamplerOptions& options) : options_(options), state_(options.seed) {}

// splitmix64: tiny, fast, and fully specified.
double Sampler::uniform() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return double(z >> 11) * (1.0 / 9007199254740992.0);
}

int32_t Sampler::sample(const float* logits, int32_t n_vocab, const std::vector<int32_t>& history) {
  if (n_vocab <= 0 || !logits) return -1;
  scratch_.assign(logits, logits + n_vocab);
  if (options_.repeat_penalty != 1.f && options_.repeat_last_n > 0) {
    const size_t from = history.size() > size_t(options_.repeat_last_n) ? history.size() - size_t(options_.repeat_last_n) : 0;
    std::vector<int32_t> seen(history.begin() + long(from), history.end());
    std::sort(seen.begin(), seen.end());
    seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
    for (int32_t id : seen) {
      if (id < 0 || id >= n_vocab) continue;
      float& l = scratch_[size_t(id)];
      l = l > 0 ? l / options_.repeat_penalty : l * options_.repeat_penalty;
    }
  }
  if (options_.temperature <= 0.f)
    return int32_t(std::max_element(scratch_.begin(), scratch_.end()) - scratch_.begin());

  // Candidates by decreasing logit (ties: lower id first, so the order is deterministic).
  order_.resize(size_t(n_vocab));
  std::iota(order_.begin(), order_.end(), 0);
  const size_t k = options_.top_k > 0 ? std::min<size_t>(size_t(options_.top_k), order_.size()) : order_.size();
  auto before = [&](int32_t a, int32_t b) {
    return scratch_[size_t(a)] > scratch_[size_t(b)] || (scratch_[size_t(a)] == scratch_[size_t(b)] && a < b);
  };
  std::partial_sort(order_.begin(), order_.begin() + long(k), order_.end(), before);
  order_.resize(k);

  std::vector<double> p(k);
  const double top = scratch_[size_t(order_[0])];
  double sum = 0;
  for (size_t i = 0; i < k; ++i) sum += p[i] = std::exp((scratch_[size_t(order_[i])] - top) / options_.temperature);
  size_t keep = k;
  if (options_.top_p < 1.f) {
    double cumulative = 0;
    for (size_t i = 0; i < k; ++i) {
      cumulative += p[i] / sum;
      if (cumulative >= options_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += p[i];
  double u = uniform() * total;
  for (size_t i = 0; i < keep; ++i) {
    u -= p[i];
    if (u < 0) return order_[i];
  }
  return order_[keep - 1];
}

}  // namespace ek
