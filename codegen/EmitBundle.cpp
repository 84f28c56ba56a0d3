#include "codegen/EmitBundle.h"


#include <charconv>
#include <cmath>
#include <fstream>
#include <optional>
#include <map>
#include <set>

#include "llvm/ADT/DenseSet.h"
#include <sstream>

#include "codegen/EmbeddedRuntime.h"
#include "codegen/GeneratedKernels.h"
#include "codegen/WeightsWriter.h"
#include "compiler/ir/ConstantData.h"
#include "compiler/ir/KernelMapping.h"
#include "compiler/ir/SymbolicShape.h"
#include "dialects/exec/ExecDialect.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "runtime/kernels/kernels.h"
#include "runtime/weight_format.h"

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace edgecc {
namespace {

std::string dtypeExpr(Type elementType) {
  switch (*dtypeOf(elementType)) {
#define EK_DTYPE_EXPR(name, code, type, size, text) case ek::DType::name: return "ek::DType::" #name;
    EK_DTYPE_LIST(EK_DTYPE_EXPR)
#undef EK_DTYPE_EXPR
  }
  return "";
}

// The C++ element type of a dtype, as generated code names it.
std::string cppType(ek::DType dtype) {
  switch (dtype) {
#define EK_DTYPE_TYPE(name, code, type, size, text) case ek::DType::name: return #type;
    EK_DTYPE_LIST(EK_DTYPE_TYPE)
#undef EK_DTYPE_TYPE
  }
  return "";
}

std::string dimsExpr(ArrayRef<int64_t> shape) {
  std::string s = "{";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "}";
}

// A C++/JSON string literal: anything but printable ASCII is escaped, so a model's names
// can never break out of the literal.
std::string quoted(StringRef s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

// Text from the model (names) for a `//` comment: one line, printable ASCII, no trailing
// backslash that would splice the next line into the comment.
std::string commentText(StringRef s) {
  std::string out;
  for (unsigned char c : s) out += (c < 0x20 || c >= 0x7f || c == '\\') ? '?' : char(c);
  return out;
}

// A float literal that round-trips exactly, independent of the C locale.
std::string floatExpr(float f) {
  if (std::isnan(f)) return "std::numeric_limits<float>::quiet_NaN()";
  if (std::isinf(f)) return f > 0 ? "std::numeric_limits<float>::infinity()" : "-std::numeric_limits<float>::infinity()";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, f);
  std::string text(buf, end);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text + "f";
}

Error fileError(const std::string& path) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot write %s", path.c_str());
}

// Leaves an identical file untouched, so a rebuilt bundle recompiles only what changed.
Error writeFile(const std::string& path, const std::string& content) {
  if (auto old = llvm::MemoryBuffer::getFile(path); old && (*old)->getBuffer() == content) return Error::success();
  std::ofstream f(path, std::ios::binary);
  f << content;
  return f ? Error::success() : fileError(path);
}

struct Emitter {
  ModuleOp module;
  func::FuncOp func;
  const BundleOptions& options;
  WeightsWriter& weights;
  SymbolBounds bounds;
  BundleSummary summary;
  llvm::DenseMap<Value, uint32_t> buffers = llvm::DenseMap<Value, uint32_t>();  // each buffer's row in kBuffers
  // The forward pass as tables (runtime/forward_plan.h): rows of kBuffers, kSteps, kOperands,
  // kStepExtras and kAttrPatches; kKernels and kAttrs hold each distinct kernel and attribute
  // set once (the layers of a model repeat them); the distinct shapes and run-time values
  // forward() builds.
  std::vector<std::string> bufferRows, stepRows, extraRows, patchRows, kernelRows, attrRows = {"{},  // 0: none"};
  std::map<std::string, uint32_t> kernelIds, attrIds = {{"{}", 0}};
  std::vector<uint32_t> operandList;
  std::vector<std::string> shapeRows, valueExprs;
  std::map<std::string, uint32_t> shapeIds, valueIds;
  size_t maxOperands = 1;
  std::set<std::string> variants;       // ISA namespaces of the kernel variants called
  std::vector<std::pair<int64_t, int64_t>> rowTables;  // {offset, bytes} of weights only embedding reads
  std::vector<std::string> opReports;  // report.json: what runs for each op, and why
  llvm::DenseSet<Value> observed;       // inputs already handed to ek::observe_input

  // A model whose KV cache became state (the KV-cache pass) gets the LLM interface.
  struct KvInfo {
    int pastSymbol = -1;
    int64_t capacity = 0;
    SymDim endPosition;  // the position after a call: past + new rows
    int64_t stateBytes = 0;
    std::vector<std::string> inputRoles;  // ek::LlmInput per input
    unsigned logitsOutput = 0;
    int64_t vocab = 0, maxBatch = 0;
  };
  std::optional<KvInfo> kv;

  Error analyzeKvCache(unsigned numInputs, unsigned numOutputs) {
    auto past = module->getAttrOfType<IntegerAttr>("graph.kv_past_symbol");
    if (!past) return Error::success();
    auto fail = [](const std::string& why) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", why.c_str()); };
    KvInfo info;
    info.pastSymbol = int(past.getInt());
    if (auto bytes = module->getAttrOfType<IntegerAttr>("exec.state_bytes")) info.stateBytes = bytes.getInt();
    for (auto call : func.getOps<exec::CallOp>()) {
      if (call.getKernel() != "kv_append") continue;
      info.capacity = cast<MemRefType>(call.getOuts()[0].getType()).getDimSize(2);
      info.endPosition = SymDim::symbol(info.pastSymbol) + dimsOf(call.getIns()[0])[2];
      break;
    }
    if (!info.capacity) return fail("the model has no KV cache writes");
    // The KV-cache pass marked what prefill() fills and reads (graph.llm_input / llm_output).
    bool hasIds = false;
    for (unsigned i = 0; i < numInputs; ++i) {
      auto role = func.getArgAttrOfType<StringAttr>(i, "graph.llm_input");
      auto name = func.getArgAttrOfType<StringAttr>(i, "graph.name");
      if (!role)
        return fail("input '" + (name ? name.str() : std::to_string(i)) +
                    "' is not one the LLM interface can fill (input_ids, position_ids, attention_mask: [1, n] of i64, i32 or f32)");
      const std::string r = role.str();
      hasIds |= r == "token_ids";
      info.inputRoles.push_back(std::string("ek::LlmInput::") +
                                (r == "token_ids" ? "TokenIds" : r == "position_ids" ? "PositionIds" : "AttentionMask"));
      if (r == "token_ids") info.maxBatch = maxValue(dimsOf(func.getArgument(i))[1], bounds);
    }
    if (!hasIds) return fail("the model has a KV cache but no 'input_ids' input");
    bool marked = false;
    for (unsigned o = 0; o < numOutputs; ++o)
      if (func.getArgAttrOfType<StringAttr>(numInputs + o, "graph.llm_output")) info.logitsOutput = o, marked = true;
    if (!marked) return fail("the model has a KV cache but no output named 'logits'");
    auto logits = cast<MemRefType>(func.getArgument(numInputs + info.logitsOutput).getType());
    if (logits.getRank() != 3 || !logits.getElementType().isF32() || logits.isDynamicDim(2))
      return fail("output 'logits' must be f32 [1, n, vocab]");
    info.vocab = logits.getDimSize(2);
    kv = info;
    return Error::success();
  }

  std::string llmDeclarations() {
    if (!kv) return "";
    std::ostringstream h;
    h << "\n  // LLM interface. The bundle owns the KV cache; each call appends at position().\n"
      << "  // prefill() takes any number of tokens (split into runs of kMaxBatch); logits() are the\n"
      << "  // last token's; `all_logits`, when given, receives every token's (n x kVocabSize floats).\n"
      << "  // Errors: ids outside the vocabulary, a full context.\n"
      << "  bool prefill(const int32_t* ids, size_t n, std::string* error, float* all_logits = nullptr);\n"
      << "  bool decode(int32_t id, std::string* error) { return prefill(&id, 1, error); }\n"
      << "  const float* logits() const { return logits_.data(); }\n"
      << "  int64_t position() const { return position_; }\n";
    return h.str();
  }

  std::string llmDefinitions() {
    if (!kv) return "";
    std::ostringstream s;
    s << "const ek::LlmInput kLlmInputs[] = {";
    for (size_t i = 0; i < kv->inputRoles.size(); ++i) s << (i ? ", " : "") << kv->inputRoles[i];
    s << "};\n\n"
      << "bool Model::prefill(const int32_t* ids, size_t n, std::string* error, float* all_logits) {\n"
      << "  if (!ek::check_tokens(ids, n, position_, kMaxContext, kVocabSize, error)) return false;\n"
      << "  const int64_t start = position_;  // all or nothing: a failed call leaves the cache as it was\n"
      << "  for (size_t done = 0; done < n;) {\n"
      << "    const int64_t count = std::min<int64_t>(int64_t(n - done), kMaxBatch);\n"
      << "    ek::Tensor in[kNumInputs], out[kNumOutputs];\n"
      << "    for (int i = 0; i < kNumInputs; ++i)\n"
      << "      ek::make_llm_input(kLlmInputs[i], kInputs[i], io_[i], ids + done, count, position_, &in[i]);\n"
      << "    for (int i = 0; i < kNumOutputs; ++i) ek::make_output(kOutputs[i], io_[kNumInputs + i], &out[i]);\n"
      << "    if (!run(in, out, error)) {\n      position_ = start;\n      return false;\n    }\n"
      << "    const ek::Tensor& l = out[" << kv->logitsOutput << "];  // the last row is the last token's\n"
      << "    std::memcpy(logits_.data(), l.as<float>() + (l.numel() - kVocabSize), sizeof(float) * kVocabSize);\n"
      << "    if (all_logits) {  // every row: [1, count, kVocabSize]\n"
      << "      if (l.numel() != count * kVocabSize) {\n"
      << "        position_ = start;\n"
      << "        if (error) *error = \"this bundle computes only the last token's logits (compile it with --all-logits)\";\n"
      << "        return false;\n      }\n"
      << "      std::memcpy(all_logits + done * size_t(kVocabSize), l.as<float>(), sizeof(float) * size_t(l.numel()));\n"
      << "    }\n"
      << "    done += size_t(count);\n  }\n  return true;\n}\n\n";
    return s.str();
  }

  std::string specs(unsigned first, unsigned count) {
    std::string s;
    for (unsigned i = first; i < first + count; ++i) {
      auto t = cast<MemRefType>(func.getArgument(i).getType());
      auto name = func.getArgAttrOfType<StringAttr>(i, "graph.name");
      SmallVector<int64_t> bound;
      for (const SymDim& d : dimsOf(func.getArgument(i))) bound.push_back(maxValue(d, bounds));
      s += "    {" + quoted(name ? name.getValue() : "arg" + std::to_string(i)) + ", " + dtypeExpr(t.getElementType()) +
           ", " + std::to_string(t.getRank()) + ", " + dimsExpr(bound) + "},\n";
    }
    return s.empty() ? "    {\"\", ek::DType::F32, 0, {}},\n" : s;
  }

  // A buffer's dims, with symbolic ones as expressions over the symbols.
  SymShape dimsOf(Value v) { return execDims(func, v); }

  static std::string dimsCpp(const SymShape& dims) {
    std::string s = "{";
    for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + cppExpr(dims[i]);
    return s + "}";
  }

  // The index of a value known only at run time (an expression over the symbols) in forward()'s v[].
  uint32_t valueId(const SymDim& d) {
    const std::string expr = cppExpr(d);
    auto [it, added] = valueIds.try_emplace(expr, uint32_t(valueExprs.size()));
    if (added) valueExprs.push_back(expr);
    return it->second;
  }

  // A dim as forward() writes it: the constant, or v[k].
  std::string dimCpp(const SymDim& d) { return d.isConstant() ? std::to_string(d.c) : "v[" + std::to_string(valueId(d)) + "]"; }

  uint32_t shapeId(const SymShape& dims) {
    std::string row = "{" + std::to_string(dims.size()) + ", {";
    for (size_t i = 0; i < dims.size(); ++i) row += (i ? ", " : "") + dimCpp(dims[i]);
    row += "}}";
    auto [it, added] = shapeIds.try_emplace(row, uint32_t(shapeRows.size()));
    if (added) shapeRows.push_back(row + ",");
    return it->second;
  }

  // Adds buffer `v` to kBuffers: its data `where` (index: which input, output or viewed buffer;
  // offset: from the arena, weights or state base).
  void declare(Value v, const char* where, uint32_t index, int64_t offset, const std::string& comment = "") {
    auto t = cast<MemRefType>(v.getType());
    const uint32_t id = uint32_t(bufferRows.size());
    buffers[v] = id;
    bufferRows.push_back("{ek::Where::" + std::string(where) + ", " + dtypeExpr(t.getElementType()) + ", " +
                         std::to_string(shapeId(dimsOf(v))) + ", " + std::to_string(index) + ", " + std::to_string(offset) +
                         "},  // " + std::to_string(id) + (comment.empty() ? "" : " " + commentText(comment)));
  }

  LogicalResult emitOps() {
    const unsigned numInputs = unsigned(func->getAttrOfType<IntegerAttr>("exec.num_inputs").getInt());
    for (BlockArgument a : func.getArguments()) {
      bool in = a.getArgNumber() < numInputs;
      unsigned k = in ? a.getArgNumber() : a.getArgNumber() - numInputs;
      auto name = func.getArgAttrOfType<StringAttr>(a.getArgNumber(), "graph.name");
      declare(a, in ? "Input" : "Output", k, 0, name ? name.str() : "");
    }
    for (Operation& op : func.getBody().front()) {
      if (auto alloc = dyn_cast<exec::AllocOp>(op)) {
        if (!alloc.getOffset()) return alloc.emitOpError("has no arena offset; run the memory planner first");
        declare(alloc, "Arena", 0, int64_t(*alloc.getOffset()));
      } else if (auto st = dyn_cast<exec::StateOp>(op)) {
        if (!st.getOffset()) return st.emitOpError("has no state offset; run the memory planner first");
        declare(st, "State", 0, int64_t(*st.getOffset()), "KV cache slot " + std::to_string(st.getSlot()));
      } else if (auto w = dyn_cast<exec::WeightOp>(op)) {
        int64_t offset = weights.add(w.getValue());
        declare(w, "Weights", 0, offset, w.getName() ? w.getName()->str() : "");
        if (readsOnlyRows(w)) {
          auto t = cast<MemRefType>(w.getType());
          rowTables.push_back({offset, t.getNumElements() * int64_t(t.getElementTypeBitWidth() / 8)});
        }
      } else if (auto view = dyn_cast<exec::ViewOp>(op)) {
        declare(view, "ViewOf", buffers.lookup(view.getSource()), 0);
      } else if (auto call = dyn_cast<exec::CallOp>(op)) {
        emitCall(call);
      } else if (!isa<func::ReturnOp>(op)) {
        return op.emitOpError("cannot be emitted as C++");
      }
    }
    return success();
  }

  // What one decoded token costs (TokenCost): the weights each linear reads and its
  // multiply-adds; an embedding reads one row.
  void countTokenCost(exec::CallOp call, const std::string& kernel) {
    auto bytesOf = [](Value v) {
      auto t = cast<MemRefType>(v.getType());
      return t.hasStaticShape() ? t.getNumElements() * int64_t(t.getElementTypeBitWidth() / 8) : int64_t(0);
    };
    if (isKernel(kernel, "linear") && call.getIns().size() >= 2 && !call.getInts().empty()) {
      auto x = cast<MemRefType>(call.getIns()[0].getType());
      auto w = cast<MemRefType>(call.getIns()[1].getType());
      const int64_t k = x.getShape().back(), n = w.getDimSize(0);
      TokenCost& c = summary.token_cost;
      c.weight_bytes += bytesOf(call.getIns()[1]);
      (ek::is_quantized(ek::WeightFormat(call.getInts()[0])) ? c.int8_macs : c.float_macs) += n * k;
      c.activation_bytes += 4 * (n + k);
    } else if (kernel == "embedding" && !call.getIns().empty()) {
      auto table = cast<MemRefType>(call.getIns()[0].getType());
      if (table.hasStaticShape() && table.getDimSize(0) > 0) summary.token_cost.weight_bytes += bytesOf(call.getIns()[0]) / table.getDimSize(0);
    }
  }

  // The name of the float weight a linear call reads ("" for anything else).
  static std::string floatLinearWeight(exec::CallOp call) {
    if (!isKernel(call.getKernel(), "linear") || call.getIns().size() < 2 || call.getInts().empty()) return "";
    const auto format = ek::stored_format(ek::WeightFormat(call.getInts()[0]));  // packed or not
    if (format != ek::WeightFormat::F32 && format != ek::WeightFormat::F16) return "";
    auto w = call.getIns()[1].getDefiningOp<exec::WeightOp>();
    return w && w.getName() ? w.getName()->str() : "";
  }

  // Calibration bundles: the first float linear to read an input observes it for every float
  // linear that reads it (q, k and v share one input, and so one matrix of moments). Returns
  // the weights' names, or "" when this call observes nothing.
  std::string observation(exec::CallOp call) {
    Value x = call.getIns()[0];
    if (floatLinearWeight(call).empty() || !observed.insert(x).second) return "";
    std::string names;
    for (Operation* user : x.getUsers())
      if (auto other = dyn_cast<exec::CallOp>(user); other && other.getIns()[0] == x)
        if (std::string w = floatLinearWeight(other); !w.empty()) names += (names.empty() ? "" : ",") + w;
    return names;
  }

  // gather and embedding read rows named by their index operand. Constant indices are
  // checked by the importer; indices known only at run time are checked before the call, and
  // one outside the table stops forward() with the node's name instead of a made-up row.
  // Returns the StepExtra fields of the check (message, axis, wraps), or nothing.
  static std::optional<std::string> indexCheck(exec::CallOp call) {
    const std::string kernel = call.getKernel().str();
    if ((kernel != "gather" && kernel != "embedding") || call.getIns().size() < 2 ||
        isa_and_nonnull<exec::WeightOp>(call.getIns()[1].getDefiningOp()))
      return std::nullopt;
    const std::string axis = kernel == "gather" && !call.getInts().empty() ? std::to_string(call.getInts()[0]) : "0";
    const bool wraps = kernel == "gather";  // ONNX Gather counts negative indices from the end
    // The source reads "NAME (OpType)"; errors name nodes as the importer does: node 'NAME' (OpType).
    StringRef source = call.getSource() ? *call.getSource() : StringRef(kernel);
    auto [name, op] = source.rsplit(" (");
    const std::string node = op.empty() ? "'" + name.str() + "'" : "'" + name.str() + "' (" + op.str();
    return quoted("node " + node + ": an index is outside the " + (wraps ? "gathered axis" : "embedding table")) + ", " + axis +
           ", " + (wraps ? "true" : "false");
  }

  // The function a call runs: a binary kernel for its one element type (runtime/kernels/binary.h),
  // else the kernel as named.
  static std::string callee(exec::CallOp call) {
    static const std::set<std::string> typed = {
#define EK_TYPED_NAME(name, expr) #name,
        EK_TYPED_BINARY_KERNEL_LIST(EK_TYPED_NAME)
#undef EK_TYPED_NAME
    };
    const std::string kernel = call.getKernel().str();
    if (!typed.count(kernel) || call.getIns().size() != 2 || call.getOuts().size() != 1) return kernel;
    const Type t = cast<MemRefType>(call.getOuts()[0].getType()).getElementType();
    if (llvm::any_of(call.getIns(), [&](Value v) { return cast<MemRefType>(v.getType()).getElementType() != t; })) return kernel;
    auto dtype = dtypeOf(t);
    return dtype ? kernel + "_of<" + cppType(*dtype) + ">" : kernel;
  }

  void emitCall(exec::CallOp call) {
    // The attributes: constant ones in a kAttrs row; int slots known only at run time
    // (symInts) are patched from forward()'s values before the call.
    std::vector<std::string> ints;
    for (int64_t i : call.getInts()) ints.push_back(std::to_string(i));
    const uint32_t firstPatch = uint32_t(patchRows.size());
    if (auto symInts = call.getSymIntsAttr()) {
      SymShape values = fromMap(symInts.getValue());
      if (ints.size() < values.size()) ints.resize(values.size(), "0");
      for (size_t k = 0; k < values.size(); ++k) {
        ints[k] = values[k].isConstant() ? std::to_string(values[k].c) : "0";
        if (!values[k].isConstant())
          patchRows.push_back("{" + std::to_string(k) + ", " + std::to_string(valueId(values[k])) + "},  // " + cppExpr(values[k]));
      }
    }
    std::string attrRow = "{}";
    if (!ints.empty() || !call.getFloats().empty()) {
      attrRow = "{{";
      for (size_t i = 0; i < ints.size(); ++i) attrRow += (i ? ", " : "") + ints[i];
      attrRow += "}, {";
      for (size_t i = 0; i < call.getFloats().size(); ++i) attrRow += (i ? ", " : "") + floatExpr(call.getFloats()[i]);
      attrRow += "}}";
    }
    auto [attr, newAttrs] = attrIds.try_emplace(attrRow, uint32_t(attrRows.size()));
    if (newAttrs) attrRows.push_back(attrRow + ",  // " + std::to_string(attr->second));
    const std::string fn = callee(call);
    auto [kernelId, newKernel] = kernelIds.try_emplace(fn, uint32_t(kernelRows.size()));
    if (newKernel) kernelRows.push_back("ek::" + fn + ",  // " + std::to_string(kernelId->second));
    const uint32_t numPatches = uint32_t(patchRows.size()) - firstPatch;
    const std::optional<std::string> check = indexCheck(call);
    const std::string observed = options.observe_inputs ? observation(call) : "";
    uint32_t extra = 0;
    if (numPatches || check || !observed.empty()) {
      const std::string observe = observed.empty() ? "nullptr, nullptr" : "ek::observe_input, " + quoted(observed);
      extraRows.push_back("{" + std::to_string(firstPatch) + ", " + std::to_string(numPatches) + ", " +
                          check.value_or("nullptr, 0, false") + ", " + observe + "},");
      extra = uint32_t(extraRows.size());
    }
    const uint32_t firstOperand = uint32_t(operandList.size());
    for (Value v : call.getIns()) operandList.push_back(buffers.lookup(v));
    for (Value v : call.getOuts()) operandList.push_back(buffers.lookup(v));
    maxOperands = std::max(maxOperands, call.getIns().size() + call.getOuts().size());
    stepRows.push_back("{" + std::to_string(kernelId->second) + ", " + std::to_string(attr->second) + ", " +
                       std::to_string(firstOperand) + ", " + std::to_string(call.getIns().size()) + ", " +
                       std::to_string(call.getOuts().size()) + ", " + std::to_string(extra) + "},  // " +
                       std::to_string(stepRows.size()) + " " + fn +
                       (call.getSource() ? ": " + commentText(*call.getSource()) : std::string()));
    ++summary.kernel_counts[call.getKernel().str()];
    ++summary.kernel_calls;
    const std::string kernel = call.getKernel().str();
    countTokenCost(call, kernel);
    if (size_t sep = kernel.find("::"); sep != std::string::npos) variants.insert(kernel.substr(0, sep));
    std::ostringstream op;
    op << "    {\"op\": " << quoted(call.getSource() ? *call.getSource() : "") << ", \"kernel\": " << quoted(kernel);
    if (kernel.size() >= 8 && kernel.compare(kernel.size() - 8, 8, "::linear") == 0 && call.getInts().size() == 3)
      op << ", \"format\": " << quoted(ek::weight_format_name(ek::WeightFormat(call.getInts()[0])))
         << ", \"tokens_per_tile\": " << call.getInts()[1] << ", \"tokens_per_cache_block\": " << call.getInts()[2];
    op << ", \"why\": " << quoted(call.getWhy() ? *call.getWhy() : "") << "}";
    opReports.push_back(op.str());
  }

  // run()'s argument checks. Static shapes: each tensor must match its spec. Symbolic dims:
  // the symbols are read from the inputs, bounded, every dim must match its expression, and
  // each output (allocated for the bounds) gets its actual dims.
  std::string shapeChecks(unsigned numInputs, unsigned numOutputs) {
    std::ostringstream c;
    const size_t n = bounds.names.size();
    c << "  int64_t sym[" << std::max<size_t>(n, 1) << "] = {};\n";
    if (n == 0) {
      c << "  for (int i = 0; i < kNumInputs; ++i)\n"
        << "    if (!ek::check_tensor(inputs[i], kInputs[i], \"input\", error)) return false;\n"
        << "  for (int i = 0; i < kNumOutputs; ++i)\n"
        << "    if (!ek::check_tensor(outputs[i], kOutputs[i], \"output\", error)) return false;\n";
      return c.str();
    }
    c << "  for (int i = 0; i < kNumInputs; ++i)\n"
      << "    if (inputs[i].rank != kInputs[i].rank) {\n"
      << "      if (error) *error = std::string(\"input '\") + kInputs[i].name + \"' has the wrong rank\";\n"
      << "      return false;\n    }\n";
    // Bind each symbol from the first input dim that is exactly that symbol.
    for (size_t s = 0; s < n; ++s) {
      bool bound = false;
      if (kv && int(s) == kv->pastSymbol) {
        c << "  sym[" << s << "] = position_;  // " << commentText(bounds.names[s]) << ": positions already cached\n";
        continue;
      }
      for (unsigned i = 0; i < numInputs && !bound; ++i) {
        SymShape dims = dimsOf(func.getArgument(i));
        for (size_t d = 0; d < dims.size() && !bound; ++d)
          if (dims[d] == SymDim::symbol(int(s))) {
            c << "  sym[" << s << "] = inputs[" << i << "].dims[" << d << "];  // " << commentText(bounds.names[s]) << "\n";
            bound = true;
          }
      }
      if (!bound) return "#error symbolic dim '" + commentText(bounds.names[s]) + "' is not a dim of any input\n";
      c << "  if (sym[" << s << "] < 0 || sym[" << s << "] > kSymbolBounds[" << s << "]) {\n"
        << "    if (error) *error = std::string(\"dim '\") + kSymbolNames[" << s << "] + \"' is \" + std::to_string(sym[" << s
        << "]) + \", the bundle supports 0..\" + std::to_string(kSymbolBounds[" << s << "]);\n    return false;\n  }\n";
    }
    auto tensorCheck = [&](unsigned arg, const std::string& expr, bool isOutput) {
      SymShape dims = dimsOf(func.getArgument(arg));
      const std::string spec = isOutput ? "kOutputs[" + std::to_string(arg - numInputs) + "]" : "kInputs[" + std::to_string(arg) + "]";
      c << "  {\n    const int64_t want[] = " << (dims.empty() ? std::string("{0}") : dimsCpp(dims)) << ";\n"
        << "    if (!ek::" << (isOutput ? "fit_output(" : "check_input_dims(") << expr << ", " << spec
        << ", want, error)) return false;\n  }\n";
    };
    if (kv)
      c << "  if (" << cppExpr(kv->endPosition) << " > kMaxContext) {\n"
        << "    if (error) *error = \"the context is full: \" + std::to_string(" << cppExpr(kv->endPosition)
        << ") + \" positions exceed the bundle's context of \" + std::to_string(kMaxContext);\n    return false;\n  }\n";
    for (unsigned i = 0; i < numInputs; ++i) tensorCheck(i, "inputs[" + std::to_string(i) + "]", false);
    for (unsigned i = 0; i < numOutputs; ++i) tensorCheck(numInputs + i, "outputs[" + std::to_string(i) + "]", true);
    return c.str();
  }

  // Inputs the compiler specialized to a value (they size other tensors): the bundle is only
  // valid for that value, so run() checks it.
  std::string specializedChecks(unsigned numInputs, std::string* tables) {
    std::string checks;
    for (unsigned i = 0; i < numInputs; ++i) {
      auto value = func.getArgAttrOfType<ElementsAttr>(i, "graph.specialized_value");
      if (!value) continue;
      std::vector<uint8_t> bytes = elementsBytes(value);
      if (bytes.empty()) continue;
      std::string list, shown;
      for (size_t b = 0; b < bytes.size(); ++b) list += (b ? ", " : "") + std::to_string(bytes[b]);
      llvm::raw_string_ostream os(shown);
      value.print(os);
      const std::string table = "kInput" + std::to_string(i) + "Value";
      *tables += "// Input " + std::to_string(i) + " sizes other tensors: the bundle is specialized to " + commentText(os.str()) + ".\n";
      *tables += "const uint8_t " + table + "[] = {" + list + "};\n";
      checks += "  if (std::memcmp(inputs[" + std::to_string(i) + "].data, " + table + ", sizeof " + table + ") != 0) {\n"
                "    if (error) *error = std::string(\"input '\") + kInputs[" + std::to_string(i) +
                "].name + \"' must hold the value the bundle was compiled for: \" " + quoted(os.str()) + ";\n    return false;\n  }\n";
    }
    return checks;
  }

  std::string symbolConstants() {
    std::ostringstream c;
    const size_t n = bounds.names.size();
    c << "// Named dims that vary from run to run, with their upper bounds; run() sets the outputs' dims.\n"
      << "constexpr int kNumSymbols = " << n << ";\n";
    if (n) {
      c << "constexpr const char* kSymbolNames[] = {";
      for (size_t i = 0; i < n; ++i) c << (i ? ", " : "") << quoted(bounds.names[i]);
      c << "};\nconstexpr int64_t kSymbolBounds[] = {";
      for (size_t i = 0; i < n; ++i) c << (i ? ", " : "") << bounds.bounds[i];
      c << "};\n";
    }
    return c.str();
  }

  std::string header(unsigned numInputs, unsigned numOutputs) {
    std::ostringstream h;
    h << "// Generated by edgecc from " << commentText(options.source_name) << ". Do not edit.\n"
      << "#pragma once\n#include <cstddef>\n#include <cstdint>\n#include <string>\n" << (kv ? "#include <vector>\n" : "") << "\n"
      << "#include \"runtime/arena.h\"\n" << (kv ? "#include \"runtime/llm/causal_lm.h\"\n" : "")
      << "#include \"runtime/model_support.h\"\n#include \"runtime/weights.h\"\n\n"
      << "#define EDGECC_MODEL_NAMESPACE " << options.cpp_namespace << "\n\n"
      << "namespace " << options.cpp_namespace << " {\n\n"
      << "constexpr size_t kArenaBytes = " << summary.arena_bytes << ";   // activations, one allocation\n"
      << "constexpr uint64_t kWeightBytes = " << summary.weight_bytes << ";  // weights.bin payload\n"
      << "constexpr const char kTargetName[] = " << quoted(options.target.name) << ";\n"
      << "constexpr int kDefaultThreads = " << std::max(1, options.target.cores) << ";  // the target's big cores\n"
      << "// CPU features the kernels were compiled for: load() and the bundle's tools refuse a CPU\n"
      << "// without them (runtime/cpu_features.h) before any such instruction runs.\n"
      << "constexpr const char kCpuFeatures[] = " << quoted(options.target.features) << ";\n"
      << "constexpr int kNumInputs = " << numInputs << ";\n"
      << "constexpr int kNumOutputs = " << numOutputs << ";\n"
      << "extern const ek::TensorSpec kInputs[];   // name, dtype, shape of each input, in order\n"
      << "extern const ek::TensorSpec kOutputs[];  // (symbolic dims: the shapes at the bounds)\n"
      << symbolConstants() << "\n"
      << (kv ? "constexpr int64_t kMaxContext = " + std::to_string(kv->capacity) + ";  // KV cache capacity (positions)\n" +
                   "constexpr int64_t kMaxBatch = " + std::to_string(kv->maxBatch) + ";    // tokens per run() call\n" +
                   "constexpr int64_t kVocabSize = " + std::to_string(kv->vocab) + ";\n" +
                   "constexpr size_t kStateBytes = " + std::to_string(kv->stateBytes) + ";  // the KV cache, one allocation\n\n"
             : std::string())
      << "class Model {\n public:\n"
      << (kv ? "  Model() { ek::reserve_llm_buffers(kInputs, kNumInputs, kOutputs, kNumOutputs, io_); }\n" : "")
      << "  // Checks the CPU (kCpuFeatures), maps weights.bin and checks its header, size and checksum.\n"
      << "  bool load(const char* weights_path, std::string* error);\n"
      << "  // Runs the graph. Each tensor must match kInputs/kOutputs (dtype and shape); outputs are\n"
      << "  // written into the caller's buffers, which must not overlap the inputs. Returns false with\n"
      << "  // a message on a mismatch. One Model runs one call at a time (it owns one arena).\n"
      << "  bool run(const ek::Tensor* inputs, ek::Tensor* outputs, std::string* error);\n"
      << "  // Forgets what earlier calls left behind (the KV cache, for LLMs), so the next run starts afresh.\n"
      << (kv ? "  void reset() { position_ = 0; }\n" : "  void reset() {}\n")
      << llmDeclarations() << "\n"
      << " private:\n  ek::WeightsFile weights_;\n  ek::Arena arena_{kArenaBytes};\n"
      << (kv ? "  ek::Arena state_{kStateBytes};\n  int64_t position_ = 0;\n"
               "  std::vector<float> logits_ = std::vector<float>(size_t(kVocabSize));\n"
               "  std::vector<unsigned char> io_[kNumInputs + kNumOutputs];  // prefill()'s tensors\n"
             : "")
      << "};\n\n"
      << "}  // namespace " << options.cpp_namespace << "\n";
    return h.str();
  }

  std::string source(unsigned numInputs, unsigned numOutputs) {
    std::string tables;
    const std::string checks = specializedChecks(numInputs, &tables);
    // Tables a token reads one row of leave memory as they are checked (the plan counts rows).
    std::string rowTableList;
    for (auto [offset, bytes] : rowTables)
      rowTableList += "    {" + std::to_string(offset) + ", " + std::to_string(bytes) + "},\n";
    const std::string open = rowTables.empty()
        ? "  return weights_.open(weights_path, kWeightBytes, error);\n"
        : "  // Tables each token reads one row of (untied embeddings): evicted as they are checked.\n"
          "  static const ek::WeightsFile::Range kReadByRows[] = {\n" + rowTableList + "  };\n"
          "  return weights_.open(weights_path, kWeightBytes, error, kReadByRows, sizeof kReadByRows / sizeof *kReadByRows);\n";
    std::ostringstream s;
    s << "// Generated by edgecc from " << commentText(options.source_name) << ". Do not edit.\n"
      << "#include \"model.h\"\n\n#include <algorithm>\n#include <cstring>\n#include <limits>\n\n"
      << "#include \"runtime/cpu_features.h\"\n#include \"runtime/forward_plan.h\"\n" << (options.observe_inputs ? "#include \"runtime/input_statistics.h\"\n" : "")
      << "#include \"runtime/kernels/binary.h\"\n#include \"runtime/kernels/kernels.h\"\n#include \"runtime/kernels/variants.h\"\n\n"
      << variantChecks()
      << "namespace " << options.cpp_namespace << " {\n\n"
      << "const ek::TensorSpec kInputs[] = {\n" << specs(0, numInputs) << "};\n"
      << "const ek::TensorSpec kOutputs[] = {\n" << specs(numInputs, numOutputs) << "};\n\n"
      << "namespace {\n\n" << tables << (tables.empty() ? "" : "\n") << forwardPass() << "}  // namespace\n\n"
      << "bool Model::load(const char* weights_path, std::string* error) {\n"
      << "  char missing[256];\n"
      << "  if (ek::cpu_missing(kCpuFeatures, missing, sizeof missing)) {\n"
      << "    if (error) *error = std::string(\"this CPU lacks \") + missing + \", which the bundle's target '\" + kTargetName +\n"
      << "                        \"' needs; compile the model for this CPU (edgecc compile --target native)\";\n"
      << "    return false;\n  }\n"
      << open << "}\n\n"
      << "bool Model::run(const ek::Tensor* inputs, ek::Tensor* outputs, std::string* error) {\n"
      << shapeChecks(numInputs, numOutputs)
      << checks
      << "  if (kWeightBytes && !weights_.payload()) {\n"
      << "    if (error) *error = \"weights are not loaded (call load first)\";\n    return false;\n  }\n"
      << "  if (kArenaBytes && !arena_.base()) {\n"
      << "    if (error) *error = \"cannot allocate the \" + std::to_string(kArenaBytes) + \"-byte arena\";\n    return false;\n  }\n"
      << (kv ? "  if (!state_.base()) {\n    if (error) *error = \"cannot allocate the \" + std::to_string(kStateBytes) + \"-byte KV cache\";\n"
               "    return false;\n  }\n" : "")
      << "  if (const char* fault = forward(inputs, outputs, arena_.base(), weights_.payload(), " << (kv ? "state_.base()" : "nullptr")
      << ", sym)) {\n    if (error) *error = fault;\n    return false;\n  }\n"
      << (rowTables.empty() ? "" : "  weights_.evict_read_by_rows();  // a step's table rows leave memory again\n")
      << (kv ? "  position_ = " + cppExpr(kv->endPosition) + ";\n" : "")
      << "  return true;\n}\n\n"
      << llmDefinitions()
      << "}  // namespace " << options.cpp_namespace << "\n";
    return s.str();
  }

  // A table's rows; C++ has no empty arrays, so an empty table gets one unused row.
  static std::string rows(const std::vector<std::string>& list, const std::string& empty) {
    std::string r;
    for (const std::string& row : list) r += "    " + row + "\n";
    return list.empty() ? "    " + empty + "\n" : r;
  }

  // The forward pass as tables (runtime/forward_plan.h), and forward(), which builds this run's
  // shapes and runs them.
  std::string forwardPass() {
    std::ostringstream f;
    std::string operands;
    for (size_t i = 0; i < operandList.size(); ++i) operands += (i % 16 ? ", " : i ? ",\n    " : "    ") + std::to_string(operandList[i]);
    f << "// Each kernel the steps call, once.\n"
      << "const ek::KernelFn kKernels[] = {\n" << rows(kernelRows, "nullptr") << "};\n\n"
      << "// Each distinct set of attributes (ints, floats), once.\n"
      << "const ek::Attrs kAttrs[] = {\n" << rows(attrRows, "{}") << "};\n\n"
      << "// Every buffer: where its data is, element type, shape (in forward()'s shapes), index, offset.\n"
      << "const ek::BufferSpec kBuffers[] = {\n" << rows(bufferRows, "{}") << "};\n\n"
      << "// The kernel calls in order: kernel, attributes (rows of the tables above), first operand,\n"
      << "// inputs, outputs, extra (0, or 1 + its row in kStepExtras).\n"
      << "const ek::Step kSteps[] = {\n" << rows(stepRows, "{}") << "};\n\n"
      << "// Each step's inputs, then its outputs, as rows of kBuffers.\n"
      << "const uint32_t kOperands[] = {\n" << (operands.empty() ? "    0" : operands) << "\n};\n\n"
      << "// Steps with run-time attributes (first patch, count), index checks or observed inputs.\n"
      << "const ek::StepExtra kStepExtras[] = {\n" << rows(extraRows, "{}") << "};\n\n"
      << "// attrs.i[slot] = v[value] before the step.\n"
      << "const ek::AttrPatch kAttrPatches[] = {\n" << rows(patchRows, "{}") << "};\n\n"
      << "const ek::ForwardPlan kPlan = {kKernels, kAttrs, kBuffers, " << bufferRows.size() << ", kSteps, " << stepRows.size()
      << ", kOperands, kStepExtras, kAttrPatches};\n\n"
      << "// Returns nullptr, or what stopped it (an index outside its table).\n"
      << "const char* forward(const ek::Tensor* inputs, ek::Tensor* outputs, unsigned char* arena, const uint8_t* weights,\n"
      << "                    unsigned char* state, const int64_t* sym) {\n"
      << "  (void)sym;\n"
      << "  const int64_t v[] = {";
    for (size_t i = 0; i < valueExprs.size(); ++i) f << (i ? ", " : "") << valueExprs[i];
    f << (valueExprs.empty() ? "0" : "") << "};  // dims and attributes known only at run time\n"
      << "  (void)v;\n"
      << "  const ek::Shape shapes[] = {\n" << rows(shapeRows, "{}") << "  };\n"
      << "  ek::Tensor buffers[" << std::max<size_t>(bufferRows.size(), 1) << "], scratch[" << maxOperands << "];\n"
      << "  return ek::run_forward(kPlan, {inputs, outputs, arena, weights, state}, shapes, v, buffers, scratch);\n"
      << "}\n\n";
    return f.str();
  }

  // The variants called must be compiled in: the bundle's flags decide (runtime/kernels/variants.h).
  std::string variantChecks() {
    std::string c;
    for (const std::string& v : variants)
      c += "#if !defined(EK_COMPILED_" + v + ")\n#error \"the kernels of this bundle need its target's compile flags (see CMakeLists.txt): " +
           v + " is not compiled in\"\n#endif\n";
    return c.empty() ? c : c + "\n";
  }

  std::string flagList(const std::vector<std::string>& flags) {
    std::string s;
    for (const std::string& f : flags) s += (s.empty() ? "" : ";") + f;
    return s;
  }

  std::string cmakeLists(const std::vector<std::string>& generatedObjects) {
    std::ostringstream c;
    c << "# Generated by edgecc. Builds with a C++17 compiler alone:\n"
      << (options.target.isa == "arm64" ? "#   cmake -B build -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake && cmake --build build\n"
                                         "# (on an arm64 machine, or with an Android NDK / Xcode toolchain: without the toolchain file)\n"
                                       : "#   cmake -B build && cmake --build build\n")
      << "cmake_minimum_required(VERSION 3.13)\nproject(edgecc_bundle CXX)\n"
      << "set(CMAKE_CXX_STANDARD 17)\nset(CMAKE_CXX_STANDARD_REQUIRED ON)\n"
      << "if(NOT CMAKE_BUILD_TYPE)\n  set(CMAKE_BUILD_TYPE Release)\nendif()\n"
      << "# Only the kernels the model calls end up in the binaries (a kernel file holds many ops).\n"
      << "if(CMAKE_CXX_COMPILER_ID MATCHES \"GNU|Clang\")\n  add_compile_options(-ffunction-sections -fdata-sections)\n"
      << "  if(APPLE)\n    add_link_options(-Wl,-dead_strip)\n  else()\n    add_link_options(-Wl,--gc-sections)\n  endif()\nendif()\n\n"
      << "file(GLOB EDGECC_RUNTIME_SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/runtime/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/runtime/kernels/*.cpp\n"
      << "     ${CMAKE_CURRENT_SOURCE_DIR}/runtime/kernels/*/*.cpp ${CMAKE_CURRENT_SOURCE_DIR}/runtime/llm/*.cpp)\n"
      << "list(FILTER EDGECC_RUNTIME_SOURCES EXCLUDE REGEX \"(_main|cpu_guard)\\\\.cpp$\")  # the tools' own files\n"
      << "find_package(Threads REQUIRED)\n"
      << "add_library(model STATIC model.cpp ${EDGECC_RUNTIME_SOURCES})\n"
      << "target_include_directories(model PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})\n"
      << "target_link_libraries(model PUBLIC Threads::Threads)\n";
    if (!generatedObjects.empty()) {
      c << "# Kernels Halide generated for this target while compiling (objects: no Halide needed here).\n"
        << "target_compile_definitions(model PUBLIC EK_HALIDE_KERNELS)\ntarget_sources(model PRIVATE";
      for (const std::string& o : generatedObjects) c << " " << o;
      c << ")\n";
    }
    if (!options.target.cxx_flags.empty()) {
      c << "# Target " << options.target.name << "\ntarget_compile_options(model PUBLIC";
      for (const std::string& f : options.target.cxx_flags) c << " " << f;
      c << ")\n";
    }
    if (options.target.isa == "arm64")
      c << "# Phones run 4 KiB or 16 KiB pages (Android 15 requires 16 KiB-aligned segments); aligned to 16 KiB,\n"
        << "# the ELF runs on both and pads less than the linker's 64 KiB default.\n"
        << "if(CMAKE_CXX_COMPILER_ID MATCHES \"GNU|Clang\" AND NOT APPLE)\n  add_link_options(-Wl,-z,max-page-size=16384)\nendif()\n";
    // The CPU check runs before any code built with the target's flags, so it is built without.
    const std::string baseline = flagList(options.target.baseline_flags);
    if (!baseline.empty())
      c << "set_source_files_properties(runtime/cpu_features.cpp runtime/cpu_guard.cpp PROPERTIES COMPILE_OPTIONS \""
        << baseline << "\")\n";
    c << "\nadd_executable(model_run runtime/run_main.cpp runtime/cpu_guard.cpp)\ntarget_link_libraries(model_run PRIVATE model)\n";
    if (kv)
      c << "\n# Text generation: tokenizer, sampler, streaming output, --json timings.\n"
        << "add_executable(model_generate runtime/llm/generate_main.cpp runtime/cpu_guard.cpp)\n"
        << "target_link_libraries(model_generate PRIVATE model)\n";
    return c.str();
  }

  std::string report() {
    std::ostringstream r;
    r << "{\n  \"source\": " << quoted(options.source_name) << ",\n  \"target\": " << quoted(options.target.name)
      << ",\n  \"cpu_features\": " << quoted(options.target.features)
      << ",\n  \"arena_bytes\": " << summary.arena_bytes << ",\n  \"arena_planner\": " << quoted(summary.arena_planner)
      << ",\n  \"arena_planners\": {";
    for (size_t i = 0; i < summary.arena_planners.size(); ++i)
      r << (i ? ", " : "") << quoted(summary.arena_planners[i].first) << ": " << summary.arena_planners[i].second;
    r << "}" << ",\n  \"weight_bytes\": " << summary.weight_bytes
      << ",\n  \"kernel_calls\": " << summary.kernel_calls << ",\n  \"kernels\": {";
    bool first = true;
    for (auto& [k, n] : summary.kernel_counts) {
      r << (first ? "\n" : ",\n") << "    " << quoted(k) << ": " << n;
      first = false;
    }
    r << "\n  }";
    r << ",\n  \"memory\": " << residentPlanJson(options.plan, options.ram_budget);
    if (kv) r << ",\n  \"expected_on_device\": " << estimateJson(options.target, summary.token_cost, summary.expected);
    r << ",\n  \"ops\": [";
    for (size_t i = 0; i < opReports.size(); ++i) r << (i ? ",\n" : "\n") << opReports[i];
    r << "\n  ]\n}\n";
    return r.str();
  }
};

}  // namespace

Error writeRuntimeSources(const std::string& dir, const std::string& isa) {
  for (const EmbeddedFile& f : embeddedRuntime()) {
    const bool toolchain = llvm::StringRef(f.path).starts_with("cmake/aarch64");
    if (toolchain && isa != "arm64") continue;  // the cross-build toolchain: arm64 bundles only
    const std::string path = dir + "/" + f.path;
    if (auto ec = llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)))
      return llvm::createStringError(ec, "cannot create %s", dir.c_str());
    if (Error err = writeFile(path, f.content)) return err;
  }
  return Error::success();
}

Expected<BundleSummary> emitBundle(ModuleOp module, const std::string& dir, const BundleOptions& options) {
  auto funcs = module.getOps<func::FuncOp>();
  if (std::distance(funcs.begin(), funcs.end()) != 1)
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "expected exactly one function to emit");
  if (!(*funcs.begin())->hasAttr("exec.num_inputs"))
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "the function is not lowered to exec");
  if (Error err = writeRuntimeSources(dir, options.target.isa)) return std::move(err);
  WeightsWriter weights(dir + "/weights.bin");
  if (!weights.ok()) return fileError(dir + "/weights.bin");
  Emitter e{module, *funcs.begin(), options, weights, symbolBounds(module)};
  if (failed(e.emitOps())) return llvm::createStringError(llvm::inconvertibleErrorCode(), "cannot emit the program");
  std::string error;
  if (!weights.finish(&error)) return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", error.c_str());
  auto arena = module->getAttrOfType<IntegerAttr>("exec.arena_bytes");
  e.summary.arena_bytes = arena ? arena.getInt() : 0;
  if (auto planner = module->getAttrOfType<StringAttr>("exec.arena_planner")) e.summary.arena_planner = planner.str();
  if (auto planners = module->getAttrOfType<DictionaryAttr>("exec.arena_planners"))
    for (NamedAttribute p : planners)
      if (auto bytes = dyn_cast<IntegerAttr>(p.getValue())) e.summary.arena_planners.push_back({p.getName().str(), bytes.getInt()});
  e.summary.weight_bytes = e.weights.payloadBytes();

  const unsigned numInputs = unsigned(e.func->getAttrOfType<IntegerAttr>("exec.num_inputs").getInt());
  const unsigned numOutputs = e.func.getNumArguments() - numInputs;
  if (Error err = e.analyzeKvCache(numInputs, numOutputs)) return std::move(err);
  if (Error err = writeFile(dir + "/model.h", e.header(numInputs, numOutputs))) return std::move(err);
  if (Error err = writeFile(dir + "/model.cpp", e.source(numInputs, numOutputs))) return std::move(err);
  auto generated = generateKernels(e.variants, options.target, dir);
  if (!generated) return generated.takeError();
  if (Error err = writeFile(dir + "/CMakeLists.txt", e.cmakeLists(*generated))) return std::move(err);
  if (e.kv) {
    TokenCost& cost = e.summary.token_cost;
    cost.kv_bytes_per_position = e.kv->capacity ? e.kv->stateBytes / e.kv->capacity : 0;
    cost.resident_bytes = e.summary.weight_bytes + e.summary.arena_bytes + e.kv->stateBytes;
    e.summary.expected = estimateOnDevice(options.target, cost, e.kv->capacity);
  }
  if (Error err = writeFile(dir + "/memory.svg", memorySvg(options.plan, options.ram_budget))) return std::move(err);
  if (Error err = writeFile(dir + "/report.json", e.report())) return std::move(err);
  return e.summary;
}

}  // namespace edgecc
