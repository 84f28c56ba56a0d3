#include "compiler/ir/KernelMapping.h"

#include "compiler/ir/SymbolicShape.h"

#include "dialects/graph/GraphDialect.h"
#include "llvm/ADT/TypeSwitch.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;

namespace edgecc {

std::optional<ek::DType> dtypeOf(Type t) {
  if (t.isF32()) return ek::DType::F32;
  if (t.isF64()) return ek::DType::F64;
  if (t.isF16()) return ek::DType::F16;
  if (t.isBF16()) return ek::DType::BF16;
  if (t.isInteger(1)) return ek::DType::Bool;
  if (auto i = dyn_cast<IntegerType>(t)) {
    const bool u = i.isUnsigned();
    switch (i.getWidth()) {
      case 8: return u ? ek::DType::U8 : ek::DType::I8;
      case 16: return u ? ek::DType::U16 : ek::DType::I16;
      case 32: return u ? ek::DType::U32 : ek::DType::I32;
      case 64: return u ? ek::DType::U64 : ek::DType::I64;
    }
  }
  return std::nullopt;
}

Type elementTypeOf(MLIRContext* ctx, ek::DType d) {
  Builder b(ctx);
  switch (d) {
    case ek::DType::F32: return b.getF32Type();
    case ek::DType::F64: return b.getF64Type();
    case ek::DType::F16: return b.getF16Type();
    case ek::DType::BF16: return b.getBF16Type();
    case ek::DType::Bool: return b.getI1Type();
    case ek::DType::I8: return b.getIntegerType(8);
    case ek::DType::U8: return b.getIntegerType(8, false);
    case ek::DType::I16: return b.getIntegerType(16);
    case ek::DType::U16: return b.getIntegerType(16, false);
    case ek::DType::I32: return b.getI32Type();
    case ek::DType::I64: return b.getI64Type();
    case ek::DType::U32: return b.getIntegerType(32, false);
    case ek::DType::U64: return b.getIntegerType(64, false);
  }
  return {};
}

bool kernelSupports(llvm::StringRef kernel, Type elementType) {
  auto dtype = dtypeOf(elementType);
  if (!dtype) return false;
  // The portable kernels: these read f32 only; the rest are typed by dispatch_dtype, where
  // arithmetic and reductions have no meaning for bool.
  static const llvm::StringRef kF32Only[] = {"softmax", "layer_norm", "rms_norm", "attention", "gelu", "linear", "rope", "swiglu", "conv"};
  static const llvm::StringRef kNoBool[] = {"matmul", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
                                            "reduce_prod", "cumsum", "add", "sub", "mul", "div", "pow"};
  if (llvm::is_contained(kF32Only, kernel)) return *dtype == ek::DType::F32;
  if (llvm::is_contained(kNoBool, kernel) && *dtype == ek::DType::Bool) return false;
  // 16-bit floats are storage types here: converted, compared, moved; no matmul yet.
  if (kernel == "matmul" && (*dtype == ek::DType::F16 || *dtype == ek::DType::BF16)) return false;
  return true;
}

// The verifier has checked the name.
static int64_t weightFormatCode(llvm::StringRef format) { return int64_t(*graph::parseWeightFormat(format)); }

// How the rows of a key or value operand are stored: a KV cache's storage (f32, f16, q8_0), f32
// for anything else.
static int64_t kvStorageCode(Value v) {
  if (auto append = v.getDefiningOp<graph::KvAppendOp>()) v = append.getCache();
  auto cache = v.getDefiningOp<graph::KvCacheOp>();
  return cache ? weightFormatCode(cache.getStorage()) : int64_t(ek::WeightFormat::F32);
}

// Int slots that may depend on symbolic dims: plain ints when all are constant, else sym_ints.
static void setInts(KernelCall& call, Operation* op, const SymShape& values) {
  call.ints.clear();
  if (!isSymbolic(values)) {
    for (const SymDim& v : values) call.ints.push_back(v.c);
    return;
  }
  call.sym_ints = dimsMap(op->getContext(), values, int(symbolBounds(op).names.size()));
}

template <class ReduceOp>
static int64_t axisMask(ReduceOp op) {
  int64_t mask = 0;
  for (int64_t a : op.getAxes()) mask |= int64_t(1) << a;
  return mask;
}

FailureOr<KernelCall> kernelCallFor(Operation* op) {
  using namespace graph;
  if (isa<ConstantOp, KvCacheOp>(op) || op->getDialect() == nullptr || op->getDialect()->getNamespace() != "graph")
    return failure();
  KernelCall call;
  call.kernel = op->getName().stripDialect().str();
  llvm::TypeSwitch<Operation*, void>(op)
      .Case<ReshapeOp>([&](auto) { call.kernel = "copy"; })  // lowering turns it into a view
      .Case<GeluOp>([&](GeluOp g) { call.ints = {g.getApproximate() ? 1 : 0}; })
      .Case<TransposeOp>([&](TransposeOp t) { call.ints.assign(t.getPermutation().begin(), t.getPermutation().end()); })
      .Case<ConcatOp>([&](ConcatOp c) { call.ints = {int64_t(c.getAxis())}; })
      .Case<SliceOp>([&](SliceOp s) {
        call.ints.assign(s.getOffsets().begin(), s.getOffsets().end());
        call.ints.append(s.getSteps().begin(), s.getSteps().end());
      })
      .Case<GatherOp>([&](GatherOp g) { call.ints = {int64_t(g.getAxis())}; })
      .Case<GatherElementsOp>([&](GatherElementsOp g) { call.ints = {int64_t(g.getAxis())}; })
      .Case<TopKOp>([&](TopKOp t) { call.ints = {int64_t(t.getAxis()), t.getLargest() ? 1 : 0}; })
      .Case<ArgMaxOp, ArgMinOp>([&](auto r) { call.ints = {int64_t(r.getAxis()), r.getSelectLastIndex() ? 1 : 0}; })
      .Case<ConvOp>([&](ConvOp c) {
        call.ints = {int64_t(c.getGroup())};
        for (auto attr : {c.getStrides(), c.getPads(), c.getDilations()}) call.ints.append(attr.begin(), attr.end());
      })
      .Case<ReduceSumOp, ReduceMeanOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp>(
          [&](auto r) { call.ints = {axisMask(r)}; })
      .Case<SoftmaxOp>([&](SoftmaxOp s) { call.ints = {int64_t(s.getAxis())}; })
      .Case<CumSumOp>([&](CumSumOp c) { call.ints = {int64_t(c.getAxis()), c.getExclusive() ? 1 : 0, c.getReverse() ? 1 : 0}; })
      .Case<LayerNormOp>([&](LayerNormOp l) {
        call.ints = {int64_t(l.getAxis())};
        call.floats = {l.getEpsilon().convertToFloat()};
      })
      .Case<RmsNormOp>([&](RmsNormOp r) { call.floats = {r.getEpsilon().convertToFloat()}; })
      .Case<AttentionOp>([&](AttentionOp a) {
        call.floats = {a.getScale().convertToFloat()};
        // The number of keys, which a KV cache holds more room for than it uses.
        setInts(call, op, {SymDim(a.getCausal() ? 1 : 0), symbolicShape(a.getKey().getType())[2],
                           SymDim(kvStorageCode(a.getKey())), SymDim(kvStorageCode(a.getValue()))});
      })
      .Case<LinearOp>([&](LinearOp l) { call.ints = {weightFormatCode(l.getFormat())}; })
      .Case<EmbeddingOp>([&](EmbeddingOp e) { call.ints = {weightFormatCode(e.getFormat())}; })
      .Case<RopeOp>([&](RopeOp r) {
        call.ints = {r.getInterleaved() ? 1 : 0};
        call.floats = {r.getTheta().convertToFloat()};
      })
      .Case<KvAppendOp>([&](KvAppendOp k) {
        setInts(call, op, {symbolicShape(k.getCache().getType())[2], SymDim(kvStorageCode(k.getCache()))});
      })
      .Case<SymbolicOp>([&](SymbolicOp s) {
        call.kernel = "fill_ints";
        call.sym_ints = s.getValuesAttr();
      })
      .Default([](Operation*) {});
  if (call.ints.size() > size_t(ek::kMaxAttrInts) || call.floats.size() > 4) return failure();
  if (call.sym_ints && call.sym_ints.getValue().getNumResults() > unsigned(ek::kMaxAttrInts)) return failure();
  Value typed = op->getNumOperands() ? op->getOperand(0) : op->getResult(0);
  if (!kernelSupports(call.kernel, cast<RankedTensorType>(typed.getType()).getElementType())) return failure();
  return call;
}

bool isKernel(llvm::StringRef kernel, llvm::StringRef name) {
  return kernel == name || (kernel.ends_with(name) && kernel.drop_back(name.size()).ends_with("::"));
}

}  // namespace edgecc
