// The generation loop an app runs over a compiled LLM bundle: prefill the prompt, then sample
// and decode one token at a time, handing each token to a callback as it comes. Works with
// any generated Model (prefill/decode/logits), so apps and the model_generate tool share it.
#pragma once
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "runtime/llm/sampler.h"

namespace ek {

struct GenerateStats {
  double prefill_seconds = 0, decode_seconds = 0;
  int64_t prefill_tokens = 0, decode_steps = 0;
  double prefill_tok_s() const { return prefill_seconds > 0 ? double(prefill_tokens) / prefill_seconds : 0; }
  double decode_tok_s() const { return decode_seconds > 0 ? double(decode_steps) / decode_seconds : 0; }
};

// Generates up to `n` tokens after `prompt` (appended at the model's current position).
// `on_token` returns false to stop early; `is_end` marks end-of-generation tokens, which stop
// the loop after being reported. The last generated token is not fed to the model (nothing
// needs its logits yet): to continue the conversation, decode() it first. Returns false with
// *error on a model error.
template <class Model>
bool generate(Model& model, const std::vector<int32_t>& prompt, int n, Sampler& sampler, int32_t n_vocab,
              const std::function<bool(int32_t)>& on_token, const std::function<bool(int32_t)>& is_end,
              std::vector<int32_t>* generated, GenerateStats* stats, std::string* error) {
  using clock = std::chrono::steady_clock;
  std::vector<int32_t> history = prompt;
  auto t0 = clock::now();
  if (!model.prefill(prompt.data(), prompt.size(), error)) return false;
  stats->prefill_seconds += std::chrono::duration<double>(clock::now() - t0).count();
  stats->prefill_tokens += int64_t(prompt.size());
  for (int i = 0; i < n; ++i) {
    const int32_t id = sampler.sample(model.logits(), n_vocab, history);
    history.push_back(id);
    generated->push_back(id);
    if (!on_token(id) || (is_end && is_end(id)) || i + 1 == n) break;
    auto t1 = clock::now();
    if (!model.decode(id, error)) return false;
    stats->decode_seconds += std::chrono::duration<double>(clock::now() - t1).count();
    ++stats->decode_steps;
  }
  return true;
}

}  // namespace ek
