// A chat app over a compiled LLM bundle, written as an app developer would: load the model and
// its tokenizer once; for each line on stdin, append it to the conversation (the bundle's KV
// cache keeps the earlier turns, so nothing is recomputed) and stream the reply token by token
// until an end-of-generation token or -n tokens.
//
//   chat BUNDLE_DIR [-n 128] [--temperature 0.7] [--top-k 40] [--top-p 0.95] [--seed 1] [--threads 2] [--json]
//
// With --json each reply is one JSON line (prompt_ids, ids, text, timings) instead of text.
// Build: cmake -S examples/chat -B build/chat -DEDGECC_BUNDLE=/path/to/bundle && cmake --build build/chat
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "model.h"
#include "runtime/llm/generate.h"
#include "runtime/llm/json_output.h"
#include "runtime/llm/tokenizer.h"
#include "runtime/llm/utf8.h"
#include "runtime/parallel.h"

namespace M = EDGECC_MODEL_NAMESPACE;

static int fail(const std::string& why) {
  std::fprintf(stderr, "chat: %s\n", why.c_str());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2) return fail("usage: chat BUNDLE_DIR [-n N] [--temperature T] [--top-k K] [--top-p P] [--seed S] [--threads N] [--json]");
  const std::string dir = argv[1];
  int n = 128;
  bool json = false;
  ek::SamplerOptions sampling;
  sampling.temperature = 0.7f;
  sampling.top_k = 40;
  sampling.top_p = 0.95f;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--json") { json = true; continue; }
    if (i + 1 >= argc) return fail(arg + " needs a value");
    const char* v = argv[++i];
    if (arg == "-n") n = std::atoi(v);
    else if (arg == "--temperature") sampling.temperature = float(std::atof(v));
    else if (arg == "--top-k") sampling.top_k = std::atoi(v);
    else if (arg == "--top-p") sampling.top_p = float(std::atof(v));
    else if (arg == "--seed") sampling.seed = std::strtoull(v, nullptr, 10);
    else if (arg == "--threads") ek::set_num_threads(std::atoi(v));
    else return fail("unknown argument " + arg);
  }
  if (n <= 0) return fail("-n must be positive");

  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  static M::Model model;  // large members: keep it off the stack
  if (!model.load((dir + "/weights.bin").c_str(), &error)) return fail(error);
  ek::Vocab vocab;
  if (!ek::read_vocab((dir + "/tokenizer.bin").c_str(), &vocab, &error)) return fail(error);
  ek::Tokenizer tokenizer(std::move(vocab));
  if (!tokenizer.ok()) return fail(tokenizer.error());
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  ek::Sampler sampler(sampling);
  std::string line;
  bool first = true;
  int32_t unfed = -1;  // the last reply token: sampled, but not yet in the KV cache
  while (std::getline(std::cin, line)) {
    // The first turn starts with the vocabulary's BOS; later turns continue the same context.
    std::vector<int32_t> prompt = tokenizer.encode(first ? line : "\n" + line, /*add_special=*/first);
    first = false;
    if (prompt.empty()) continue;
    if (model.position() + int64_t(prompt.size()) + n + 1 > M::kMaxContext) {
      model.reset();  // the conversation no longer fits: start over with this turn
      prompt = tokenizer.encode(line, true);
      unfed = -1;
    }
    if (int64_t(prompt.size()) + n > M::kMaxContext) {
      std::fprintf(stderr, "chat: this message is too long for the context of %lld tokens; skipped\n",
                   (long long)M::kMaxContext);
      continue;
    }
    if (unfed >= 0 && !model.decode(unfed, &error)) return fail(error);
    std::vector<int32_t> reply;
    ek::GenerateStats stats;
    ek::Utf8Stream stream;
    auto on_token = [&](int32_t id) {
      if (!json) {
        const std::string text = stream.push(tokenizer.token_to_piece(id));
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
      }
      return true;
    };
    auto is_end = [&](int32_t id) { return tokenizer.is_eog(id); };
    if (!ek::generate(model, prompt, n, sampler, int32_t(M::kVocabSize), on_token, is_end, &reply, &stats, &error))
      return fail(error);
    unfed = reply.empty() ? -1 : reply.back();
    if (json) std::printf("%s\n", ek::generation_json(prompt, reply, tokenizer.decode(reply), stats, load_ms).c_str());
    else std::printf("%s\n", stream.flush().c_str());
    std::fflush(stdout);
  }
  return 0;
}
