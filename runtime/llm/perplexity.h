// Perplexity of a compiled LLM bundle over a token sequence, chunked the way llama.cpp's
// llama-perplexity does so that the figures compare: the text (tokenized with its leading
// <s>) is cut into chunks of n_ctx tokens; each chunk starts from an empty cache with its
// first token replaced by <s>; only the second half of each chunk is scored (positions
// n_ctx/2 .. n_ctx-2 predict the next token), so every scored token has context behind it.
// Header-only: it ships inside every bundle, for apps that check a model on the device.
#pragma once
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ek {

struct PerplexityResult {
  int64_t chunks = 0, scored_tokens = 0, scored_bytes = 0;
  double nll = 0, nll2 = 0;  // sums of -log p and its square (natural log)
  double ppl() const { return scored_tokens ? std::exp(nll / double(scored_tokens)) : 0; }
  // llama-perplexity's "+/-": the standard error of the mean NLL, times the perplexity.
  double ppl_error() const {
    if (scored_tokens < 2) return 0;
    const double mean = nll / double(scored_tokens), var = nll2 / double(scored_tokens) - mean * mean;
    return var > 0 ? std::sqrt(var / double(scored_tokens - 1)) * ppl() : 0;
  }
  // Bits per byte of the scored tokens' text: independent of the vocabulary.
  double bits_per_byte() const { return scored_bytes ? nll / std::log(2.0) / double(scored_bytes) : 0; }
};

// -log softmax(logits)[target], in double like llama-perplexity.
inline double negative_log_prob(const float* logits, int32_t n_vocab, int32_t target) {
  float max = logits[0];
  for (int32_t i = 1; i < n_vocab; ++i) max = logits[i] > max ? logits[i] : max;
  double sum = 0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i]) - max);
  return std::log(sum) - (double(logits[target]) - max);
}

// Scores `tokens` (already starting with <s> if the vocabulary adds one) with `model`.
// `piece_bytes(id)` gives a token's text length for bits per byte. `max_chunks` < 0: all.
// `on_chunk(done, total, result)` reports progress; `on_scored(logits)`, when given, sees the
// logits of every scored position in order (to store or compare them: logit_compare.h).
// Returns false with *error on a model error, or when the text is shorter than two chunks
// (as llama-perplexity refuses).
template <class Model>
bool perplexity(Model& model, const std::vector<int32_t>& tokens, int64_t n_ctx, int64_t max_chunks, int32_t bos,
                int32_t n_vocab, const std::function<int64_t(int32_t)>& piece_bytes,
                const std::function<void(int64_t, int64_t, const PerplexityResult&)>& on_chunk,
                PerplexityResult* result, std::string* error,
                const std::function<bool(const float*)>& on_scored = {}) {
  if (n_ctx < 4) {
    *error = "the context must be at least 4 tokens, got " + std::to_string(n_ctx);
    return false;
  }
  if (int64_t(tokens.size()) < 2 * n_ctx) {
    *error = "the text has " + std::to_string(tokens.size()) + " tokens; a context of " + std::to_string(n_ctx) +
             " needs at least " + std::to_string(2 * n_ctx);
    return false;
  }
  int64_t n_chunks = int64_t(tokens.size()) / n_ctx;
  if (max_chunks >= 0 && max_chunks < n_chunks) n_chunks = max_chunks;
  const int64_t first = n_ctx / 2;
  std::vector<int32_t> chunk(static_cast<size_t>(n_ctx));
  std::vector<float> logits(static_cast<size_t>(n_ctx) * size_t(n_vocab));
  *result = PerplexityResult();
  for (int64_t c = 0; c < n_chunks; ++c) {
    const int32_t* begin = tokens.data() + c * n_ctx;
    chunk.assign(begin, begin + n_ctx);
    if (bos >= 0) chunk[0] = bos;
    model.reset();
    if (!model.prefill(chunk.data(), chunk.size(), error, logits.data())) return false;
    for (int64_t j = first; j < n_ctx - 1; ++j) {
      const double v = negative_log_prob(logits.data() + size_t(j) * size_t(n_vocab), n_vocab, chunk[size_t(j + 1)]);
      result->nll += v;
      result->nll2 += v * v;
      result->scored_tokens += 1;
      result->scored_bytes += piece_bytes(chunk[size_t(j + 1)]);
      if (on_scored && !on_scored(logits.data() + size_t(j) * size_t(n_vocab))) {
        *error = "the stored reference log-probabilities end early (not from the same text, --ctx and --chunks?)";
        return false;
      }
    }
    result->chunks = c + 1;
    if (on_chunk) on_chunk(c + 1, n_chunks, *result);
  }
  return true;
}

}  // namespace ek
