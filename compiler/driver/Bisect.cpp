#include "compiler/driver/Bisect.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include "codegen/EmbeddedRuntime.h"
#include "compiler/driver/BundleBuild.h"
#include "compiler/driver/ModelRunner.h"
#include "compiler/import/GgufFile.h"
#include "compiler/import/GgufImporter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "onnx/onnx_pb.h"

namespace edgecc {

// compiler/driver/ort_reference.js, embedded at build time (compiler/CMakeLists.txt).
const std::vector<EmbeddedFile>& embeddedReferenceScripts();

bool NodeDiff::diverges() const {
  return std::any_of(outputs.begin(), outputs.end(), [](const ValueDiff& v) { return v.diverges(); });
}

namespace {

using Tensors = std::map<std::string, ek::HostTensor>;

llvm::Error fail(const std::string& msg) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", msg.c_str()); }

// ONNX Runtime's names for the element types both sides know.
constexpr std::pair<ek::DType, const char*> kOrtTypes[] = {
    {ek::DType::F32, "float32"}, {ek::DType::F64, "float64"}, {ek::DType::F16, "float16"}, {ek::DType::I8, "int8"},
    {ek::DType::U8, "uint8"},    {ek::DType::I16, "int16"},   {ek::DType::U16, "uint16"},  {ek::DType::I32, "int32"},
    {ek::DType::U32, "uint32"},  {ek::DType::I64, "int64"},   {ek::DType::U64, "uint64"},  {ek::DType::Bool, "bool"}};

bool writeFile(const std::string& path, const void* data, size_t size) {
  std::ofstream f(path, std::ios::binary);
  f.write(static_cast<const char*>(data), std::streamsize(size));
  return bool(f);
}

// As the importer names a node in its errors: unnamed ones by op type and position.
std::string nodeName(const onnx::NodeProto& n, size_t index) {
  return n.name().empty() ? n.op_type() + "#" + std::to_string(index) : n.name();
}

// DIR/outputs.json ({name, dtype, dims, file} per tensor, dims outermost first) and the raw
// files it lists: what ort_reference.js and llama_ref write.
llvm::Expected<Tensors> readTensorManifest(const std::string& dir, const std::string& writer) {
  auto manifest = llvm::MemoryBuffer::getFile(dir + "/outputs.json");
  if (!manifest) return fail(dir + "/outputs.json: " + writer + " wrote no outputs");
  auto parsed = llvm::json::parse((*manifest)->getBuffer());
  if (!parsed || !parsed->getAsArray()) return fail(dir + "/outputs.json: not a JSON list");
  Tensors tensors;
  for (const llvm::json::Value& v : *parsed->getAsArray()) {
    const llvm::json::Object* e = v.getAsObject();
    auto name = e ? e->getString("name") : std::nullopt;
    auto type = e ? e->getString("dtype") : std::nullopt;
    auto file = e ? e->getString("file") : std::nullopt;
    const llvm::json::Array* dims = e ? e->getArray("dims") : nullptr;
    if (!name || !type || !file || !dims) return fail(dir + "/outputs.json: an entry lacks name, dtype, dims or file");
    ek::HostTensor t;
    t.name = name->str();
    bool known = false;
    for (auto [dtype, ort] : kOrtTypes)
      if (*type == ort) { t.dtype = dtype; known = true; }
    if (!known) continue;  // a type edgecc never produces (string): nothing to compare
    for (const llvm::json::Value& d : *dims) t.dims.push_back(d.getAsInteger().value_or(-1));
    auto bytes = llvm::MemoryBuffer::getFile(dir + "/" + file->str(), /*IsText=*/false, /*RequiresNullTerminator=*/false);
    if (!bytes || (*bytes)->getBufferSize() != t.view().bytes()) return fail(dir + "/" + file->str() + ": not the size its shape needs");
    t.data.assign((*bytes)->getBufferStart(), (*bytes)->getBufferEnd());
    tensors[t.name] = std::move(t);
  }
  return tensors;
}

// The reference: the probe model run by ONNX Runtime for Node, every output by name.
llvm::Expected<Tensors> runOnnxRuntime(const BisectOptions& o, const std::string& probe, const onnx::GraphProto& g,
                                       const std::vector<ek::HostTensor>& inputs, const std::string& dir,
                                       std::string* version) {
  auto package = llvm::MemoryBuffer::getFile(o.ort_module + "/package.json");
  if (!package)
    return fail("ONNX Runtime for Node not found in " + o.ort_module +
                " (install it with scripts/setup_onnxruntime.sh, or pass --reference DIR with tensors of your own)");
  if (auto json = llvm::json::parse((*package)->getBuffer()))
    if (auto v = json->getAsObject()->getString("version")) *version = v->str();
  auto node = llvm::sys::findProgramByName("node");
  if (!node) node = llvm::sys::findProgramByName("nodejs");
  if (!node) return fail("bisect needs Node.js ('node') to run ONNX Runtime; install it (apt install nodejs)");

  llvm::sys::fs::create_directories(dir);
  std::set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  llvm::json::Array listed;
  size_t k = 0;
  for (const auto& in : g.input()) {
    if (initializers.count(in.name())) continue;
    if (k >= inputs.size()) return fail(o.inputs_dir + ": the model takes more inputs than the " + std::to_string(inputs.size()) + " given");
    const ek::HostTensor& t = inputs[k];
    const char* type = nullptr;
    for (auto [dtype, name] : kOrtTypes)
      if (dtype == t.dtype) type = name;
    if (!type) return fail("input '" + in.name() + "': ONNX Runtime for Node takes no " + ek::dtype_name(t.dtype) + " tensors");
    const std::string file = "in_" + std::to_string(k) + ".bin";
    if (!writeFile(dir + "/" + file, t.data.data(), t.data.size())) return fail(dir + ": cannot write");
    listed.push_back(llvm::json::Object{{"name", in.name()}, {"dtype", type}, {"dims", llvm::json::Array(t.dims)}, {"file", file}});
    ++k;
  }
  {
    std::ofstream f(dir + "/inputs.json");
    f << llvm::formatv("{0}", llvm::json::Value(std::move(listed))).str();
  }
  const std::string script = dir + "/ort_reference.js";
  const char* js = embeddedReferenceScripts().front().content;
  if (!writeFile(script, js, std::strlen(js))) return fail(dir + ": cannot write");
  std::string out;
  if (runProgram({*node, script, o.ort_module, probe, dir}, &out) != 0) {
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return fail(probe + ": " + out);
  }
  return readTensorManifest(dir, "ONNX Runtime");
}

// The reference: TensorProto files in a directory, by their `name` field (else the file name).
llvm::Expected<Tensors> readReferenceDir(const std::string& dir) {
  if (!llvm::sys::fs::is_directory(dir)) return fail(dir + ": not a directory (--reference takes 'ort' or a directory of .pb tensors)");
  Tensors tensors;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec)) {
    if (llvm::sys::path::extension(it->path()) != ".pb") continue;
    ek::HostTensor t;
    std::string error;
    if (!ek::read_tensor_file(it->path(), &t, &error)) return fail(error);
    if (t.name.empty()) t.name = llvm::sys::path::stem(it->path()).str();
    tensors[t.name] = std::move(t);
  }
  if (tensors.empty()) return fail(dir + ": no .pb tensors to compare with");
  return tensors;
}

// --reference DIR: the user's tensors are the reference, named by the directory.
llvm::Error readUserReference(const BisectOptions& o, Tensors* reference, BisectResult* result) {
  auto read = readReferenceDir(o.reference);
  if (!read) return read.takeError();
  *reference = std::move(*read);
  result->reference = o.reference;
  return llvm::Error::success();
}

// External data files sit beside the model: link them beside the probe too.
llvm::Error linkExternalData(const onnx::GraphProto& g, const std::string& modelDir, const std::string& workDir) {
  for (const auto& t : g.initializer()) {
    if (t.data_location() != onnx::TensorProto::EXTERNAL) continue;
    for (const auto& kv : t.external_data()) {
      if (kv.key() != "location" || llvm::StringRef(kv.value()).contains("..") || llvm::sys::path::is_absolute(kv.value())) continue;
      llvm::SmallString<256> from(modelDir), to(workDir);
      llvm::sys::path::append(from, kv.value());
      llvm::sys::path::append(to, kv.value());
      llvm::sys::fs::make_absolute(from);
      if (llvm::sys::fs::exists(to)) continue;
      llvm::sys::fs::create_directories(llvm::sys::path::parent_path(to));
      if (llvm::sys::fs::create_link(from, to)) return fail(std::string(to) + ": cannot link the external data file " + std::string(from));
    }
  }
  return llvm::Error::success();
}

llvm::Expected<Tensors> runEdgecc(const std::string& inputsDir, const CompileOptions& compile, const std::string& model,
                                  const std::string& bundle, const std::string& outputs,
                                  const std::vector<std::string>& outputNames) {
  RunRequest r;
  r.model = model;
  r.inputs_dir = inputsDir;
  r.bundle_dir = bundle;
  r.outputs_dir = outputs;
  r.compile = compile;
  if (auto ran = compileBuildRun(r); !ran) return ran.takeError();
  auto got = readTensorDir(outputs, "output");
  if (!got) return got.takeError();
  if (got->size() != outputNames.size())
    return fail(bundle + ": the bundle wrote " + std::to_string(got->size()) + " outputs, the model has " + std::to_string(outputNames.size()));
  Tensors tensors;
  for (size_t k = 0; k < outputNames.size(); ++k) tensors[outputNames[k]] = std::move((*got)[k]);
  return tensors;
}

ValueDiff compareValue(const std::string& name, const Tensors& ours, const Tensors& reference, const Tolerance& tolerance) {
  ValueDiff v;
  v.value = name;
  auto want = reference.find(name);
  auto got = ours.find(name);
  if (want == reference.end() || got == ours.end()) return v;
  v.has_reference = true;
  v.dims = want->second.dims;
  v.diff = diffTensors(got->second, want->second, tolerance);
  return v;
}

}  // namespace

llvm::Expected<BisectResult> bisectOnnx(const BisectOptions& o) {
  auto progress = [&](const std::string& stage) {
    if (o.progress) o.progress(stage);
  };
  onnx::ModelProto model;
  {
    std::ifstream f(o.model, std::ios::binary);
    if (!f) return fail(o.model + ": cannot open file");
    if (!model.ParseFromIstream(&f) || !model.has_graph()) return fail(o.model + ": not a valid ONNX model (protobuf parse failed)");
  }
  auto inputs = readTensorDir(o.inputs_dir, "input");
  if (!inputs) return inputs.takeError();
  if (inputs->empty()) return fail(o.inputs_dir + ": no input_0.pb");
  BisectResult result;
  result.work_dir = o.work_dir;
  llvm::sys::fs::create_directories(o.work_dir);

  // The probe: the model's outputs first (so its own outputs keep their order), then every
  // node output in graph order. Constant nodes only restate their attribute.
  const onnx::GraphProto& g = model.graph();
  onnx::ModelProto probe = model;
  std::set<std::string> exposed;
  std::vector<std::string> modelOutputs, probeOutputs;
  for (const auto& out : g.output()) {
    modelOutputs.push_back(out.name());
    exposed.insert(out.name());
  }
  probeOutputs = modelOutputs;
  for (int i = 0; i < g.node_size(); ++i) {
    const onnx::NodeProto& n = g.node(i);
    if (n.op_type() == "Constant") continue;
    NodeDiff node;
    node.name = nodeName(n, size_t(i));
    node.op_type = n.op_type();
    node.inputs.assign(n.input().begin(), n.input().end());
    for (const std::string& out : n.output()) {
      if (out.empty()) continue;
      node.outputs.push_back(ValueDiff{out});
      if (exposed.insert(out).second) {
        probe.mutable_graph()->add_output()->set_name(out);
        probeOutputs.push_back(out);
      }
    }
    result.nodes.push_back(std::move(node));
  }
  const std::string probePath = o.work_dir + "/probe.onnx";
  {
    std::ofstream f(probePath, std::ios::binary);
    if (!probe.SerializeToOstream(&f)) return fail(probePath + ": cannot write");
  }
  if (auto e = linkExternalData(g, llvm::sys::path::parent_path(o.model).str(), o.work_dir)) return std::move(e);

  Tensors reference;
  if (o.reference == "ort") {
    progress("ONNX Runtime: running the model with its " + std::to_string(probeOutputs.size()) + " intermediates as outputs");
    std::string version;
    auto ran = runOnnxRuntime(o, probePath, g, *inputs, o.work_dir + "/reference", &version);
    if (!ran) return ran.takeError();
    reference = std::move(*ran);
    result.reference = "ONNX Runtime " + version;
  } else if (auto e = readUserReference(o, &reference, &result)) {
    return std::move(e);
  }
  // The model as compiled for shipping first: an error in it (an unsupported op, a shape that
  // does not fit) then names the user's file, not the probe. Exposing intermediates keeps ops
  // from fusing, so the shipped program may run kernels the probe never runs: its own outputs
  // are compared too.
  CompileOptions compile;
  compile.target = o.target;
  progress("edgecc: compiling and running the model as shipped");
  auto shipped = runEdgecc(o.inputs_dir, compile, o.model, o.work_dir + "/bundle", o.work_dir + "/outputs", modelOutputs);
  if (!shipped) return shipped.takeError();
  for (const std::string& name : modelOutputs) result.shipped.push_back(compareValue(name, *shipped, reference, o.tolerance));

  progress("edgecc: compiling and running the probe model (every intermediate an output)");
  auto ours = runEdgecc(o.inputs_dir, compile, probePath, o.work_dir + "/probe-bundle", o.work_dir + "/probe-outputs", probeOutputs);
  if (!ours) return fail("the probe model (every intermediate an output): " + llvm::toString(ours.takeError()));
  for (size_t i = 0; i < result.nodes.size(); ++i) {
    for (ValueDiff& v : result.nodes[i].outputs) v = compareValue(v.value, *ours, reference, o.tolerance);
    if (result.first_divergent < 0 && result.nodes[i].diverges()) result.first_divergent = int(i);
  }
  return result;
}

namespace {

// What computes each value the GGUF probe exposes, and the values it reads.
void describeGgufValue(const std::string& name, int64_t layers, NodeDiff* node) {
  const size_t dash = name.rfind('-');
  const std::string kind = dash == std::string::npos ? name : name.substr(0, dash);
  const int64_t l = dash == std::string::npos ? layers : std::stoll(name.substr(dash + 1));
  const std::string at = "-" + std::to_string(l), previous = l > 0 ? "l_out-" + std::to_string(l - 1) : "";
  auto set = [&](const char* op, std::vector<std::string> inputs) {
    node->op_type = op;
    node->inputs = std::move(inputs);
  };
  if (kind == "attn_norm") set("rms_norm", {previous});  // layer 0 reads the embedding rows
  else if (kind == "kqv_out") set("q/k/v, rope, attention", {"attn_norm" + at});
  else if (kind == "attn_out") set("linear attn_output", {"kqv_out" + at});
  else if (kind == "ffn_inp") set("add (residual)", {"attn_out" + at, previous});
  else if (kind == "ffn_norm") set("rms_norm", {"ffn_inp" + at});
  else if (kind == "ffn_out") set("gate, up, silu, down", {"ffn_norm" + at});
  else if (kind == "l_out") set("add (residual)", {"ffn_inp" + at, "ffn_out" + at});
  else if (kind == "result_norm") set("rms_norm", {"l_out-" + std::to_string(layers - 1)});
  else if (kind == "result_output") set("linear output", {"result_norm"});
}

}  // namespace

llvm::Expected<BisectResult> bisectGguf(const BisectOptions& o) {
  auto progress = [&](const std::string& stage) {
    if (o.progress) o.progress(stage);
  };
  if (o.tokens.empty()) return fail(o.model + ": bisect of a GGUF model needs --tokens");
  BisectResult result;
  result.work_dir = o.work_dir;
  const std::string inputs = o.work_dir + "/inputs";
  llvm::sys::fs::create_directories(inputs);
  ek::HostTensor ids;
  ids.dtype = ek::DType::I32;
  ids.dims = {1, int64_t(o.tokens.size())};
  ids.data.resize(o.tokens.size() * sizeof(int32_t));
  std::memcpy(ids.data.data(), o.tokens.data(), ids.data.size());
  std::string why;
  if (!ek::write_tensor_file(inputs + "/input_0.pb", ids, &why)) return fail(why);
  int64_t layers = 0;
  {
    auto file = gguf::File::open(o.model);
    if (!file) return file.takeError();
    auto arch = (*file)->getString("general.architecture");
    if (!arch) return arch.takeError();
    auto count = (*file)->getInt(*arch + ".block_count");
    if (!count) return count.takeError();
    layers = *count;
  }

  Tensors reference;
  if (o.reference == "ort" || o.reference == "llama.cpp") {
    if (!llvm::sys::fs::can_execute(o.llama_ref))
      return fail("llama.cpp's reference runner not found at " + o.llama_ref +
                  " (build it with scripts/setup_llama_ref.sh, or pass --reference DIR with tensors of your own)");
    const std::string dir = o.work_dir + "/reference";
    llvm::sys::fs::create_directories(dir);
    std::string idList;
    for (int32_t t : o.tokens) idList += (idList.empty() ? "" : ",") + std::to_string(t);
    progress("llama.cpp: one batch of " + std::to_string(o.tokens.size()) + " tokens, its intermediates kept");
    std::string out;
    if (runProgram({o.llama_ref, "forced", o.model, "--ids", idList, "--tensors", dir}, &out) != 0) {
      while (!out.empty() && out.back() == '\n') out.pop_back();
      return fail(o.model + ": llama.cpp: " + out);
    }
    auto read = readTensorManifest(dir, "llama.cpp");
    if (!read) return read.takeError();
    reference = std::move(*read);
    result.reference = "llama.cpp";
  } else if (auto e = readUserReference(o, &reference, &result)) {
    return std::move(e);
  }

  // The probe reads the file itself: an unsupported tensor or architecture names the user's file.
  CompileOptions compile;
  compile.target = o.target;
  compile.gguf_probe_tokens = compile.max_context = compile.max_batch = int64_t(o.tokens.size());
  std::vector<std::string> names = {"result_output"};  // the probe's results: the logits first
  for (const std::string& name : ggufProbeValueNames(layers)) names.push_back(name);
  progress("edgecc: compiling and running the probe (every intermediate llama.cpp names an output)");
  auto ours = runEdgecc(inputs, compile, o.model, o.work_dir + "/probe-bundle", o.work_dir + "/probe-outputs", names);
  if (!ours) return ours.takeError();
  // llama.cpp's rows are [tokens, width], ours [1, tokens, width]: the same order.
  for (auto& [name, want] : reference) {
    auto got = ours->find(name);
    if (got != ours->end() && got->second.view().numel() == want.view().numel()) want.dims = got->second.dims;
  }
  std::rotate(names.begin(), names.begin() + 1, names.end());  // graph order: the logits last
  for (const std::string& name : names) {
    NodeDiff node;
    node.name = name;
    describeGgufValue(name, layers, &node);
    node.outputs.push_back(compareValue(name, *ours, reference, o.tolerance));
    if (result.first_divergent < 0 && node.diverges()) result.first_divergent = int(result.nodes.size());
    result.nodes.push_back(std::move(node));
  }
  return result;
}

namespace {

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

std::string errorSummary(const ValueDiff& v) {
  if (!v.has_reference) return "not in the reference";
  const TensorDiff& d = v.diff;
  if (!d.problem.empty()) return d.problem;
  std::string ratio = d.max_ratio > 0 ? ", " + num(d.max_ratio) + " x its tolerance" : "";
  if (d.agrees()) return "agrees (max |error| " + num(d.max_abs) + ratio + ")";
  return std::to_string(d.beyond) + " of " + std::to_string(d.elements) + " elements beyond tolerance; max |error| " +
         num(d.max_abs) + ratio + "; max |want| " + num(d.ref_max);
}

// A node's largest error over its compared outputs, as a multiple of its tolerance (infinite
// for a mismatched shape, type or integer), and how many elements are beyond.
struct NodeError {
  double max_abs = 0, ratio = 0;
  int64_t beyond = 0;
};
NodeError nodeError(const NodeDiff& n) {
  NodeError e;
  for (const ValueDiff& v : n.outputs) {
    if (!v.has_reference) continue;
    const bool exactMismatch = !v.diff.problem.empty() || (v.diff.beyond > 0 && v.diff.max_ratio == 0);
    e.max_abs = std::max(e.max_abs, v.diff.problem.empty() ? v.diff.max_abs : INFINITY);
    e.ratio = std::max(e.ratio, exactMismatch ? INFINITY : v.diff.max_ratio);
    e.beyond += v.diff.beyond;
  }
  return e;
}

}  // namespace

std::string bisectText(const BisectResult& r, const BisectOptions& o) {
  std::string s;
  size_t compared = 0, values = 0;
  std::map<std::string, const ValueDiff*> byValue;
  for (const NodeDiff& n : r.nodes)
    for (const ValueDiff& v : n.outputs) {
      ++values;
      compared += v.has_reference;
      byValue[v.value] = &v;
    }
  s += "bisect " + o.model + ": " + std::to_string(r.nodes.size()) + " nodes, " + std::to_string(compared) + " of " +
       std::to_string(values) + " values compared with " + r.reference + "\n";
  s += "  tolerance: |got - want| <= " + num(o.tolerance.atol) + " + " + num(o.tolerance.rtol) +
       " * max(|want|, median |want| of the tensor); integers and bools exactly\n";
  if (r.first_divergent >= 0) {
    const NodeDiff& n = r.nodes[size_t(r.first_divergent)];
    s += "first divergent node: '" + n.name + "' (" + n.op_type + ")\n";
    for (const ValueDiff& v : n.outputs) {
      s += "  output '" + v.value + "' " + shapeString(v.dims) + ": " + errorSummary(v) + "\n";
      if (v.diverges() && v.diff.problem.empty())
        s += "    worst at " + indexString(v.diff.worst, v.dims) + ": got " + num(v.diff.got) + ", expected " + num(v.diff.want) + "\n";
    }
    for (const std::string& in : n.inputs) {
      if (in.empty()) continue;
      auto it = byValue.find(in);
      s += "  input '" + in + "': " + (it == byValue.end() ? "a graph input or constant (the same on both sides)" : errorSummary(*it->second)) + "\n";
    }
    s += "nodes around it (error over the node's outputs; x tol: the largest error as a multiple of its tolerance):\n";
    char line[256];
    std::snprintf(line, sizeof line, "  %5s  %-40s  %-24s  %11s  %9s  %8s\n", "#", "node", "op", "max |error|", "x tol", "beyond");
    s += line;
    const int from = std::max(0, r.first_divergent - 5), to = std::min(int(r.nodes.size()), r.first_divergent + 6);
    for (int i = from; i < to; ++i) {
      const NodeDiff& m = r.nodes[size_t(i)];
      const NodeError e = nodeError(m);
      std::snprintf(line, sizeof line, "  %5d  %-40s  %-24s  %11s  %9s  %8lld%s\n", i, m.name.c_str(), m.op_type.c_str(),
                    num(e.max_abs).c_str(), num(e.ratio).c_str(), (long long)e.beyond, i == r.first_divergent ? "  <- first" : "");
      s += line;
    }
  } else {
    s += "every compared intermediate agrees";
    int worst = -1;
    double worstRatio = -1;
    for (size_t i = 0; i < r.nodes.size(); ++i)
      if (double ratio = nodeError(r.nodes[i]).ratio; ratio > worstRatio) { worstRatio = ratio; worst = int(i); }
    if (worstRatio == 0)
      s += ", exactly";
    else if (worst >= 0)
      s += "; the closest to its tolerance is '" + r.nodes[size_t(worst)].name + "' (" + r.nodes[size_t(worst)].op_type + "), at " +
           num(worstRatio) + " x";
    s += "\n";
  }
  if (r.shipped.empty()) return s;
  bool shippedDiverges = false;
  for (const ValueDiff& v : r.shipped) shippedDiverges |= v.diverges();
  s += std::string("the model as shipped (fused, nothing exposed): ") + (shippedDiverges ? "its outputs diverge" : "its outputs agree") + "\n";
  for (const ValueDiff& v : r.shipped) s += "  output '" + v.value + "': " + errorSummary(v) + "\n";
  if (shippedDiverges && r.first_divergent < 0)
    s += "the outputs diverge only as shipped: the error is in a kernel that runs when ops fuse (the fused ops and their kernels are in " +
         r.work_dir + "/bundle/report.json)\n";
  return s;
}

std::string bisectJson(const BisectResult& r, const BisectOptions& o) {
  auto number = [](double x) { return std::isfinite(x) ? llvm::json::Value(x) : llvm::json::Value(nullptr); };
  auto value = [&](const ValueDiff& v) {
    llvm::json::Object j{{"value", v.value}, {"compared", v.has_reference}};
    if (!v.has_reference) return j;
    j["dims"] = llvm::json::Array(v.dims);
    if (!v.diff.problem.empty()) { j["problem"] = v.diff.problem; j["diverges"] = true; return j; }
    j["diverges"] = v.diverges();
    j["elements"] = v.diff.elements;
    j["beyond"] = v.diff.beyond;
    j["max_abs_error"] = number(v.diff.max_abs);
    j["max_abs_expected"] = number(v.diff.ref_max);
    j["tolerance_ratio"] = number(v.diff.max_ratio);
    if (v.diff.worst >= 0) {
      j["worst_index"] = v.diff.worst;
      j["got"] = number(v.diff.got);
      j["expected"] = number(v.diff.want);
    }
    return j;
  };
  llvm::json::Array nodes, shipped;
  for (const NodeDiff& n : r.nodes) {
    llvm::json::Array outs;
    for (const ValueDiff& v : n.outputs) outs.push_back(value(v));
    nodes.push_back(llvm::json::Object{{"name", n.name}, {"op_type", n.op_type}, {"diverges", n.diverges()}, {"outputs", std::move(outs)}});
  }
  for (const ValueDiff& v : r.shipped) shipped.push_back(value(v));
  llvm::json::Value first = nullptr;
  if (r.first_divergent >= 0)
    first = llvm::json::Object{{"index", r.first_divergent}, {"name", r.nodes[size_t(r.first_divergent)].name},
                               {"op_type", r.nodes[size_t(r.first_divergent)].op_type}};
  llvm::json::Object doc{{"model", o.model},
                         {"reference", r.reference},
                         {"rtol", o.tolerance.rtol},
                         {"atol", o.tolerance.atol},
                         {"first_divergent", std::move(first)},
                         {"nodes", std::move(nodes)},
                         {"shipped", std::move(shipped)},
                         {"work_dir", r.work_dir}};
  return llvm::formatv("{0:2}", llvm::json::Value(std::move(doc))).str() + "\n";
}

}  // namespace edgecc
