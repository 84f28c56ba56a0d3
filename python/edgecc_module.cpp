// Python bindings: a thin layer over the same C++ entry points the CLI uses.
//   import edgecc
//   summary = edgecc.compile("model.onnx", "bundle/", target="x86-64-avx2", dims={"seq": 8})
//   outputs = edgecc.Bundle("bundle/").run([ids, past_k, ...])   # numpy in, numpy out
//   edgecc.compile("model.gguf", "llm/", max_context=512)
//   edgecc.Bundle("llm/").generate("Once upon a time", n=32)   # {"ids", "text", timings}
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <locale>
#include <sstream>

#include "compiler/driver/ModelRunner.h"
#include "compiler/driver/Pipeline.h"
#include "dialects/graph/GraphDialect.h"
#include "compiler/import/OnnxImporter.h"
#include "compiler/memory/ResidentPlan.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "compiler/quantize/Gptq.h"
#include "compiler/target/DeviceProfile.h"
#include "llvm/Support/FileSystem.h"
#include "runtime/kernels/ggml_blocks.h"

namespace py = pybind11;

namespace {

std::string formatList() {
  std::string names;
  for (const std::string& n : edgecc::quantizableFormatNames()) names += (names.empty() ? "" : ", ") + n;
  return names;
}

[[noreturn]] void raise(llvm::Error e) { throw std::runtime_error(llvm::toString(std::move(e))); }

py::dict compileModel(const std::string& model, const std::string& outDir, const std::string& target,
                      const std::map<std::string, int64_t>& dims, const std::map<std::string, int64_t>& maxDims,
                      int64_t maxContext, int64_t maxBatch, const std::string& weights, const std::string& weightsHead,
                      bool allLogits, const std::vector<std::string>& weightOverrides, const std::string& calibration,
                      int64_t calibrationChunks, const std::string& ramBudget, bool fit, const std::string& kvType,
                      const std::map<std::string, std::string>& dimSums, const std::string& sensitivityFrom) {
  edgecc::CompileOptions options;
  options.sensitivity_file = sensitivityFrom;
  if (!edgecc::graph::isKvStorage(kvType)) throw py::value_error("kv_type wants 'f32', 'f16' or 'q8_0', got '" + kvType + "'");
  options.kv_type = kvType;
  if (!ramBudget.empty()) {
    options.ram_budget = edgecc::parseByteSize(ramBudget);
    if (options.ram_budget <= 0) throw py::value_error("ram_budget wants a size such as '3GB', '512MiB' or '2000000' (bytes), got '" + ramBudget + "'");
  }
  options.fit = fit;
  options.target = target;
  options.max_context = maxContext;
  options.max_batch = maxBatch;
  options.weights = weights;
  options.weights_head = weightsHead;
  options.all_logits = allLogits;
  options.weight_overrides = weightOverrides;
  options.calibration_text = calibration;
  options.calibration_chunks = calibrationChunks;
  options.import.dims = dims;
  options.import.max_dims = maxDims;
  options.import.dim_sums = dimSums;
  llvm::Expected<edgecc::CompileResult> r = [&] {
    py::gil_scoped_release release;
    return edgecc::compileModelToBundle(model, outDir, options);
  }();
  if (!r) raise(r.takeError());
  py::dict ops;
  for (auto& [k, n] : r->graph_ops) ops[py::str(k)] = n;
  py::dict kernels;
  for (auto& [k, n] : r->bundle.kernel_counts) kernels[py::str(k)] = n;
  py::dict d;
  d["target"] = r->target;
  d["op_counts"] = ops;
  d["kernel_counts"] = kernels;
  d["kernel_calls"] = r->bundle.kernel_calls;
  d["arena_bytes"] = r->bundle.arena_bytes;
  d["weight_bytes"] = r->bundle.weight_bytes;
  // The resident memory plan, as report.json has it ("memory"): items, total, budget.
  d["memory"] = py::module_::import("json").attr("loads")(edgecc::residentPlanJson(r->plan, r->ram_budget));
  d["fitted"] = r->fitted;
  d["fitted_kl"] = r->fitted_kl;
  d["fitted_flags"] = r->fitted_flags;
  return d;
}

ek::DType dtypeOfArray(const py::array& a) {
  const char kind = a.dtype().kind();
  const size_t size = size_t(a.itemsize());
  if (kind == 'f' && size == 2) return ek::DType::F16;
  if (kind == 'f' && size == 4) return ek::DType::F32;
  if (kind == 'f' && size == 8) return ek::DType::F64;
  if (kind == 'i' && size == 8) return ek::DType::I64;
  if (kind == 'i' && size == 4) return ek::DType::I32;
  if (kind == 'i' && size == 2) return ek::DType::I16;
  if (kind == 'i' && size == 1) return ek::DType::I8;
  if (kind == 'u' && size == 1) return ek::DType::U8;
  if (kind == 'u' && size == 2) return ek::DType::U16;
  if (kind == 'u' && size == 4) return ek::DType::U32;
  if (kind == 'u' && size == 8) return ek::DType::U64;
  if (kind == 'b') return ek::DType::Bool;
  throw std::invalid_argument("unsupported numpy dtype " + std::string(py::str(a.dtype())));
}

py::dtype numpyDtype(ek::DType t) {
  switch (t) {
    case ek::DType::F32: return py::dtype::of<float>();
    case ek::DType::F64: return py::dtype::of<double>();
    case ek::DType::I64: return py::dtype::of<int64_t>();
    case ek::DType::I32: return py::dtype::of<int32_t>();
    case ek::DType::I16: return py::dtype::of<int16_t>();
    case ek::DType::U16: return py::dtype::of<uint16_t>();
    case ek::DType::I8: return py::dtype::of<int8_t>();
    case ek::DType::U8: return py::dtype::of<uint8_t>();
    case ek::DType::Bool: return py::dtype::of<bool>();
    case ek::DType::U32: return py::dtype::of<uint32_t>();
    case ek::DType::U64: return py::dtype::of<uint64_t>();
    case ek::DType::F16: return py::dtype("float16");
    case ek::DType::BF16: return py::dtype::of<uint16_t>();  // numpy has no bfloat16: the raw bits
  }
  throw std::invalid_argument("unknown dtype");
}

// A built (or buildable) bundle directory. run() exchanges tensors with the bundle's runner
// through TensorProto files, exactly as `edgecc run BUNDLE` does.
class Bundle {
 public:
  explicit Bundle(std::string dir) : dir_(std::move(dir)) {
    if (!edgecc::isBundleDir(dir_)) throw std::invalid_argument(dir_ + " is not an edgecc bundle (no model.cpp/weights.bin)");
  }

  std::vector<py::array> run(const std::vector<py::array>& inputs) {
    llvm::SmallString<128> tmp;
    if (llvm::sys::fs::createUniqueDirectory("edgecc-py", tmp)) throw std::runtime_error("cannot create a temporary directory");
    const std::string in = std::string(tmp) + "/in", out = std::string(tmp) + "/out";
    llvm::sys::fs::create_directories(in);
    for (size_t k = 0; k < inputs.size(); ++k) {
      py::array a = py::array::ensure(inputs[k], py::array::c_style);
      ek::HostTensor t;
      t.name = "input_" + std::to_string(k);
      t.dtype = dtypeOfArray(a);
      t.dims.assign(a.shape(), a.shape() + a.ndim());
      t.data.resize(size_t(a.nbytes()));
      std::memcpy(t.data.data(), a.data(), t.data.size());
      std::string error;
      if (!ek::write_tensor_file(in + "/input_" + std::to_string(k) + ".pb", t, &error)) throw std::runtime_error(error);
    }
    edgecc::RunRequest r;
    r.model = dir_;
    r.inputs_dir = in;
    r.outputs_dir = out;
    llvm::Expected<std::string> ran = [&] {
      py::gil_scoped_release release;
      return edgecc::compileBuildRun(r);
    }();
    if (!ran) {
      llvm::sys::fs::remove_directories(tmp);
      raise(ran.takeError());
    }
    auto tensors = edgecc::readTensorDir(out, "output");
    llvm::sys::fs::remove_directories(tmp);
    if (!tensors) raise(tensors.takeError());
    std::vector<py::array> result;
    for (ek::HostTensor& t : *tensors) {
      py::array a(numpyDtype(t.dtype), std::vector<py::ssize_t>(t.dims.begin(), t.dims.end()));
      std::memcpy(a.mutable_data(), t.data.data(), t.data.size());
      result.push_back(a);
    }
    return result;
  }

  // Text generation with the bundle's model_generate tool (built on first use); returns its
  // --json result as a dict.
  py::dict generate(const py::object& prompt, int n, float temperature, int topK, float topP, float repeatPenalty,
                    uint64_t seed, int threads, bool ignoreEos) {
    std::vector<std::string> cmd;
    if (py::isinstance<py::str>(prompt)) {
      cmd = {"--prompt", prompt.cast<std::string>()};
    } else {
      std::string ids;
      for (int64_t id : prompt.cast<std::vector<int64_t>>()) ids += (ids.empty() ? "" : ",") + std::to_string(id);
      cmd = {"--prompt-ids", ids};
    }
    auto number = [](double v) {
      std::ostringstream os;
      os.imbue(std::locale::classic());
      os << v;
      return os.str();
    };
    cmd.insert(cmd.end(), {"-n", std::to_string(n), "--temperature", number(temperature), "--top-k", std::to_string(topK),
                           "--top-p", number(topP), "--repeat-penalty", number(repeatPenalty), "--seed",
                           std::to_string(seed), "--threads", std::to_string(threads), "--json"});
    if (ignoreEos) cmd.push_back("--ignore-eos");
    return runGenerateTool(cmd);
  }

  // Perplexity over a text file, chunked as llama-perplexity does (the bundle must have been
  // compiled with all_logits=True). Returns the tool's --json result as a dict.
  py::dict perplexity(const std::string& textFile, int64_t ctx, int64_t chunks, int threads) {
    std::vector<std::string> cmd = {"--perplexity", textFile, "--threads", std::to_string(threads), "--json"};
    if (ctx > 0) cmd.insert(cmd.end(), {"--ctx", std::to_string(ctx)});
    if (chunks > 0) cmd.insert(cmd.end(), {"--chunks", std::to_string(chunks)});
    return runGenerateTool(cmd);
  }

  const std::string& dir() const { return dir_; }

 private:
  // Runs the bundle's model_generate tool (built on first use) with `cmd`; its last output
  // line is a JSON object.
  py::dict runGenerateTool(std::vector<std::string> cmd) {
    std::string out;
    int rc = 0;
    {
      py::gil_scoped_release release;
      auto tool = edgecc::prepareGenerate(dir_, edgecc::CompileOptions(), "");
      if (!tool) {
        py::gil_scoped_acquire acquire;
        raise(tool.takeError());
      }
      cmd.insert(cmd.begin(), {tool->exe, "--dir", tool->bundle});
      rc = edgecc::runProgram(cmd, &out);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    if (rc != 0) throw std::runtime_error(out.empty() ? "the bundle's model_generate tool failed" : out);
    const std::string last = out.substr(out.find_last_of('\n') == std::string::npos ? 0 : out.find_last_of('\n') + 1);
    return py::module_::import("json").attr("loads")(last).cast<py::dict>();
  }

  std::string dir_;
};

}  // namespace

PYBIND11_MODULE(edgecc, m) {
  m.doc() = "edgecc: compile ONNX transformer models into standalone C++ bundles";
  m.def("compile", &compileModel, py::arg("model"), py::arg("out_dir"), py::arg("target") = "x86-64-avx2",
        py::arg("dims") = std::map<std::string, int64_t>{}, py::arg("max_dims") = std::map<std::string, int64_t>{},
        py::arg("max_context") = 0, py::arg("max_batch") = 0, py::arg("weights") = "", py::arg("weights_head") = "",
        py::arg("all_logits") = false, py::arg("weight_overrides") = std::vector<std::string>{},
        py::arg("calibration") = "", py::arg("calibration_chunks") = 0, py::arg("ram_budget") = "", py::arg("fit") = false,
        py::arg("kv_type") = "f32", py::arg("dim_sums") = std::map<std::string, std::string>{}, py::arg("sensitivity_from") = "",
        "Compile an ONNX or GGUF model into a C++ bundle in out_dir. `dims` fixes named (dynamic) dimensions; "
        "`dim_sums` names dims that are sums of others ({'total_seq': 'past_seq+seq'}) where the graph does not say; "
        "`max_context` gives LLMs an in-place KV cache of that many positions (GGUF: always; 0 = the model's); "
        "`max_batch` bounds the tokens per step; "
        "`max_dims` keeps them symbolic up to a bound, so one bundle runs every size. `weights` converts float "
        "weights to f32, f16, q8_0, q4_0, q6_k, q5_k, q4_k, q3_k or q2_k while compiling (`weights_head`: the embedding table and output head); "
        "`weight_overrides` puts single tensors in their own format (['blk.0.ffn_down.weight=q4_k', ...]); "
        "`calibration` (a text file) rounds `weights` with error feedback from the model's inputs over it "
        "(`calibration_chunks` chunks of its context, 0 = 32); "
        "`all_logits` makes a GGUF bundle return every position's logits (for perplexity). `ram_budget` ('3GB'; default: the target's) refuses a plan over it, "
        "with the plan and what would fit in the error; `fit` compiles the most accurate of those instead; "
        "`sensitivity_from` (the JSON of `edgecc quality --sensitivity`) predicts their losses from the model's own "
        "measurements and adds a format per weight tensor. "
        "`kv_type` ('f32', 'f16', 'q8_0') is how the KV cache stores keys and values. "
        "Returns a summary: op_counts, kernel_counts, kernel_calls, arena_bytes, weight_bytes, target, memory (the "
        "resident plan as in report.json: items with bytes, file_backed and basis; total_bytes, budget_bytes), fitted "
        "(what --fit chose, or ''), fitted_flags (the same as compile flags), fitted_kl (their predicted loss: KL in nats per token from the f32 model). Raises RuntimeError naming the node on failure.");
  m.def("targets", [] {
    std::vector<std::string> names;
    for (const auto& p : edgecc::deviceProfiles()) names.push_back(p.name);
    names.push_back("native");
    return names;
  }, "Names of the known device profiles (\"native\": this CPU, detected).");
  m.def("supported_ops", &edgecc::supportedOnnxOps, "ONNX operators the importer accepts.");
  m.def("quantize_rows", [](py::array_t<float, py::array::c_style | py::array::forcecast> rows, const std::string& format,
                            std::optional<py::array_t<float, py::array::c_style | py::array::forcecast>> moments) {
    auto f = edgecc::parseQuantizableFormat(format);
    if (!f) throw std::invalid_argument("unknown format '" + format + "' (" + formatList() + ")");
    if (rows.ndim() != 2) throw std::invalid_argument("quantize_rows takes a 2-D array [rows, k]");
    const int64_t n = rows.shape(0), k = rows.shape(1);
    if (k % edgecc::blockValues(*f) != 0)
      throw std::invalid_argument("rows of " + std::to_string(k) + " values are not whole blocks of " +
                                  std::to_string(edgecc::blockValues(*f)));
    std::string out(size_t(n * ek::row_bytes(*f, k)), '\0');
    if (moments) {
      if (!ek::is_quantized(*f)) throw std::invalid_argument("error-feedback rounding needs a quantized format, not " + format);
      if (moments->ndim() != 2 || moments->shape(0) != k || moments->shape(1) != k)
        throw std::invalid_argument("moments must be a [k, k] array (k = " + std::to_string(k) + ")");
      std::string why;
      if (!edgecc::quantizeRowsWithFeedback(*f, rows.data(), n, k, moments->data(), reinterpret_cast<uint8_t*>(out.data()), &why))
        throw std::runtime_error(why);
    } else {
      edgecc::quantizeRows(*f, rows.data(), n, k, reinterpret_cast<uint8_t*>(out.data()));
    }
    return py::bytes(out);
  }, py::arg("rows"), py::arg("format"), py::arg("moments") = py::none(),
        "Rows of float32 values in a stored weight format (ggml's bytes: the compiler's --weights arithmetic). "
        "With `moments` (the [k, k] sum of x x^T over the layer's inputs), rounding with error feedback: "
        "the same format, a smaller error on those inputs.");
  m.def("dequantize_rows", [](py::bytes data, const std::string& format, int64_t k) {
    auto f = edgecc::parseQuantizableFormat(format);
    if (!f) throw std::invalid_argument("unknown format '" + format + "' (" + formatList() + ")");
    const std::string bytes = data;
    const int64_t rowBytes = ek::row_bytes(*f, k);
    if (k <= 0 || k % edgecc::blockValues(*f) != 0 || rowBytes == 0 || int64_t(bytes.size()) % rowBytes != 0)
      throw std::invalid_argument("the bytes are not whole " + format + " rows of " + std::to_string(k) + " values");
    const int64_t n = int64_t(bytes.size()) / rowBytes;
    py::array_t<float> out({n, k});
    for (int64_t r = 0; r < n; ++r)
      ek::row_values(*f, reinterpret_cast<const uint8_t*>(bytes.data()) + r * rowBytes, out.mutable_data(r, 0), k);
    return out;
  }, py::arg("data"), py::arg("format"), py::arg("k"),
        "Stored weight rows back to float32 [rows, k], as the bundles' kernels read them.");
  py::class_<Bundle>(m, "Bundle")
      .def(py::init<std::string>(), py::arg("dir"))
      .def("run", &Bundle::run, py::arg("inputs"),
           "Build the bundle if needed and run it on numpy arrays (graph-input order); returns the outputs.")
      .def("generate", &Bundle::generate, py::arg("prompt"), py::arg("n") = 32, py::arg("temperature") = 0.f,
           py::arg("top_k") = 0, py::arg("top_p") = 1.f, py::arg("repeat_penalty") = 1.f, py::arg("seed") = 0,
           py::arg("threads") = 1, py::arg("ignore_eos") = false,
           "Generate up to n tokens after `prompt` (text, or a list of token ids). Returns a dict: prompt_ids, ids, "
           "text, prefill_tok_s, decode_tok_s, load_ms, peak_rss_bytes. Raises RuntimeError with the bundle's message "
           "(context full, id outside the vocabulary, ...).")
      .def("perplexity", &Bundle::perplexity, py::arg("text_file"), py::arg("ctx") = 0, py::arg("chunks") = 0,
           py::arg("threads") = 1,
           "Perplexity over a text file, chunked as llama-perplexity (compile with all_logits=True). Returns a dict: "
           "ppl, ppl_error, bits_per_byte, chunks, n_ctx, tokens, scored_tokens, scored_bytes, seconds.")
      .def_property_readonly("dir", &Bundle::dir);
}
