// edgecc: the command-line compiler.
//   edgecc compile MODEL.onnx -o DIR [--target NAME] [--dim NAME=SIZE]... [--dump-after PASS]
//   edgecc run MODEL.onnx|BUNDLE_DIR --inputs DIR --outputs DIR [--target NAME] [--bundle-dir DIR] [--repeat N]
//   edgecc test-onnx DIR... [--jobs N] [--work-dir DIR] [--rtol X] [--atol X]
//   edgecc generate MODEL.gguf|MODEL.onnx|BUNDLE_DIR (--prompt TEXT | --prompt-ids 1,2,3) [-n N] ...
//   edgecc perplexity MODEL.gguf|MODEL.onnx|BUNDLE_DIR --text FILE [--ctx N] [--chunks N] ...
//   edgecc bisect MODEL.onnx --inputs DIR [--reference ort|DIR] [--rtol X] [--atol X] [--json]
//   edgecc bisect MODEL.gguf --tokens 1,2,3 [--reference llama.cpp|DIR] ...
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "compiler/driver/Bisect.h"
#include "compiler/driver/CodeSize.h"
#include "compiler/driver/ModelRunner.h"
#include "compiler/driver/OnnxTestRunner.h"
#include "compiler/driver/Pipeline.h"
#include "dialects/graph/GraphDialect.h"
#include "compiler/driver/QualityReport.h"
#include "compiler/import/GgufImporter.h"
#include "compiler/import/OnnxImporter.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "compiler/target/DeviceEstimate.h"
#include "compiler/target/DeviceProfile.h"
#include "runtime/llm/json_output.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/ADT/SmallString.h"
#include "runtime/weights_format.h"

namespace {

const char* kUsage =
    "usage:\n"
    "  edgecc compile MODEL.onnx|MODEL.gguf -o DIR [--target NAME] [--dim NAME=SIZE|NAME=A+B]... [--max-dim NAME=BOUND]...\n"
    "                 [--max-context N] [--max-batch N] [--all-logits] [--dump-after PASS] [--namespace NS]\n"
    "                 [--weights f32|f16|q8_0|q4_0|q6_k|q5_k|q4_k|q3_k|q2_k] [--weights-head FORMAT]   convert float weights while compiling\n"
    "                 [--weights-override TENSOR=FORMAT]...   one float weight tensor in its own format\n"
    "                 [--kv-type f32|f16|q8_0]   how the KV cache stores keys and values (llama.cpp's --cache-type-k/v)\n"
    "                 [--ram-budget SIZE [--fit]]   refuse a bundle over SIZE (default: the target's), or --fit the most\n"
    "                 accurate --weights / --kv-type / --max-batch / --max-context that fits; the plan is in report.json\n"
    "                 and memory.svg\n"
    "                 [--sensitivity-from QUALITY.json]   the model's own quality report (from the quality subcommand\n"
    "                 with --sensitivity q4_k,q2_k --json): predicted losses from it, and a format per weight tensor\n"
    "                 among what would fit\n"
    "                 [--calibration TEXT [--calibration-chunks 32]]   round --weights with error feedback from the\n"
    "                 model's inputs over TEXT (GPTQ-style; same formats, lower error at 2-4 bits)\n"
    "                 [--build]   then build the bundle with its CMakeLists.txt (arm64: the aarch64 cross toolchain it\n"
    "                 carries) and record its tools' stripped code size in report.json (\"code_size\")\n"
    "                 [--kernels hand|halide]   halide: Halide-generated kernels where the target has them (one token\n"
    "                 through q8_0 and f32 weights on AVX-512 VNNI), made for its features while compiling\n"
    "  edgecc generate MODEL.gguf|MODEL.onnx|BUNDLE_DIR (--prompt TEXT | --prompt-ids 1,2,3) [-n 32]\n"
    "                 [--temperature 0] [--top-k 0] [--top-p 1] [--repeat-penalty 1] [--seed 0] [--threads 1]\n"
    "                 [--json] [--ignore-eos] [--max-context N] [--max-batch N] [--weights FORMAT] [--kv-type TYPE] [--target NAME]\n"
    "                 [--calibration TEXT] [--bundle-dir DIR] [--dim NAME=SIZE|NAME=A+B]...\n"
    "  edgecc perplexity MODEL.gguf|MODEL.onnx|BUNDLE_DIR --text FILE [--ctx N] [--chunks N] [--threads N] [--json]\n"
    "                 [--max-context N] [--weights FORMAT] [--kv-type TYPE] [--calibration TEXT] [--target NAME] [--bundle-dir DIR]\n"
    "                 [--dim NAME=SIZE|NAME=A+B]...   (chunked as llama-perplexity)\n"
    "                 [--save-logits FILE | --compare-logits FILE]   store the log-probabilities, or compare with stored ones (KL, top-1)\n"
    "  edgecc quality MODEL.gguf|MODEL.onnx --text FILE [--formats f16,q8_0,q6_k,q5_k,q4_k,q4_0,q3_k,q2_k]\n"
    "                 [--kv-types f16,q8_0]   also the f32 weights with each KV cache type\n"
    "                 [--compare QUANTIZED.gguf]... [--sensitivity q4_k,q2_k [--sensitivity-chunks N]] [--ctx N] [--chunks N]\n"
    "                 [--calibration TEXT [--calibration-chunks N]]   also each format rounded with error feedback\n"
    "                 [--threads N] [--target NAME] [--work DIR] [--json FILE] [--svg FILE]   table: bits/weight, size, PPL, KL, top-1\n"
    "  edgecc run MODEL.onnx|BUNDLE_DIR --inputs DIR --outputs DIR [--inputs DIR --outputs DIR]...\n"
    "             [--target NAME] [--bundle-dir DIR] [--repeat N]\n"
    "  edgecc test-onnx DIR... [--jobs N] [--work-dir DIR] [--rtol X] [--atol X] [--target NAME]\n"
    "  edgecc bisect MODEL.onnx --inputs DIR [--reference ort|DIR] [--rtol 1e-3] [--atol 1e-5] [--target NAME]\n"
    "             [--work-dir DIR] [--json]   every intermediate against ONNX Runtime (or .pb tensors named after\n"
    "             the model's values in DIR): the first node whose output diverges, with its error statistics\n"
    "  edgecc bisect MODEL.gguf --tokens 1,2,3 [--reference llama.cpp|DIR] ...   every layer's intermediates\n"
    "             (attn_norm-L ... l_out-L, llama.cpp's names) against llama.cpp, one batch from position 0\n"
    "  edgecc targets [--json | --names]   device profiles: ISA features, vector width, registers,\n"
    "                 caches, cores, memory and RAM of phones and boards with their sources (\"native\": this CPU)\n"
    "  edgecc ops          list the ONNX operators the importer accepts\n";

// The usage lines of one subcommand ("" or an unknown one: all of them).
std::string usageOf(const std::string& cmd) {
  const std::string all = kUsage, start = "  edgecc " + cmd + " ";
  size_t from = all.find(start);
  if (cmd.empty() || from == std::string::npos) return all;
  size_t to = all.find("\n  edgecc ", from + 1);
  return "usage:\n" + all.substr(from, to == std::string::npos ? std::string::npos : to + 1 - from);
}

std::string g_command;  // the subcommand being run, for its usage lines

int usage(const std::string& why) {
  std::fprintf(stderr, "edgecc: %s\n%s", why.c_str(), usageOf(g_command).c_str());
  return 2;
}

int report(llvm::Error e) {
  std::string msg = llvm::toString(std::move(e));
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  std::fprintf(stderr, "edgecc: error: %s\n", msg.c_str());
  return 1;
}

// Minimal flag reader: positional arguments plus "--flag value" / "--flag=value".
struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> flags;
  std::string error;

  Args(int argc, char** argv, int first, const std::vector<std::string>& valueFlags,
       const std::vector<std::string>& boolFlags = {}) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (std::find(boolFlags.begin(), boolFlags.end(), a) != boolFlags.end()) {
        flags.push_back({a, "1"});
      } else if (a.size() > 1 && a[0] == '-') {
        std::string name = a, value;
        if (auto eq = a.find('='); eq != std::string::npos) { name = a.substr(0, eq); value = a.substr(eq + 1); }
        else if (i + 1 < argc) value = argv[++i];
        else { error = a + " needs a value"; return; }
        if (std::find(valueFlags.begin(), valueFlags.end(), name) == valueFlags.end()) { error = "unknown option " + name; return; }
        flags.push_back({name, value});
      } else {
        positional.push_back(a);
      }
    }
  }
  std::string get(const std::string& name, const std::string& def = "") const {
    for (auto it = flags.rbegin(); it != flags.rend(); ++it)
      if (it->first == name) return it->second;
    return def;
  }
  bool has(const std::string& name) const { return !all(name).empty(); }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> v;
    for (auto& [k, val] : flags)
      if (k == name) v.push_back(val);
    return v;
  }
};

bool parseInt(const std::string& s, int64_t* out) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end) return false;
  *out = v;
  return true;
}

// --dim NAME=SIZE (or NAME=A+B: a sum of other dims) and --max-dim NAME=BOUND: how an ONNX
// model's named dims are sized.
bool readDimOptions(const Args& a, edgecc::ImportOptions* import, std::string* why) {
  for (const std::string& d : a.all("--dim")) {
    auto eq = d.find('=');
    int64_t v;
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size()) {
      *why = "--dim wants NAME=SIZE or NAME=A+B, got '" + d + "'";
      return false;
    }
    if (parseInt(d.substr(eq + 1), &v)) {
      if (v < 0) {
        *why = "--dim wants a size of 0 or more, got '" + d + "'";
        return false;
      }
      import->dims[d.substr(0, eq)] = v;
    } else {
      import->dim_sums[d.substr(0, eq)] = d.substr(eq + 1);
    }
  }
  for (const std::string& d : a.all("--max-dim")) {
    auto eq = d.find('=');
    int64_t v;
    if (eq == std::string::npos || !parseInt(d.substr(eq + 1), &v) || v < 1) {
      *why = "--max-dim wants NAME=BOUND, got '" + d + "'";
      return false;
    }
    import->max_dims[d.substr(0, eq)] = v;
  }
  return true;
}

// --max-context / --max-batch / --weights / --weights-head and the dims, shared by compile,
// generate and perplexity.
bool readLlmOptions(const Args& a, edgecc::CompileOptions* options, std::string* why) {
  if (!readDimOptions(a, &options->import, why)) return false;
  options->weights = a.get("--weights");
  options->weights_head = a.get("--weights-head");
  options->weight_overrides = a.all("--weights-override");
  options->calibration_text = a.get("--calibration");
  options->fit = a.has("--fit");
  options->kv_type = a.get("--kv-type", options->kv_type);
  if (!edgecc::graph::isKvStorage(options->kv_type)) {
    *why = "--kv-type wants f32, f16 or q8_0, got '" + options->kv_type + "'";
    return false;
  }
  options->kernels = a.get("--kernels", options->kernels);
  if (const std::string budget = a.get("--ram-budget"); !budget.empty()) {
    options->ram_budget = edgecc::parseByteSize(budget);
    if (options->ram_budget <= 0) {
      *why = "--ram-budget wants a size such as 3GB, 512MiB or 2000000 (bytes), got '" + budget + "'";
      return false;
    }
  }
  if (!options->calibration_text.empty() && !llvm::sys::fs::exists(options->calibration_text)) {
    *why = options->calibration_text + ": no such calibration text file";
    return false;
  }
  for (auto [flag, field] : {std::pair{"--max-context", &options->max_context}, {"--max-batch", &options->max_batch},
                             {"--calibration-chunks", &options->calibration_chunks}}) {
    const std::string v = a.get(flag);
    if (v.empty()) continue;
    if (!parseInt(v, field) || *field < 1) {
      *why = std::string(flag) + " wants a positive integer, got '" + v + "'";
      return false;
    }
  }
  return true;
}

// The profiles, then "native" as detected here: a table, names only, or JSON.
int cmdTargets(int argc, char** argv) {
  Args args(argc, argv, 2, {}, {"--json", "--names"});
  if (!args.error.empty()) return usage(args.error);
  if (!args.positional.empty()) return usage("targets takes no arguments");
  std::vector<edgecc::DeviceProfile> profiles = edgecc::deviceProfiles();
  profiles.push_back(*edgecc::findDeviceProfile("native"));
  auto size = [](int64_t bytes) {
    return bytes >= (1 << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes >> 10) + " KiB";
  };
  if (args.has("--names")) {
    for (const auto& p : profiles) std::printf("%s\n", p.name.c_str());
  } else if (args.has("--json")) {
    auto str = ek::json_string;
    std::printf("[\n");
    for (size_t i = 0; i < profiles.size(); ++i) {
      const auto& p = profiles[i];
      std::printf("  {\"name\": \"%s\", \"isa\": \"%s\", \"features\": \"%s\", \"vector_bits\": %d, \"vector_registers\": %d, "
                  "\"l1_bytes\": %lld, \"l2_bytes\": %lld, \"l3_bytes\": %lld, \"cores\": %d, \"ram_budget_bytes\": %lld,\n"
                  "   \"clusters\": [",
                  p.name.c_str(), p.isa.c_str(), p.features.c_str(), p.vector_bits, p.vector_registers, (long long)p.l1_bytes,
                  (long long)p.l2_bytes, (long long)p.l3_bytes, p.cores, (long long)p.ram_budget_bytes);
      for (size_t c = 0; c < p.clusters.size(); ++c) {
        const auto& k = p.clusters[c];
        std::printf("%s{\"core\": %s, \"count\": %d, \"max_ghz\": %g, \"l1d_bytes\": %lld, \"l2_bytes\": %lld}", c ? ", " : "",
                    str(k.core).c_str(), k.count, k.max_ghz, (long long)k.l1d_bytes, (long long)k.l2_bytes);
      }
      std::printf("], \"memory\": %s, \"dram_gbps\": %g, \"ram_bytes\": %lld, \"description\": %s, \"sources\": %s}%s\n",
                  str(p.memory).c_str(), p.dram_gbps, (long long)p.ram_bytes, str(p.description).c_str(), str(p.sources).c_str(),
                  i + 1 < profiles.size() ? "," : "");
    }
    std::printf("]\n");
  } else {
    std::printf("%-20s %-7s %6s %5s %8s %8s %8s %5s %-8s %6s %6s  %s\n", "target", "isa", "vector", "regs", "L1d", "L2", "L3",
                "cores", "memory", "GB/s", "RAM", "features");
    for (const auto& p : profiles) {
      const std::string gbps = p.dram_gbps > 0 ? std::to_string(int(p.dram_gbps + 0.5)) : "-";
      const std::string ram = p.ram_bytes > 0 ? std::to_string(p.ram_bytes >> 30) + " GB" : "-";
      std::printf("%-20s %-7s %6d %5d %8s %8s %8s %5d %-8s %6s %6s  %s\n", p.name.c_str(), p.isa.c_str(), p.vector_bits,
                  p.vector_registers, size(p.l1_bytes).c_str(), size(p.l2_bytes).c_str(), size(p.l3_bytes).c_str(), p.cores,
                  p.memory.empty() ? "-" : p.memory.c_str(), gbps.c_str(), ram.c_str(), p.features.empty() ? "-" : p.features.c_str());
    }
    std::printf("\n");
    for (const auto& p : profiles) {
      std::printf("%-20s %s\n", p.name.c_str(), p.description.c_str());
      if (p.clusters.size() > 1 || (!p.clusters.empty() && p.clusters[0].max_ghz > 0)) {
        std::string line;
        for (const auto& k : p.clusters) {
          char part[96];
          std::snprintf(part, sizeof part, "%s%d x %s %.2f GHz (L1d %s, L2 %s)", line.empty() ? "" : ", ", k.count, k.core.c_str(),
                        k.max_ghz, size(k.l1d_bytes).c_str(), size(k.l2_bytes).c_str());
          line += part;
        }
        std::printf("%-20s   cores: %s; kernels use %d\n", "", line.c_str(), p.cores);
      }
      if (!p.sources.empty()) std::printf("%-20s   sources: %s\n", "", p.sources.c_str());
    }
  }
  return 0;
}

int cmdCompile(int argc, char** argv) {
  Args a(argc, argv, 2, {"-o", "--output", "--target", "--dim", "--max-dim", "--dump-after", "--namespace", "--max-context",
                         "--max-batch", "--weights", "--weights-head", "--weights-override", "--calibration", "--kv-type",
                         "--calibration-chunks", "--ram-budget", "--sensitivity-from", "--kernels"}, {"--all-logits", "--fit", "--build"});
  if (!a.error.empty()) return usage(a.error);
  if (a.positional.size() != 1) return usage("compile takes one model file");
  std::string out = a.get("-o", a.get("--output"));
  if (out.empty()) return usage("compile needs -o DIR");
  edgecc::CompileOptions options;
  options.target = a.get("--target", options.target);
  options.dump_after = a.get("--dump-after");
  options.cpp_namespace = a.get("--namespace", options.cpp_namespace);
  options.all_logits = a.has("--all-logits");
  options.sensitivity_file = a.get("--sensitivity-from");
  std::string why;
  if (!readLlmOptions(a, &options, &why)) return usage(why);
  if (!options.sensitivity_file.empty() && !llvm::sys::fs::exists(options.sensitivity_file))
    return usage(options.sensitivity_file + ": no such quality report (--sensitivity-from)");
  const auto start = std::chrono::steady_clock::now();
  // Stage lines for work a user waits on: on a terminal, or for a large model in scripts.
  uint64_t modelBytes = 0;
  if (edgecc::isGgufFile(a.positional[0])) llvm::sys::fs::file_size(a.positional[0], modelBytes);
  else modelBytes = edgecc::onnxModelBytes(a.positional[0]);  // with its external data
  if (llvm::sys::Process::StandardErrIsDisplayed() || modelBytes >= (32u << 20))
    options.progress = [&](const std::string& stage) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "edgecc: [%6.2f s] %s\n", s, stage.c_str());
  };
  auto result = edgecc::compileModelToBundle(a.positional[0], out, options);
  if (!result) return report(result.takeError());
  int64_t ops = 0;
  for (auto& [k, n] : result->graph_ops) ops += n;
  std::printf("compiled %s -> %s (target %s)\n", a.positional[0].c_str(), out.c_str(), result->target.c_str());
  std::printf("  graph ops: %lld (", (long long)ops);
  bool first = true;
  for (auto& [k, n] : result->graph_ops) {
    std::printf("%s%s %lld", first ? "" : ", ", k.c_str(), (long long)n);
    first = false;
  }
  std::printf(")\n  kernel calls: %lld, arena: %lld bytes, weights: %lld bytes\n", (long long)result->bundle.kernel_calls,
              (long long)result->bundle.arena_bytes, (long long)result->bundle.weight_bytes);
  if (result->bundle.expected.context > 0)
    std::printf("%s", edgecc::estimateText(*edgecc::findDeviceProfile(result->target), result->bundle.token_cost,
                                           result->bundle.expected).c_str());
  if (!result->fitted.empty())
    std::printf("  --fit chose %s\n  its predicted loss: %.2g nats/token (KL from the f32 model, as measured on %s)\n",
                result->fitted.c_str(), result->fitted_kl,
                options.sensitivity_file.empty() ? "the reference model" : options.sensitivity_file.c_str());
  std::printf("  resident memory plan (report.json \"memory\", %s/memory.svg):\n%s", out.c_str(),
              edgecc::residentPlanText(result->plan, result->ram_budget).c_str());
  if (a.has("--build")) {
    std::fflush(stdout);
    auto code = edgecc::buildAndMeasureCode(out, [](const std::string& step) { std::fprintf(stderr, "edgecc: %s\n", step.c_str()); });
    if (!code) return report(code.takeError());
    std::printf("  code, stripped (report.json \"code_size\", %s/build): model_run %.0f KB%s, on %s (goal for model_run: %.0f KB)\n",
                out.c_str(), code->model_run / 1000.0,
                code->model_generate >= 0 ? (", model_generate " + std::to_string((code->model_generate + 500) / 1000) + " KB").c_str() : "",
                code->isa.c_str(), edgecc::kCodeSizeGoalBytes / 1000.0);
  }
  return 0;
}

// The cache directory for `edgecc run MODEL.onnx`: input shapes and values count too, since
// inputs that size other tensors are specialized to them.
std::string cacheDirFor(const std::string& model, const std::string& inputs, const std::string& target) {
  uint64_t h = ek::fnv1a64(target.data(), target.size());
  if (auto tensors = edgecc::readTensorDir(inputs, "input"))
    for (auto& t : *tensors)
      h = ek::fnv1a64(t.data.data(), t.data.size(), ek::fnv1a64(t.dims.data(), t.dims.size() * sizeof(int64_t), h ^ uint64_t(t.dtype)));
  else
    llvm::consumeError(tensors.takeError());
  return edgecc::bundleCacheDir(model, h, "run");
}

int cmdRun(int argc, char** argv) {
  Args a(argc, argv, 2, {"--inputs", "--outputs", "--target", "--bundle-dir", "--repeat"});
  if (!a.error.empty()) return usage(a.error);
  if (a.positional.size() != 1) return usage("run takes one model file or bundle directory");
  edgecc::RunRequest r;
  r.model = a.positional[0];
  // Several --inputs/--outputs pairs run in order on one model (steps of a KV-cache bundle).
  const std::vector<std::string> ins = a.all("--inputs"), outs = a.all("--outputs");
  if (ins.empty() || ins.size() != outs.size()) return usage("run needs --inputs DIR and --outputs DIR (one --outputs per --inputs)");
  r.inputs_dir = ins[0];
  r.outputs_dir = outs[0];
  for (size_t i = 1; i < ins.size(); ++i) r.next_steps.push_back({ins[i], outs[i]});
  r.compile.target = a.get("--target", r.compile.target);
  int64_t repeat = 1;
  if (!parseInt(a.get("--repeat", "1"), &repeat) || repeat < 1) return usage("--repeat wants a positive integer");
  r.repeat = int(repeat);
  r.bundle_dir = a.get("--bundle-dir");
  if (r.bundle_dir.empty()) {
    r.bundle_dir = cacheDirFor(r.model, r.inputs_dir, r.compile.target);
    r.reuse_bundle = true;
  }
  auto out = edgecc::compileBuildRun(r);
  if (!out) return report(out.takeError());
  std::printf("%s", out->c_str());
  return 0;
}

int cmdTestOnnx(int argc, char** argv) {
  Args a(argc, argv, 2, {"--jobs", "--work-dir", "--rtol", "--atol", "--target"});
  if (!a.error.empty()) return usage(a.error);
  if (a.positional.empty()) return usage("test-onnx takes one or more test directories");
  edgecc::OnnxTestOptions o;
  int64_t jobs = 0;
  if (!parseInt(a.get("--jobs", "0"), &jobs) || jobs < 0) return usage("--jobs wants a count");
  o.jobs = int(jobs);
  o.work_dir = a.get("--work-dir");
  o.rtol = std::atof(a.get("--rtol", "1e-3").c_str());
  o.atol = std::atof(a.get("--atol", "1e-5").c_str());
  o.target = a.get("--target", o.target);
  for (const std::string& d : a.positional)
    if (!llvm::sys::fs::exists(d + "/model.onnx")) return usage(d + " has no model.onnx");
  return edgecc::runOnnxTests(a.positional, o) == 0 ? 0 : 1;
}

// The first node whose output diverges from a reference (Bisect.h). ONNX Runtime for Node is
// looked for where scripts/setup_onnxruntime.sh puts it (${EDGECC_ORT:-~/.cache/edgecc/ort}).
int cmdBisect(int argc, char** argv) {
  Args a(argc, argv, 2, {"--inputs", "--tokens", "--reference", "--rtol", "--atol", "--target", "--work-dir"}, {"--json"});
  if (!a.error.empty()) return usage(a.error);
  if (a.positional.size() != 1) return usage("bisect takes one model file (.onnx or .gguf)");
  edgecc::BisectOptions o;
  o.model = a.positional[0];
  if (!llvm::sys::fs::exists(o.model)) return report(llvm::createStringError(llvm::inconvertibleErrorCode(), o.model + ": no such model file"));
  const bool gguf = edgecc::isGgufFile(o.model);
  if (gguf) {
    const std::string tokens = a.get("--tokens");
    if (tokens.empty()) return usage("bisect of a GGUF model needs --tokens 1,2,3 (token ids of the prompt)");
    for (llvm::StringRef rest = tokens; !rest.empty();) {
      auto [item, tail] = rest.split(',');
      uint32_t id = 0;
      if (item.getAsInteger(10, id) || id > uint32_t(INT32_MAX)) return usage("--tokens wants token ids separated by commas, got '" + item.str() + "'");
      o.tokens.push_back(int32_t(id));
      rest = tail;
    }
    const char* refDir = std::getenv("EDGECC_LLAMA_REF");
    const char* home = std::getenv("HOME");
    o.llama_ref = (refDir && *refDir ? std::string(refDir) : std::string(home ? home : "") + "/.cache/edgecc/llama-ref") + "/bin/llama_ref";
    o.reference = "llama.cpp";
  } else {
    o.inputs_dir = a.get("--inputs");
    if (o.inputs_dir.empty()) return usage("bisect needs --inputs DIR (input_0.pb, input_1.pb, ... as for edgecc run)");
  }
  o.reference = a.get("--reference", o.reference);
  o.target = a.get("--target", o.target);
  for (auto [flag, field] : {std::pair{"--rtol", &o.tolerance.rtol}, {"--atol", &o.tolerance.atol}}) {
    const std::string v = a.get(flag);
    if (v.empty()) continue;
    char* end = nullptr;
    *field = std::strtod(v.c_str(), &end);
    if (*end || !(*field >= 0)) return usage(std::string(flag) + " wants a non-negative number, got '" + v + "'");
  }
  const char* ortDir = std::getenv("EDGECC_ORT");
  const char* home = std::getenv("HOME");
  o.ort_module = (ortDir && *ortDir ? std::string(ortDir) : std::string(home ? home : "") + "/.cache/edgecc/ort") +
                 "/node_modules/onnxruntime-node";
  llvm::SmallString<128> work(a.get("--work-dir"));
  if (work.empty() && llvm::sys::fs::createUniqueDirectory("edgecc-bisect", work))
    return report(llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot create a work directory"));
  o.work_dir = std::string(work);
  if (llvm::sys::Process::StandardErrIsDisplayed())
    o.progress = [](const std::string& stage) { std::fprintf(stderr, "edgecc: %s\n", stage.c_str()); };
  auto result = gguf ? edgecc::bisectGguf(o) : edgecc::bisectOnnx(o);
  if (!result) return report(result.takeError());
  std::printf("%s", a.has("--json") ? edgecc::bisectJson(*result, o).c_str() : edgecc::bisectText(*result, o).c_str());
  if (!a.has("--json")) std::printf("tensors, probe model and bundles: %s\n", o.work_dir.c_str());
  return 0;
}

// Compiles (into a cache) when given a model file, builds the bundle's model_generate tool and
// runs it with `toolArgs` plus the flags in `passValue` / `passBool`; its output streams
// straight through. Shared by generate and perplexity.
int runGenerateTool(int argc, char** argv, const std::string& command, const std::vector<std::string>& passValue,
                    const std::vector<std::string>& passBool, const std::vector<std::string>& ownFlags, bool allLogits,
                    const std::function<std::string(const Args&, std::vector<std::string>*)>& toolArgs) {
  std::vector<std::string> valueFlags = passValue;
  valueFlags.insert(valueFlags.end(), ownFlags.begin(), ownFlags.end());
  valueFlags.insert(valueFlags.end(), {"--target", "--bundle-dir", "--max-context", "--max-batch", "--weights", "--weights-head", "--kv-type",
                                        "--weights-override", "--calibration", "--calibration-chunks", "--ram-budget", "--kernels",
                                        "--dim", "--max-dim"});
  Args a(argc, argv, 2, valueFlags, passBool);
  if (!a.error.empty()) return usage(a.error);
  if (a.positional.size() != 1) return usage(command + " takes one model file or bundle directory");
  std::vector<std::string> cmd;
  if (std::string why = toolArgs(a, &cmd); !why.empty()) return usage(why);
  edgecc::CompileOptions options;
  options.target = a.get("--target", options.target);
  options.all_logits = allLogits;
  std::string why;
  if (!readLlmOptions(a, &options, &why)) return usage(why);
  if (llvm::sys::Process::StandardErrIsDisplayed())
    options.progress = [](const std::string& stage) { std::fprintf(stderr, "edgecc: %s\n", stage.c_str()); };
  auto tool = edgecc::prepareGenerate(a.positional[0], options, a.get("--bundle-dir"));
  if (!tool) return report(tool.takeError());
  cmd.insert(cmd.begin(), {tool->exe, "--dir", tool->bundle});
  for (auto& [flag, value] : a.flags) {
    if (std::find(passValue.begin(), passValue.end(), flag) != passValue.end()) cmd.insert(cmd.end(), {flag, value});
    if (std::find(passBool.begin(), passBool.end(), flag) != passBool.end()) cmd.push_back(flag);
  }
  std::vector<llvm::StringRef> argv2(cmd.begin(), cmd.end());
  std::string err;
  int rc = llvm::sys::ExecuteAndWait(cmd[0], argv2, std::nullopt, {}, 0, 0, &err);
  if (rc < 0) {
    std::fprintf(stderr, "edgecc: error: the bundle's model_generate tool failed to run: %s\n", err.c_str());
    return 1;
  }
  return rc;
}

int cmdGenerate(int argc, char** argv) {
  return runGenerateTool(
      argc, argv, "generate",
      {"--prompt", "--prompt-ids", "-n", "--temperature", "--top-k", "--top-p", "--repeat-penalty", "--seed", "--threads"},
      {"--json", "--ignore-eos"}, {}, /*allLogits=*/false, [](const Args& a, std::vector<std::string>*) -> std::string {
        if (a.get("--prompt").empty() == a.get("--prompt-ids").empty()) return "generate needs --prompt TEXT or --prompt-ids 1,2,3";
        return "";
      });
}

// Perplexity over a text file, chunked as llama-perplexity does (runtime/llm/perplexity.h).
int cmdPerplexity(int argc, char** argv) {
  return runGenerateTool(argc, argv, "perplexity", {"--ctx", "--chunks", "--threads", "--save-logits", "--compare-logits"},
                         {"--json"}, {"--text"}, /*allLogits=*/true,
                         [](const Args& a, std::vector<std::string>* cmd) -> std::string {
                           const std::string text = a.get("--text");
                           if (text.empty()) return "perplexity needs --text FILE";
                           if (!llvm::sys::fs::exists(text)) return text + ": no such text file";
                           cmd->insert(cmd->end(), {"--perplexity", text});
                           return "";
                         });
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= s.size();) {
    const size_t comma = std::min(s.find(',', start), s.size());
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The accuracy of each weight format on one model and text (QualityReport.h).
int cmdQuality(int argc, char** argv) {
  Args a(argc, argv, 2, {"--text", "--formats", "--kv-types", "--compare", "--sensitivity", "--sensitivity-chunks", "--ctx", "--chunks",
                         "--threads", "--target", "--work", "--json", "--svg", "--calibration", "--calibration-chunks"}, {});
  if (!a.error.empty()) return usage(a.error);
  if (a.positional.size() != 1) return usage("quality takes one float model file");
  edgecc::QualityOptions o;
  o.model = a.positional[0];
  o.text = a.get("--text");
  if (o.text.empty()) return usage("quality needs --text FILE");
  if (a.has("--formats")) o.formats = splitList(a.get("--formats"));
  o.compare_files = a.all("--compare");
  o.sensitivity_formats = splitList(a.get("--sensitivity"));
  for (const std::string& f : o.formats)
    if (!edgecc::parseQuantizableFormat(f)) return usage("--formats: unknown format '" + f + "'");
  for (const std::string& f : o.sensitivity_formats)
    if (!edgecc::parseQuantizableFormat(f)) return usage("--sensitivity: unknown format '" + f + "'");
  o.kv_types = splitList(a.get("--kv-types"));
  for (const std::string& t : o.kv_types)
    if (!edgecc::graph::isKvStorage(t)) return usage("--kv-types: unknown KV type '" + t + "' (f32, f16, q8_0)");
  for (auto [flag, field] : {std::pair{"--ctx", &o.ctx}, {"--chunks", &o.chunks}, {"--threads", &o.threads},
                             {"--sensitivity-chunks", &o.sensitivity_chunks}, {"--calibration-chunks", &o.calibration_chunks}}) {
    const std::string v = a.get(flag);
    if (!v.empty() && (!parseInt(v, field) || *field < 1)) return usage(std::string(flag) + " wants a positive integer, got '" + v + "'");
  }
  o.target = a.get("--target", o.target);
  o.calibration_text = a.get("--calibration");
  if (!o.calibration_text.empty() && !llvm::sys::fs::exists(o.calibration_text))
    return usage(o.calibration_text + ": no such calibration text file");
  llvm::SmallString<128> work(a.get("--work"));
  if (work.empty()) {
    if (llvm::sys::fs::createUniqueDirectory("edgecc-quality", work)) return report(llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot create a work directory"));
  }
  o.work_dir = std::string(work);
  const auto start = std::chrono::steady_clock::now();
  o.progress = [&](const std::string& stage) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "edgecc: [%7.1f s] %s\n", s, stage.c_str());
  };
  auto result = edgecc::measureQuality(o);
  if (a.get("--work").empty()) llvm::sys::fs::remove_directories(o.work_dir);
  if (!result) return report(result.takeError());
  std::printf("%s", edgecc::qualityTable(*result).c_str());
  auto write = [](const std::string& path, const std::string& text) {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    if (ec) return false;
    os << text;
    return true;
  };
  if (a.has("--json") && !write(a.get("--json"), edgecc::qualityJson(*result))) return report(llvm::createStringError(llvm::inconvertibleErrorCode(), a.get("--json") + ": cannot write"));
  if (a.has("--svg")) {
    const std::string svg = a.get("--svg");
    if (!write(svg, edgecc::qualitySvg(*result))) return report(llvm::createStringError(llvm::inconvertibleErrorCode(), svg + ": cannot write"));
    if (!result->sensitivity.empty()) {
      const std::string sens = svg.size() > 4 && svg.substr(svg.size() - 4) == ".svg" ? svg.substr(0, svg.size() - 4) + "-sensitivity.svg" : svg + "-sensitivity.svg";
      if (!write(sens, edgecc::sensitivitySvg(*result))) return report(llvm::createStringError(llvm::inconvertibleErrorCode(), sens + ": cannot write"));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage("missing command");
  const std::string cmd = argv[1];
  for (int i = 2; i < argc; ++i)  // every subcommand answers --help, with its own lines
    if (std::string(argv[i]) == "--help" || std::string(argv[i]) == "-h") {
      std::printf("%s", usageOf(cmd).c_str());
      return 0;
    }
  g_command = cmd;
  if (cmd == "compile") return cmdCompile(argc, argv);
  if (cmd == "run") return cmdRun(argc, argv);
  if (cmd == "test-onnx") return cmdTestOnnx(argc, argv);
  if (cmd == "generate") return cmdGenerate(argc, argv);
  if (cmd == "perplexity") return cmdPerplexity(argc, argv);
  if (cmd == "quality") return cmdQuality(argc, argv);
  if (cmd == "bisect") return cmdBisect(argc, argv);
  if (cmd == "ops") {
    for (const std::string& op : edgecc::supportedOnnxOps()) std::printf("%s\n", op.c_str());
    return 0;
  }
  if (cmd == "targets") return cmdTargets(argc, argv);
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  return usage("unknown command '" + cmd + "'");
}
