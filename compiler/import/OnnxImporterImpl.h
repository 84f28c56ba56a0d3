// The ONNX importer's state and helpers, shared by its files: OnnxImporter.cpp (the default
// domain's ops, dims, the graph walk) and OnnxMicrosoftOps.cpp (ONNX Runtime's com.microsoft
// ops). Internal to the importer; users include OnnxImporter.h.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/import/OnnxImporter.h"
#include "compiler/ir/FunctionNames.h"
#include "compiler/ir/KernelMapping.h"
#include "compiler/ir/SymbolicShape.h"
#include "dialects/graph/GraphDialect.h"
#include "mlir/IR/Builders.h"
#include "onnx/onnx_pb.h"
#include "runtime/tensor.h"

namespace edgecc::onnx_import {

using namespace mlir;
using llvm::Expected;

using Ints = SmallVector<int64_t>;  // axes, permutations, slice bounds, static dims
using Shape = SymShape;             // a tensor's dims: constants or expressions over symbols

// A tensor loaded from an initializer or a Constant node.
struct HostData {
  ek::DType dtype;
  Ints dims;
  std::string bytes;  // row-major; owned, so weights can move into the IR without a copy
};

// The element count, if it is affine (at most one symbolic factor).
inline std::optional<SymDim> numel(const Shape& dims) {
  SymDim n = 1;
  for (const SymDim& d : dims) {
    auto next = n.times(d);
    if (!next) return std::nullopt;
    n = *next;
  }
  return n;
}


// An int64 shape tensor (0-D or 1-D) whose elements involve symbolic dims: known at compile
// time only as expressions. Folding shape arithmetic on these keeps reshape targets exact.
struct SymTensor {
  Ints dims;       // [] or [n]
  SymShape values;
};

class OnnxImporter {
 public:
  OnnxImporter(MLIRContext& ctx, std::string path, const ImportOptions& options)
      : ctx_(ctx), builder_(&ctx), path_(std::move(path)), options_(options) {}

  Expected<OwningOpRef<ModuleOp>> run();

  // The op types the handler table accepts, sorted.
  std::vector<std::string> handledOpTypes() {
    registerHandlers();
    std::vector<std::string> ops;
    for (const auto& [op, handler] : handlers_) ops.push_back(op);
    std::sort(ops.begin(), ops.end());
    return ops;
  }

 private:
  using Handler = std::function<LogicalResult(const onnx::NodeProto&)>;

  // --- errors -------------------------------------------------------------------------
  LogicalResult fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return failure();
  }
  LogicalResult failNode(const onnx::NodeProto& n, const std::string& why) {
    return fail("node '" + nodeName(n) + "' (" + n.op_type() + "): " + why);
  }
  std::string nodeName(const onnx::NodeProto& n) const {
    return n.name().empty() ? n.op_type() + "#" + std::to_string(node_index_) : n.name();
  }

  // --- tensors and types ----------------------------------------------------------------
  // Moves raw data out of `t` (initializers are read once).
  FailureOr<HostData> loadTensor(onnx::TensorProto& t);
  RankedTensorType tensorType(const Shape& shape, ek::DType dtype) {
    return symbolicTensorType(&ctx_, shape, elementTypeOf(&ctx_, dtype), int(symbols_.names.size()));
  }
  RankedTensorType tensorType(ArrayRef<int64_t> shape, ek::DType dtype) {
    return tensorType(Shape(shape.begin(), shape.end()), dtype);
  }
  static ek::DType dtypeOfValue(Value v) { return *dtypeOf(cast<RankedTensorType>(v.getType()).getElementType()); }
  static Shape shapeOf(Value v) { return symbolicShape(v.getType()); }
  Value constant(HostData d, StringRef name = {});
  Value scalarLike(Value like, double v);

  // --- building -------------------------------------------------------------------------
  // Verifies a new op (naming the node on failure) and folds it when its operands are constant.
  FailureOr<Value> finish(Operation* op) {
    FailureOr<SmallVector<Value>> results = finishResults(op);
    if (failed(results)) return failure();
    return (*results)[0];
  }
  // The same for an op with several results: all of them, folded together.
  FailureOr<SmallVector<Value>> finishResults(Operation* op);
  template <class OpT, class... Args>
  FailureOr<Value> make(Type type, Args&&... args) {
    return finish(builder_.create<OpT>(loc_, type, std::forward<Args>(args)...));
  }
  FailureOr<Value> reshape(Value x, const Shape& shape) {
    if (shapeOf(x) == shape) return x;
    return make<graph::ReshapeOp>(tensorType(shape, dtypeOfValue(x)), x);
  }
  template <class OpT>
  FailureOr<Value> binary(Value a, Value b, bool comparison = false);
  FailureOr<Value> transpose(Value x, ArrayRef<int64_t> perm);
  FailureOr<Value> slice(Value x, ArrayRef<int64_t> offsets, ArrayRef<int64_t> steps, const Shape& sizes);

  // --- node inputs, outputs, attributes --------------------------------------------------
  FailureOr<Value> input(const onnx::NodeProto& n, int i);
  bool hasInput(const onnx::NodeProto& n, int i) const { return i < n.input_size() && !n.input(i).empty(); }
  // Values of a constant integer input (axes, bounds, ...), or failure naming the input.
  FailureOr<Ints> constInts(const onnx::NodeProto& n, int i);
  // Values of an integer input that may involve symbolic dims (a shape).
  FailureOr<Shape> shapeInput(const onnx::NodeProto& n, int i);
  // The symbolic value of an input, if it is a symbolic shape tensor or a small int constant.
  std::optional<SymTensor> symbolicInput(const onnx::NodeProto& n, int i);
  // Evaluates shape arithmetic on symbolic shape tensors; false when the node is not that.
  FailureOr<bool> foldSymbolic(const onnx::NodeProto& n);
  void setSymbolic(const onnx::NodeProto& n, int i, SymTensor t);
  // A graph.symbolic op that computes `t` at run time from the bound symbols.
  Value symbolicValue(const SymTensor& t);
  void setOutput(const onnx::NodeProto& n, int i, Value v) {
    if (i < n.output_size() && !n.output(i).empty()) values_[n.output(i)] = v;
  }
  const onnx::AttributeProto* attr(const onnx::NodeProto& n, const char* name) const {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return nullptr;
  }
  int64_t attrInt(const onnx::NodeProto& n, const char* name, int64_t def) const {
    const auto* a = attr(n, name);
    return a ? a->i() : def;
  }
  float attrFloat(const onnx::NodeProto& n, const char* name, float def) const {
    const auto* a = attr(n, name);
    return a ? a->f() : def;
  }
  std::optional<Ints> attrInts(const onnx::NodeProto& n, const char* name) const {
    const auto* a = attr(n, name);
    if (!a) return std::nullopt;
    return Ints(a->ints().begin(), a->ints().end());
  }
  // Normalizes a possibly negative axis; fails on out-of-range.
  FailureOr<int64_t> axis(const onnx::NodeProto& n, int64_t a, int64_t rank) {
    if (a < -rank || a >= rank) {
      return failNode(n, "axis " + std::to_string(a) + " out of range for rank " + std::to_string(rank));
    }
    return a < 0 ? a + rank : a;
  }

  void registerHandlers();
  // The axes a Reduce* node reduces (an input from `axesInputFromOpset` on, an attribute
  // before), sorted, and its output shape; noop when it reduces nothing.
  struct Reduction {
    Ints axes;
    Shape out;
    bool noop = false;
  };
  FailureOr<Reduction> reduction(const onnx::NodeProto& n, const Shape& in, int axesInputFromOpset);
  // ONNX ops expressed through other graph ops (OnnxDecomposedOps.cpp).
  void registerDecomposedHandlers();
  FailureOr<Value> einsum(const onnx::NodeProto& n);
  // ONNX Runtime's contrib ops (OnnxMicrosoftOps.cpp), keyed "com.microsoft.OpType".
  void registerMicrosoftHandlers();
  FailureOr<Value> matMulNBits(const onnx::NodeProto& n);
  FailureOr<Value> rmsNorm(const onnx::NodeProto& n, Value x, Value scale);
  // x rotated by the tables' rows at `positions`; `headAxis` is where x has its heads.
  FailureOr<Value> rotary(const onnx::NodeProto& n, Value x, Value positions, Value cosCache, Value sinCache,
                          int64_t headAxis, bool interleaved);
  LogicalResult groupQueryAttention(const onnx::NodeProto& n);
  LogicalResult importNode(const onnx::NodeProto& n);
  // The symbol named `name`, made with `bound` on first use.
  FailureOr<SymDim> symbolFor(const std::string& name, int64_t bound);
  // A sum of dim names and integers ("past_sequence_length + 1") over the symbols.
  std::optional<SymDim> parseDimSum(const std::string& text, const std::map<std::string, int64_t>& maxDims);
  std::string placeKvDims(const onnx::GraphProto& g, const std::unordered_map<std::string, const onnx::TensorProto*>& inits,
                          std::map<std::string, int64_t>& maxDims, std::map<std::string, int64_t>& fixedDims,
                          std::map<std::string, SymDim>& exprDims);

  MLIRContext& ctx_;
  OpBuilder builder_;
  std::string path_;
  const ImportOptions& options_;
  Location loc_ = UnknownLoc::get(&ctx_);
  int64_t opset_ = 0;
  int node_index_ = 0;
  std::string error_;
  std::unordered_map<std::string, Value> values_;
  std::unordered_map<std::string, SymTensor> symbolic_;  // symbolic shape tensors, by value name
  SymbolBounds symbols_;
  std::unordered_map<std::string, Handler> handlers_;
};

}  // namespace edgecc::onnx_import
