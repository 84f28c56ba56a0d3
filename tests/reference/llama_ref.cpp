// llama_ref: llama.cpp reference runner for edgecc correctness tests.
//
// A thin command-line tool over libllama's C API (the prebuilt CPU libraries
// shipped by node-llama-cpp, see scripts/setup_llama_ref.sh) whose outputs the
// tests compare against code compiled by edgecc:
//
//   llama_ref generate MODEL.gguf --ids 1,2,3 -n N [--threads T] [--logits OUT.f32]
//       Evaluate the prompt as one batch, then greedy-decode N tokens one at a
//       time (argmax, ties -> lowest id). Prints {"ids":[generated...]}.
//       --logits writes N x n_vocab float32 rows: the logits each generated
//       token was chosen from (row 0 after the prompt, row k after token k-1).
//       --timings adds "prefill_tok_s" and "decode_tok_s" (wall time of the
//       decode calls), for benchmarks.
//   llama_ref forced MODEL.gguf --ids 1,2,3 [--threads T] [--logits OUT.f32]
//       Teacher forcing: one batch with logits at every position. Prints
//       {"top1":[argmax per position]}; --logits writes n_ids x n_vocab float32.
//       --tensors DIR writes the intermediates `edgecc bisect` compares (attn_norm-L, kqv_out-L,
//       attn_out-L, ffn_inp-L, ffn_norm-L, ffn_out-L, l_out-L, result_norm, result_output;
//       llama.cpp's graph callback names), as DIR/NAME.bin float32 rows with DIR/outputs.json
//       listing {name, dtype, dims, file}, dims outermost first (ggml's ne reversed).
//   llama_ref tokenize MODEL.gguf --text STRING [--no-special]
//   llama_ref quantize MODEL.gguf --out OUT.gguf --type q8_0|q4_0|f16|q2_k|q3_k_m|q4_k_m|... [--pure]
//       llama_model_quantize (what llama-quantize runs) with its defaults, or --pure: every
//       2-D tensor in the one type (the output layer too).
//       Prints {"ids":[...]} (add_special unless --no-special, parse_special off).
//
// --threads defaults to 1: ggml's worker threads spin-wait, so more threads than
// free cores (the library default is 4) makes decoding orders of magnitude slower.
// Numerics: f32 KV cache and no flash attention, so f32 models match exact f32
// math to ~1e-6 (llama.cpp's defaults, f16 KV cache and flash attention on CPU,
// are ~1e-4 relative off).
// --kv-type f16|q8_0 (generate, forced) stores the KV cache so, with flash attention on
// (llama.cpp's default, and what a quantized V cache requires): `--cache-type-k/v T -fa on`.
// Add --verbose to any command to see llama.cpp's log. Errors: stderr, exit 1.
// LLAMA_REF_BINS (set at compile time) is the directory holding the ggml CPU
// backend libraries, which ggml loads dynamically (the best variant for this CPU).
// LLAMA_REF_CPU_VARIANT=haswell (zen4, skylakex, ...) loads that variant instead, to
// see what llama.cpp computes on another kind of CPU.

#include "llama.h"
#include "ggml-backend.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#ifndef LLAMA_REF_BINS
#error "compile with -DLLAMA_REF_BINS=\"/path/to/bins\""
#endif

namespace {

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "llama_ref: %s\n", msg.c_str());
  std::exit(1);
}

struct Args {
  std::string cmd, model, text, logits_path, out_path, type, tensors_dir, kv_type = "f32";
  std::vector<llama_token> ids;
  int n = -1, threads = 1;
  bool special = true, verbose = false, timings = false, pure = false;
};

std::vector<llama_token> parse_ids(const std::string& s) {
  std::vector<llama_token> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(pos, end - pos);
    char* rest = nullptr;
    long v = std::strtol(item.c_str(), &rest, 10);
    if (item.empty() || *rest != '\0' || v < 0 || v > INT32_MAX) die("bad token id '" + item + "' in --ids");
    ids.push_back((llama_token)v);
    pos = end + 1;
  }
  return ids;
}

int parse_int(const std::string& flag, const char* s) {
  char* rest = nullptr;
  long v = std::strtol(s, &rest, 10);
  if (!*s || *rest != '\0' || v < 0 || v > INT32_MAX) die("bad value '" + std::string(s) + "' for " + flag);
  return (int)v;
}

const char* kUsage =
    "usage: llama_ref generate MODEL.gguf --ids 1,2,3 -n N [--threads T] [--logits OUT.f32]\n"
    "       llama_ref forced   MODEL.gguf --ids 1,2,3 [--threads T] [--logits OUT.f32] [--tensors DIR]\n"
    "       (generate, forced: [--kv-type f32|f16|q8_0])\n"
    "       llama_ref tokenize MODEL.gguf --text STRING [--no-special]\n"
    "       llama_ref quantize MODEL.gguf --out OUT.gguf --type q8_0|q4_0|f16|q2_k|q3_k_m|q4_k_m|... [--pure]\n"
    "       (any command: --verbose)";

Args parse_args(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "%s\n", kUsage); std::exit(1); }
  Args a;
  a.cmd = argv[1];
  a.model = argv[2];
  if (a.cmd != "generate" && a.cmd != "forced" && a.cmd != "tokenize" && a.cmd != "quantize") die("unknown command '" + a.cmd + "'\n" + kUsage);
  bool have_ids = false, have_text = false;
  for (int i = 3; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die("missing value for " + f);
      return argv[++i];
    };
    if (f == "--ids") { a.ids = parse_ids(value()); have_ids = true; }
    else if (f == "-n") a.n = parse_int(f, value());
    else if (f == "--threads") a.threads = std::max(1, parse_int(f, value()));
    else if (f == "--logits") a.logits_path = value();
    else if (f == "--tensors") a.tensors_dir = value();
    else if (f == "--timings") a.timings = true;
    else if (f == "--kv-type") a.kv_type = value();
    else if (f == "--text") { a.text = value(); have_text = true; }
    else if (f == "--no-special") a.special = false;
    else if (f == "--out") a.out_path = value();
    else if (f == "--type") a.type = value();
    else if (f == "--pure") a.pure = true;
    else if (f == "--verbose") a.verbose = true;
    else die("unknown option '" + f + "'\n" + kUsage);
  }
  if (a.cmd == "tokenize") {
    if (!have_text) die("tokenize needs --text");
  } else if (a.cmd == "quantize") {
    if (a.out_path.empty() || a.type.empty()) die("quantize needs --out OUT.gguf and --type");
  } else {
    if (!have_ids) die(a.cmd + " needs --ids");
    if (a.cmd == "generate" && a.n < 0) die("generate needs -n N");
    if (!a.tensors_dir.empty() && a.cmd != "forced") die("--tensors is an option of forced");
  }
  return a;
}

void quiet_log(ggml_log_level, const char*, void*) {}

int argmax(const float* row, int n_vocab) {
  return (int)(std::max_element(row, row + n_vocab) - row);  // first maximum = lowest id
}

void print_ids(const char* key, const std::vector<llama_token>& ids) {
  std::printf("{\"%s\":[", key);
  for (size_t i = 0; i < ids.size(); ++i) std::printf(i ? ",%d" : "%d", ids[i]);
  std::printf("]}\n");
}

// Decodes tokens[0..n) at positions pos0.. in sequence 0; `all_logits` asks for
// logits at every position, otherwise only at the last one.
void decode(llama_context* ctx, const llama_token* tokens, int n, int pos0, bool all_logits) {
  llama_batch batch = llama_batch_init(n, 0, 1);
  for (int i = 0; i < n; ++i) {
    batch.token[i] = tokens[i];
    batch.pos[i] = pos0 + i;
    batch.n_seq_id[i] = 1;
    batch.seq_id[i][0] = 0;
    batch.logits[i] = all_logits || i == n - 1;
  }
  batch.n_tokens = n;
  int rc = llama_decode(ctx, batch);
  llama_batch_free(batch);
  if (rc != 0) die("llama_decode failed (rc=" + std::to_string(rc) + ")");
}

// The graph callback of `forced --tensors`: keeps the f32 tensors named as edgecc's GGUF probe
// names its intermediates (GgufImporter.h). A name computed twice keeps its last value.
struct Captured {
  std::vector<std::string> order;
  std::vector<std::pair<std::vector<int64_t>, std::vector<float>>> values;
};

bool wanted(const char* name) {
  if (!std::strcmp(name, "result_norm") || !std::strcmp(name, "result_output")) return true;
  static const char* const kPerLayer[] = {"attn_norm-", "kqv_out-", "attn_out-", "ffn_inp-", "ffn_norm-", "ffn_out-", "l_out-"};
  for (const char* prefix : kPerLayer) {
    const size_t n = std::strlen(prefix);
    if (std::strncmp(name, prefix, n) == 0 && name[n] && std::strspn(name + n, "0123456789") == std::strlen(name + n)) return true;
  }
  return false;
}

bool capture(ggml_tensor* t, bool ask, void* user) {
  if (ask) return wanted(t->name);
  if (t->type != GGML_TYPE_F32 || !ggml_is_contiguous(t)) return true;
  auto* c = static_cast<Captured*>(user);
  std::vector<int64_t> dims;
  for (int d = GGML_MAX_DIMS - 1; d >= 0; --d)
    if (t->ne[d] != 1 || !dims.empty() || d == 0) dims.push_back(t->ne[d]);
  std::vector<float> data(size_t(ggml_nelements(t)));
  ggml_backend_tensor_get(t, data.data(), 0, ggml_nbytes(t));
  auto at = std::find(c->order.begin(), c->order.end(), std::string(t->name));
  if (at == c->order.end()) {
    c->order.push_back(t->name);
    c->values.push_back({std::move(dims), std::move(data)});
  } else {
    c->values[size_t(at - c->order.begin())] = {std::move(dims), std::move(data)};
  }
  return true;
}

void write_tensors(const Captured& c, const std::string& dir) {
  std::string manifest = "[";
  for (size_t i = 0; i < c.order.size(); ++i) {
    const std::string file = c.order[i] + ".bin";
    FILE* f = std::fopen((dir + "/" + file).c_str(), "wb");
    if (!f) die("cannot write '" + dir + "/" + file + "' (does the directory exist?)");
    const auto& data = c.values[i].second;
    const size_t written = std::fwrite(data.data(), sizeof(float), data.size(), f);
    if (std::fclose(f) != 0 || written != data.size()) die("failed writing '" + dir + "/" + file + "'");
    manifest += std::string(i ? "," : "") + "{\"name\":\"" + c.order[i] + "\",\"dtype\":\"float32\",\"file\":\"" + file + "\",\"dims\":[";
    for (size_t d = 0; d < c.values[i].first.size(); ++d) manifest += (d ? "," : "") + std::to_string(c.values[i].first[d]);
    manifest += "]}";
  }
  manifest += "]\n";
  FILE* f = std::fopen((dir + "/outputs.json").c_str(), "wb");
  if (!f || std::fwrite(manifest.data(), 1, manifest.size(), f) != manifest.size() || std::fclose(f) != 0)
    die("failed writing '" + dir + "/outputs.json'");
}

}  // namespace

int main(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  if (!a.verbose) llama_log_set(quiet_log, nullptr);
  if (const char* variant = std::getenv("LLAMA_REF_CPU_VARIANT")) {
    const std::string lib = std::string(LLAMA_REF_BINS) + "/libggml-cpu-" + variant + ".so";
    if (!ggml_backend_load(lib.c_str())) die(("cannot load " + lib).c_str());
  } else {
    ggml_backend_load_all_from_path(LLAMA_REF_BINS);
  }
  if (ggml_backend_dev_count() == 0) die("no ggml backends found in " LLAMA_REF_BINS);
  llama_backend_init();

  if (a.cmd == "quantize") {
    llama_model_quantize_params qp = llama_model_quantize_default_params();
    qp.nthread = a.threads;
    qp.pure = a.pure;
    // llama-quantize's names; with --pure the k-quant mixes are their one base type.
    const std::pair<const char*, llama_ftype> types[] = {
        {"q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},     {"q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},     {"f16", LLAMA_FTYPE_MOSTLY_F16},
        {"q2_k", LLAMA_FTYPE_MOSTLY_Q2_K},     {"q3_k_s", LLAMA_FTYPE_MOSTLY_Q3_K_S}, {"q3_k_m", LLAMA_FTYPE_MOSTLY_Q3_K_M},
        {"q3_k_l", LLAMA_FTYPE_MOSTLY_Q3_K_L}, {"q4_k_s", LLAMA_FTYPE_MOSTLY_Q4_K_S}, {"q4_k_m", LLAMA_FTYPE_MOSTLY_Q4_K_M},
        {"q5_k_s", LLAMA_FTYPE_MOSTLY_Q5_K_S}, {"q5_k_m", LLAMA_FTYPE_MOSTLY_Q5_K_M}, {"q6_k", LLAMA_FTYPE_MOSTLY_Q6_K}};
    bool known = false;
    for (const auto& [name, ftype] : types)
      if (a.type == name) qp.ftype = ftype, known = true;
    if (!known) die("quantize: unknown --type '" + a.type + "' (q8_0, q4_0, f16, q2_k, q3_k_s|m|l, q4_k_s|m, q5_k_s|m, q6_k)");
    if (llama_model_quantize(a.model.c_str(), a.out_path.c_str(), &qp) != 0) die("llama_model_quantize failed");
    return 0;
  }

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  mp.load_mode = LLAMA_LOAD_MODE_NONE;  // plain reads: no mmap of a file tests may rewrite
  mp.vocab_only = a.cmd == "tokenize";
  llama_model* model = llama_model_load_from_file(a.model.c_str(), mp);
  if (!model) die("failed to load model '" + a.model + "' (rerun with --verbose for llama.cpp's log)");
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);

  if (a.cmd == "tokenize") {
    std::vector<llama_token> ids(a.text.size() + 16);
    int n = llama_tokenize(vocab, a.text.data(), (int32_t)a.text.size(), ids.data(), (int32_t)ids.size(), a.special, false);
    if (n < 0) {
      ids.resize(-n);
      n = llama_tokenize(vocab, a.text.data(), (int32_t)a.text.size(), ids.data(), (int32_t)ids.size(), a.special, false);
    }
    if (n < 0) die("llama_tokenize failed");
    ids.resize(n);
    print_ids("ids", ids);
    llama_model_free(model);
    return 0;
  }

  const int n_ids = (int)a.ids.size();
  const int n_gen = a.cmd == "generate" ? a.n : 0;
  for (llama_token t : a.ids)
    if (t >= n_vocab) die("token id " + std::to_string(t) + " out of range (n_vocab=" + std::to_string(n_vocab) + ")");

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = (uint32_t)std::max(n_ids + n_gen, 64);
  cp.n_batch = cp.n_ctx;
  cp.n_ubatch = std::min<uint32_t>(cp.n_batch, 512);
  cp.n_seq_max = 1;
  cp.n_threads = cp.n_threads_batch = a.threads;
  cp.type_k = cp.type_v = GGML_TYPE_F32;  // see the header comment on numerics
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  if (a.kv_type != "f32") {
    if (a.kv_type == "f16") cp.type_k = cp.type_v = GGML_TYPE_F16;
    else if (a.kv_type == "q8_0") cp.type_k = cp.type_v = GGML_TYPE_Q8_0;
    else die("--kv-type wants f32, f16 or q8_0, got '" + a.kv_type + "'");
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_ENABLED;
  }
  Captured captured;
  if (!a.tensors_dir.empty()) {
    cp.cb_eval = capture;
    cp.cb_eval_user_data = &captured;
  }
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) die("failed to create llama context");

  std::vector<float> logits;  // rows written with --logits
  const bool keep = !a.logits_path.empty();
  std::vector<llama_token> out;
  double prefill_s = 0, decode_s = 0;
  if (a.cmd == "forced") {
    decode(ctx, a.ids.data(), n_ids, 0, true);
    for (int i = 0; i < n_ids; ++i) {
      const float* row = llama_get_logits_ith(ctx, i);
      if (!row) die("no logits for position " + std::to_string(i));
      out.push_back(argmax(row, n_vocab));
      if (keep) logits.insert(logits.end(), row, row + n_vocab);
    }
  } else {
    llama_token next = 0;
    for (int step = 0; step < n_gen; ++step) {
      const auto t0 = std::chrono::steady_clock::now();
      if (step == 0) decode(ctx, a.ids.data(), n_ids, 0, false);
      else decode(ctx, &next, 1, n_ids + step - 1, false);
      (step == 0 ? prefill_s : decode_s) += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const float* row = llama_get_logits_ith(ctx, -1);
      if (!row) die("no logits at step " + std::to_string(step));
      next = argmax(row, n_vocab);
      out.push_back(next);
      if (keep) logits.insert(logits.end(), row, row + n_vocab);
    }
  }

  if (!a.tensors_dir.empty()) write_tensors(captured, a.tensors_dir);
  if (keep) {
    FILE* f = std::fopen(a.logits_path.c_str(), "wb");
    if (!f) die("cannot open '" + a.logits_path + "' for writing");
    size_t written = std::fwrite(logits.data(), sizeof(float), logits.size(), f);
    if (std::fclose(f) != 0 || written != logits.size()) die("failed writing '" + a.logits_path + "'");
  }
  if (a.timings) {
    std::printf("{\"ids\":[");
    for (size_t i = 0; i < out.size(); ++i) std::printf(i ? ",%d" : "%d", out[i]);
    std::printf("],\"prefill_tok_s\":%.3f,\"decode_tok_s\":%.3f}\n", prefill_s > 0 ? n_ids / prefill_s : 0.0,
                decode_s > 0 ? (n_gen - 1) / decode_s : 0.0);
  } else {
    print_ids(a.cmd == "forced" ? "top1" : "ids", out);
  }
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return 0;
}
