// model_generate: text generation with a compiled LLM bundle, streaming tokens to stdout;
// or the perplexity of the bundle over a text file.
//   model_generate [--dir BUNDLE] (--prompt TEXT | --prompt-ids 1,2,3) [-n 32]
//                  [--temperature 0] [--top-k 0] [--top-p 1] [--repeat-penalty 1] [--seed 0]
//                  [--threads N (default: the target's big cores)] [--ignore-eos] [--json]
//   model_generate [--dir BUNDLE] --perplexity TEXT_FILE [--ctx N (default: the bundle's context)]
//                  [--chunks N] [--threads N] [--json]
//                  [--save-logits FILE | --compare-logits FILE]   (logit_compare.h: KL, top-1)
//                  [--observe-inputs FILE]   (calibration bundles: runtime/input_statistics.h)
// --json prints one object: prompt_ids, ids, text, prefill_tok_s, decode_tok_s, load_ms,
// peak_rss_bytes; for --perplexity: ppl, ppl_error, bits_per_byte, chunks, n_ctx, tokens,
// scored_tokens, scored_bytes, seconds; with --compare-logits also kl, kl_p99, kl_max, top1. `edgecc generate` and `edgecc perplexity` run this tool.
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "model.h"
#include "runtime/input_statistics.h"
#include "runtime/llm/generate.h"
#include "runtime/llm/json_output.h"
#include "runtime/llm/logit_compare.h"
#include "runtime/llm/perplexity.h"
#include "runtime/llm/tokenizer.h"
#include "runtime/parallel.h"

namespace M = EDGECC_MODEL_NAMESPACE;

namespace {

[[noreturn]] void die(const std::string& why, int code = 1) {
  std::fprintf(stderr, "model_generate: %s\n", why.c_str());
  std::exit(code);
}

bool parse_int(const char* s, long long* out) {
  char* end = nullptr;
  errno = 0;
  *out = std::strtoll(s, &end, 10);
  return *s && end && !*end && errno == 0;
}

bool parse_float(const char* s, float* out) {
  char* end = nullptr;
  *out = std::strtof(s, &end);
  return *s && end && !*end;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    long long v;
    if (!parse_int(part.c_str(), &v) || v < INT32_MIN || v > INT32_MAX) die("--prompt-ids: '" + part + "' is not a token id", 2);
    ids.push_back(int32_t(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

// --perplexity: llama-perplexity's chunking (runtime/llm/perplexity.h); progress on stderr.
int run_perplexity(M::Model& model, const ek::Tokenizer& tokenizer, const std::string& path, long long n_ctx,
                   long long max_chunks, bool json, const std::string& save_logits, const std::string& compare_logits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die(path + ": cannot open the text file");
  std::stringstream text;
  text << in.rdbuf();
  const std::vector<int32_t> tokens = tokenizer.encode(text.str(), /*add_special=*/true);
  const int32_t bos = tokenizer.vocab().add_bos ? tokenizer.vocab().bos : -1;
  auto piece_bytes = [&](int32_t id) { return int64_t(tokenizer.token_to_piece(id).size()); };
  auto progress = [&](int64_t done, int64_t total, const ek::PerplexityResult& r) {
    std::fprintf(stderr, "\rperplexity: chunk %lld/%lld, ppl %.4f", (long long)done, (long long)total, r.ppl());
    if (done == total) std::fprintf(stderr, "\n");
  };
  const auto t0 = std::chrono::steady_clock::now();
  ek::PerplexityResult r;
  std::string error;
  const int32_t n_vocab = int32_t(M::kVocabSize);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> logits_file(nullptr, &std::fclose);
  ek::LogitComparison comparison;
  std::function<bool(const float*)> on_scored;
  if (!save_logits.empty()) {
    logits_file.reset(std::fopen(save_logits.c_str(), "wb"));
    if (!logits_file || !ek::write_log_probs_header(logits_file.get(), n_vocab)) die(save_logits + ": cannot write");
    on_scored = [&](const float* logits) {
      if (!ek::write_log_probs(logits_file.get(), logits, n_vocab)) die(save_logits + ": cannot write (disk full?)");
      return true;
    };
  } else if (!compare_logits.empty()) {
    logits_file.reset(std::fopen(compare_logits.c_str(), "rb"));
    if (!logits_file) die(compare_logits + ": cannot open");
    if (std::string why = ek::read_log_probs_header(logits_file.get(), n_vocab); !why.empty()) die(compare_logits + ": " + why);
    on_scored = [&](const float* logits) { return ek::compare_log_probs(logits_file.get(), logits, n_vocab, &comparison); };
  }
  if (!ek::perplexity(model, tokens, n_ctx, max_chunks, bos, n_vocab, piece_bytes, progress, &r, &error, on_scored))
    die(path + ": " + error);
  if (logits_file && std::fclose(logits_file.release()) != 0) die(save_logits + ": cannot write");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (json) {
    std::printf("{\"ppl\": %.6f, \"ppl_error\": %.6f, \"bits_per_byte\": %.6f, \"chunks\": %lld, \"n_ctx\": %lld, "
                "\"tokens\": %zu, \"scored_tokens\": %lld, \"scored_bytes\": %lld, \"seconds\": %.3f",
                r.ppl(), r.ppl_error(), r.bits_per_byte(), (long long)r.chunks, n_ctx, tokens.size(),
                (long long)r.scored_tokens, (long long)r.scored_bytes, seconds);
    if (!compare_logits.empty())
      std::printf(", \"kl\": %.8f, \"kl_p99\": %.8f, \"kl_max\": %.8f, \"top1\": %.6f", comparison.kl_mean(),
                  comparison.kl_quantile(0.99), comparison.kl_quantile(1.0), comparison.top1());
    std::printf("}\n");
  } else {
    std::printf("PPL = %.4f +/- %.5f, %.4f bits per byte (%lld chunks of %lld tokens, %lld scored, %.1f s)\n", r.ppl(),
                r.ppl_error(), r.bits_per_byte(), (long long)r.chunks, n_ctx, (long long)r.scored_tokens, seconds);
    if (!compare_logits.empty())
      std::printf("KL divergence from the reference: mean %.6f, 99th percentile %.6f; same top-1 token %.2f %%\n",
                  comparison.kl_mean(), comparison.kl_quantile(0.99), 100 * comparison.top1());
  }
  return 0;
}

}  // namespace

constexpr const char* kUsage =
    "usage: model_generate [--dir BUNDLE] (--prompt TEXT | --prompt-ids 1,2,3) [-n 32]\n"
    "                      [--temperature 0] [--top-k 0] [--top-p 1] [--repeat-penalty 1] [--seed 0]\n"
    "                      [--threads N] [--ignore-eos] [--json]\n"
    "       model_generate [--dir BUNDLE] --perplexity TEXT_FILE [--ctx N] [--chunks N] [--threads N] [--json]\n"
    "                      [--save-logits FILE | --compare-logits FILE] [--observe-inputs FILE]\n"
    "Generates text with the bundle (tokens stream to stdout), or measures its perplexity over a text file.\n"
    "--threads defaults to the target's big cores; --json prints one object with the figures.\n";

int main(int argc, char** argv) {
  std::string dir = ".", prompt;
  std::string perplexity_file, save_logits, compare_logits, observe_inputs;
  long long n_ctx = M::kMaxContext, max_chunks = -1;
  bool have_prompt = false, have_ids = false, json = false, ignore_eos = false;
  std::vector<int32_t> prompt_ids;
  long long n = 32, threads = EDGECC_MODEL_NAMESPACE::kDefaultThreads;  // the target's big cores
  ek::SamplerOptions sampling;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) die(arg + " needs a value", 2);
      return argv[++i];
    };
    long long v;
    if (arg == "--help" || arg == "-h") { std::fputs(kUsage, stdout); return 0; }
    if (arg == "--dir") dir = next();
    else if (arg == "--prompt") { prompt = next(); have_prompt = true; }
    else if (arg == "--prompt-ids") { prompt_ids = parse_ids(next()); have_ids = true; }
    else if (arg == "-n") { if (!parse_int(next(), &n)) die("-n needs an integer", 2); }
    else if (arg == "--temperature") { if (!parse_float(next(), &sampling.temperature)) die("--temperature needs a number", 2); }
    else if (arg == "--top-k") { if (!parse_int(next(), &v) || v < 0) die("--top-k needs an integer >= 0", 2); sampling.top_k = int32_t(v); }
    else if (arg == "--top-p") { if (!parse_float(next(), &sampling.top_p) || !(sampling.top_p > 0 && sampling.top_p <= 1)) die("--top-p needs a number in (0, 1]", 2); }
    else if (arg == "--repeat-penalty") { if (!parse_float(next(), &sampling.repeat_penalty) || !(sampling.repeat_penalty > 0)) die("--repeat-penalty needs a number > 0", 2); }
    else if (arg == "--seed") {
      const char* text = next();
      char* end = nullptr;
      errno = 0;
      sampling.seed = std::strtoull(text, &end, 10);
      if (!*text || *end || errno || *text == '-') die("--seed needs an integer in 0..2^64-1", 2);
    }
    else if (arg == "--threads") { if (!parse_int(next(), &threads) || threads < 1 || threads > 256) die("--threads needs an integer in 1..256", 2); }
    else if (arg == "--perplexity") perplexity_file = next();
    else if (arg == "--save-logits") save_logits = next();
    else if (arg == "--compare-logits") compare_logits = next();
    else if (arg == "--observe-inputs") observe_inputs = next();
    else if (arg == "--ctx") { if (!parse_int(next(), &n_ctx) || n_ctx < 4 || n_ctx > M::kMaxContext) die("--ctx needs an integer in 4.." + std::to_string(M::kMaxContext) + " (the bundle's context)", 2); }
    else if (arg == "--chunks") { if (!parse_int(next(), &max_chunks) || max_chunks < 1) die("--chunks needs a positive integer", 2); }
    else if (arg == "--ignore-eos") ignore_eos = true;
    else if (arg == "--json") json = true;
    else die("unknown argument '" + arg + "'", 2);
  }
  if (perplexity_file.empty() && have_prompt == have_ids) die("give exactly one of --prompt TEXT or --prompt-ids 1,2,3", 2);
  if (!perplexity_file.empty() && (have_prompt || have_ids)) die("--perplexity takes no prompt", 2);
  if ((!save_logits.empty() || !compare_logits.empty() || !observe_inputs.empty()) && perplexity_file.empty())
    die("--save-logits, --compare-logits and --observe-inputs go with --perplexity", 2);
  if (!save_logits.empty() && !compare_logits.empty()) die("give one of --save-logits and --compare-logits", 2);
  if (n <= 0) die("-n must be a positive number of tokens, got " + std::to_string(n), 2);
  if (n > M::kMaxContext) die("-n " + std::to_string(n) + " exceeds the bundle's context of " + std::to_string(M::kMaxContext), 2);
  ek::set_num_threads(int(threads));

  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  std::string error;
  auto model = std::make_unique<M::Model>();
  if (!model->load((dir + "/weights.bin").c_str(), &error)) die(error);
  std::unique_ptr<ek::Tokenizer> tokenizer;
  ek::Vocab vocab;
  const std::string vocab_path = dir + "/tokenizer.bin";
  // A bundle from a model without a vocabulary has no tokenizer.bin: ids in, ids out.
  if (std::FILE* f = std::fopen(vocab_path.c_str(), "rb")) {
    std::fclose(f);
    if (!ek::read_vocab(vocab_path.c_str(), &vocab, &error)) die(error);
    tokenizer = std::make_unique<ek::Tokenizer>(std::move(vocab));
  } else if (have_prompt) {
    die("--prompt needs the bundle's tokenizer, and " + vocab_path + " cannot be opened (use --prompt-ids)");
  }
  const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
  if (!perplexity_file.empty()) {
    if (!tokenizer) die("--perplexity needs the bundle's tokenizer, and " + vocab_path + " cannot be opened");
    if (!tokenizer->ok()) die("tokenizer: " + tokenizer->error());
    const int rc = run_perplexity(*model, *tokenizer, perplexity_file, n_ctx, max_chunks, json, save_logits, compare_logits);
    if (rc == 0 && !observe_inputs.empty() && !ek::save_input_statistics(observe_inputs, &error)) die(error);
    return rc;
  }

  if (have_prompt) {
    if (!tokenizer->ok()) die("tokenizer: " + tokenizer->error());
    prompt_ids = tokenizer->encode(prompt, /*add_special=*/true);
    if (prompt_ids.empty()) die("the prompt encodes to no tokens");
  }

  std::vector<int32_t> generated;
  ek::Utf8Stream stream;  // a character may be split across tokens
  auto on_token = [&](int32_t id) {
    if (json || !tokenizer) return true;
    const std::string text = stream.push(tokenizer->token_to_piece(id));
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  std::function<bool(int32_t)> is_end;
  if (tokenizer && !ignore_eos) is_end = [&](int32_t id) { return tokenizer->is_eog(id); };
  ek::Sampler sampler(sampling);
  ek::GenerateStats stats;
  if (!ek::generate(*model, prompt_ids, int(n), sampler, int32_t(M::kVocabSize), on_token, is_end, &generated, &stats, &error))
    die(error);

  if (json) {
    const std::string text = tokenizer ? tokenizer->decode(generated) : "";
    std::printf("%s\n", ek::generation_json(prompt_ids, generated, text, stats, load_ms).c_str());
  } else {
    if (!tokenizer) std::printf("%s", ek::json_ids(generated).c_str());
    const std::string rest = stream.flush();
    std::fwrite(rest.data(), 1, rest.size(), stdout);
    std::printf("\n");
  }
  return 0;
}
