// model_generate: text generation with a compiled LLM bundle, streaming tokens to stdout.
//   model_generate [--dir BUNDLE] (--prompt TEXT | --prompt-ids 1,2,3) [-n 32]
//                  [--temperature 0] [--top-k 0] [--top-p 1] [--repeat-penalty 1] [--seed 0]
//                  [--threads N] [--ignore-eos] [--json]
// --json prints one object: prompt_ids, ids, text, prefill_tok_s, decode_tok_s, load_ms,
// peak_rss_bytes. `edgecc generate` runs this tool.
#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "model.h"
#include "runtime/llm/generate.h"
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

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t utf8_length(const std::string& s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

// A JSON string; bytes that are not valid UTF-8 (a model may emit any bytes) become U+FFFD.
std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_length(s, i);
    if (n == 0) { out += "\\ufffd"; ++i; continue; }
    if (c == '"' || c == '\\') { out += '\\'; out += char(c); }
    else if (c < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out.append(s, i, n);
    i += n;
  }
  return out + "\"";
}

std::string json_ids(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = ".", prompt;
  bool have_prompt = false, have_ids = false, json = false, ignore_eos = false;
  std::vector<int32_t> prompt_ids;
  long long n = 32, threads = 1;
  ek::SamplerOptions sampling;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) die(arg + " needs a value", 2);
      return argv[++i];
    };
    long long v;
    if (arg == "--dir") dir = next();
    else if (arg == "--prompt") { prompt = next(); have_prompt = true; }
    else if (arg == "--prompt-ids") { prompt_ids = parse_ids(next()); have_ids = true; }
    else if (arg == "-n") { if (!parse_int(next(), &n)) die("-n needs an integer", 2); }
    else if (arg == "--temperature") { if (!parse_float(next(), &sampling.temperature)) die("--temperature needs a number", 2); }
    else if (arg == "--top-k") { if (!parse_int(next(), &v) || v < 0) die("--top-k needs an integer >= 0", 2); sampling.top_k = int32_t(v); }
    else if (arg == "--top-p") { if (!parse_float(next(), &sampling.top_p) || !(sampling.top_p > 0 && sampling.top_p <= 1)) die("--top-p needs a number in (0, 1]", 2); }
    else if (arg == "--repeat-penalty") { if (!parse_float(next(), &sampling.repeat_penalty) || !(sampling.repeat_penalty > 0)) die("--repeat-penalty needs a number > 0", 2); }
    else if (arg == "--seed") { if (!parse_int(next(), &v)) die("--seed needs an integer", 2); sampling.seed = uint64_t(v); }
    else if (arg == "--threads") { if (!parse_int(next(), &threads) || threads < 1 || threads > 256) die("--threads needs an integer in 1..256", 2); }
    else if (arg == "--ignore-eos") ignore_eos = true;
    else if (arg == "--json") json = true;
    else die("unknown argument '" + arg + "'", 2);
  }
  if (have_prompt == have_ids) die("give exactly one of --prompt TEXT or --prompt-ids 1,2,3", 2);
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
  if (ek::read_vocab(vocab_path.c_str(), &vocab, &error)) {
    tokenizer = std::make_unique<ek::Tokenizer>(std::move(vocab));
  } else if (have_prompt) {
    die("--prompt needs the bundle's tokenizer: " + error + " (use --prompt-ids)");
  }
  const double load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();

  if (have_prompt) {
    if (!tokenizer->ok()) die("tokenizer: " + tokenizer->error());
    prompt_ids = tokenizer->encode(prompt, /*add_special=*/true);
    if (prompt_ids.empty()) die("the prompt encodes to no tokens");
  }

  std::vector<int32_t> generated;
  std::string pending;  // bytes of a UTF-8 character split across tokens
  auto on_token = [&](int32_t id) {
    if (json || !tokenizer) return true;
    pending += tokenizer->token_to_piece(id);
    size_t complete = pending.size();
    // Hold back an incomplete trailing UTF-8 sequence until its last byte arrives.
    for (size_t back = 1; back <= 3 && back <= pending.size(); ++back) {
      unsigned char c = static_cast<unsigned char>(pending[pending.size() - back]);
      if ((c & 0xC0) == 0x80) continue;
      size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (need > back) complete = pending.size() - back;
      break;
    }
    std::fwrite(pending.data(), 1, complete, stdout);
    std::fflush(stdout);
    pending.erase(0, complete);
    return true;
  };
  std::function<bool(int32_t)> is_end;
  if (tokenizer && !ignore_eos) is_end = [&](int32_t id) { return tokenizer->is_eog(id); };
  ek::Sampler sampler(sampling);
  ek::GenerateStats stats;
  if (!ek::generate(*model, prompt_ids, int(n), sampler, int32_t(M::kVocabSize), on_token, is_end, &generated, &stats, &error))
    die(error);

  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  if (json) {
    const std::string text = tokenizer ? tokenizer->decode(generated) : "";
    std::printf("{\"prompt_ids\": %s, \"ids\": %s, \"text\": %s, \"prefill_tok_s\": %.3f, \"decode_tok_s\": %.3f, "
                "\"load_ms\": %.3f, \"peak_rss_bytes\": %lld}\n",
                json_ids(prompt_ids).c_str(), json_ids(generated).c_str(), json_string(text).c_str(), stats.prefill_tok_s(),
                stats.decode_tok_s(), load_ms, (long long)usage.ru_maxrss * 1024);
  } else {
    if (!tokenizer) std::printf("%s", json_ids(generated).c_str());
    std::fwrite(pending.data(), 1, pending.size(), stdout);
    std::printf("\n");
  }
  return 0;
}
