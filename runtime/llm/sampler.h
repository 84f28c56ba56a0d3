// Picks the next token from logits: greedy, or temperature / top-k / top-p sampling with a
// repetition penalty, from a seeded generator of our own (std distributions differ between
// standard libraries), so a seed gives the same tokens on every platform.
#pragma once
#include <cstdint>
#include <vector>

namespace ek {

struct SamplerOptions {
  float temperature = 0.f;     // <= 0: greedy (argmax; ties go to the lowest id)
  int32_t top_k = 0;           // keep the k most likely tokens; 0: all
  float top_p = 1.f;           // keep the smallest set whose probability reaches p; 1: all
  float repeat_penalty = 1.f;  // > 1 discourages the last `repeat_last_n` tokens (llama.cpp's rule)
  int32_t repeat_last_n = 64;
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplerOptions& options);
  // `history` is the tokens so far (prompt and generated), for the repetition penalty.
  // Returns -1 only for an empty vocabulary.
  int32_t sample(const float* logits, int32_t n_vocab, const std::vector<int32_t>& history);

 private:
  double uniform();  // [0, 1)
  SamplerOptions options_;
  uint64_t state_;
  std::vector<float> scratch_;
  std::vector<int32_t> order_;
};

}  // namespace ek
