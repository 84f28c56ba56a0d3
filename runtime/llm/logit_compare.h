// How far a model's next-token distributions are from a reference's, position by position,
// as llama-perplexity's --kl-divergence measures it: the reference run stores its
// log-probabilities over the whole vocabulary at every scored position (f16: 2 bytes per
// token of the vocabulary), and a run of another build of the model over the same text reads
// them back and reports the mean KL(reference || model) and how often both rank the same
// token first. f16 rounds a log-probability l by at most |l| 2^-11, so a probability moves by
// at most that relative (0.1 % at p = 0.1, where it matters); the stored distribution is
// renormalized when read. The KL is thus that of a reference perturbed far less than by any
// quantization worth measuring.
// Header-only: it ships inside every bundle, with perplexity.h.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/half.h"

namespace ek {

// File: magic, int32 vocabulary size; per scored position the int32 id of the reference's top
// token (exact, where f16 could tie two close ones), then its log-probabilities as f16.
constexpr char kLogProbsMagic[8] = {'E', 'K', 'L', 'O', 'G', 'P', '2', '\0'};

struct LogitComparison {
  int64_t positions = 0, top1_same = 0;
  std::vector<float> kl;  // per position
  double kl_mean() const {
    double s = 0;
    for (float v : kl) s += v;
    return kl.empty() ? 0 : s / double(kl.size());
  }
  // The value below which a fraction q of the positions' KL lie.
  double kl_quantile(double q) const {
    if (kl.empty()) return 0;
    std::vector<float> sorted = kl;
    std::sort(sorted.begin(), sorted.end());
    return sorted[std::min(sorted.size() - 1, size_t(q * double(sorted.size())))];
  }
  double top1() const { return positions ? double(top1_same) / double(positions) : 0; }
};

// log softmax(logits) in double.
inline void log_softmax(const float* logits, int32_t n, std::vector<double>* out) {
  out->resize(size_t(n));
  float max = logits[0];
  for (int32_t i = 1; i < n; ++i) max = std::max(max, logits[i]);
  double sum = 0;
  for (int32_t i = 0; i < n; ++i) sum += std::exp(double(logits[i]) - max);
  const double lse = std::log(sum) + max;
  for (int32_t i = 0; i < n; ++i) (*out)[size_t(i)] = double(logits[i]) - lse;
}

inline bool write_log_probs_header(std::FILE* f, int32_t n_vocab) {
  return std::fwrite(kLogProbsMagic, 1, 8, f) == 8 && std::fwrite(&n_vocab, 4, 1, f) == 1;
}
// Returns "" or why the file does not fit a model of n_vocab tokens.
inline std::string read_log_probs_header(std::FILE* f, int32_t n_vocab) {
  char magic[8];
  int32_t v = 0;
  if (std::fread(magic, 1, 8, f) != 8 || std::memcmp(magic, kLogProbsMagic, 8) != 0 || std::fread(&v, 4, 1, f) != 1)
    return "not a log-probabilities file (written by --save-logits)";
  if (v != n_vocab) return "stored for a vocabulary of " + std::to_string(v) + " tokens, the model has " + std::to_string(n_vocab);
  return "";
}

inline bool write_log_probs(std::FILE* f, const float* logits, int32_t n_vocab) {
  std::vector<double> lp;
  log_softmax(logits, n_vocab, &lp);
  std::vector<uint16_t> h(static_cast<size_t>(n_vocab));
  for (int32_t i = 0; i < n_vocab; ++i) h[size_t(i)] = f32_to_f16_bits(float(std::max(lp[size_t(i)], -65000.0)));
  const int32_t top = int32_t(std::max_element(logits, logits + n_vocab) - logits);
  return std::fwrite(&top, 4, 1, f) == 1 && std::fwrite(h.data(), 2, h.size(), f) == h.size();
}

// Reads the reference's next position and adds KL(reference || logits) and top-1 agreement.
inline bool compare_log_probs(std::FILE* f, const float* logits, int32_t n_vocab, LogitComparison* out) {
  std::vector<uint16_t> h(static_cast<size_t>(n_vocab));
  int32_t ref_top = 0;
  if (std::fread(&ref_top, 4, 1, f) != 1 || std::fread(h.data(), 2, h.size(), f) != h.size()) return false;
  std::vector<double> p(static_cast<size_t>(n_vocab)), q;
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) {
    p[size_t(i)] = std::exp(double(f16_bits_to_f32(h[size_t(i)])));
    sum += p[size_t(i)];
  }
  log_softmax(logits, n_vocab, &q);
  double kl = 0;
  for (int32_t i = 0; i < n_vocab; ++i) {
    const double pi = p[size_t(i)] / sum;
    if (pi > 0) kl += pi * (std::log(pi) - q[size_t(i)]);
  }
  const int32_t top = int32_t(std::max_element(logits, logits + n_vocab) - logits);
  out->kl.push_back(float(std::max(kl, 0.0)));
  out->positions += 1;
  out->top1_same += top == ref_top;
  return true;
}

}  // namespace ek
