#include "compiler/ir/KernelMapping.h"
#include "compiler/passes/Passes.h"
#include "runtime/weight_format.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace edgecc {
#define GEN_PASS_DEF_LOWERTOEXEC
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

MemRefType bufferType(Type tensor) {
  auto t = cast<RankedTensorType>(tensor);
  return MemRefType::get(t.getShape(), t.getElementType());
}

// Symbolic dims travel from the tensor type's encoding to a `dims` attribute on the buffer.
AffineMapAttr dimsOf(Type tensor) { return dyn_cast_or_null<AffineMapAttr>(cast<RankedTensorType>(tensor).getEncoding()); }

// The node that produced an op, for the generated comment ("MatMul_12 (MatMul)").
StringAttr sourceName(Operation* op) {
  if (auto name = dyn_cast<NameLoc>(op->getLoc())) return name.getName();
  if (auto fused = dyn_cast<FusedLoc>(op->getLoc()))
    for (Location l : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(l)) return name.getName();
  return {};
}

LogicalResult lowerFunction(func::FuncOp graphFunc) {
  OpBuilder b(graphFunc);
  MLIRContext* ctx = graphFunc.getContext();
  FunctionType ft = graphFunc.getFunctionType();

  // exec signature: inputs, then one destination buffer per result.
  SmallVector<Type> args;
  for (Type t : ft.getInputs()) args.push_back(bufferType(t));
  for (Type t : ft.getResults()) args.push_back(bufferType(t));
  auto execFunc = b.create<func::FuncOp>(graphFunc.getLoc(), graphFunc.getName(), b.getFunctionType(args, {}));
  execFunc->setAttr("exec.num_inputs", b.getI64IntegerAttr(ft.getNumInputs()));
  for (unsigned i = 0; i < ft.getNumInputs(); ++i) {
    execFunc.setArgAttrs(i, graphFunc.getArgAttrDict(i));
    if (auto dims = dimsOf(ft.getInput(i))) execFunc.setArgAttr(i, "exec.dims", dims);
  }
  for (unsigned i = 0; i < ft.getNumResults(); ++i)
    if (auto dims = dimsOf(ft.getResult(i))) execFunc.setArgAttr(ft.getNumInputs() + i, "exec.dims", dims);
  for (unsigned i = 0; i < ft.getNumResults(); ++i)
    for (StringRef key : {"graph.name", "graph.llm_output"})
      if (auto attr = graphFunc.getResultAttr(i, key)) execFunc.setArgAttr(ft.getNumInputs() + i, key, attr);
  Block* body = execFunc.addEntryBlock();
  b.setInsertionPointToEnd(body);

  IRMapping buffers;
  Block& graphBody = graphFunc.getBody().front();
  for (auto [t, e] : llvm::zip(graphBody.getArguments(), body->getArguments().take_front(ft.getNumInputs())))
    buffers.map(t, e);

  // Results computed by a kernel are written straight into their output buffer.
  auto ret = cast<func::ReturnOp>(graphBody.getTerminator());
  for (Value v : ret.getOperands())
    if (isa_and_nonnull<graph::KvCacheOp, graph::KvAppendOp>(v.getDefiningOp()))
      return v.getDefiningOp()->emitOpError("the KV cache is the bundle's state and cannot be a result");
  llvm::DenseMap<Value, Value> destination;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Operation* def = v.getDefiningOp();
    if (def && !isa<graph::ConstantOp, graph::ReshapeOp, graph::KvCacheOp, graph::KvAppendOp>(def) && !destination.count(v))
      destination[v] = body->getArgument(ft.getNumInputs() + unsigned(i));
  }

  for (Operation& op : graphBody.without_terminator()) {
    Location loc = op.getLoc();
    if (auto c = dyn_cast<graph::ConstantOp>(op)) {
      auto w = b.create<exec::WeightOp>(loc, bufferType(c.getType()), c.getValue(), c.getNameAttr());
      buffers.map(c.getResult(), w.getResult());
      continue;
    }
    // The KV cache: a state buffer at full capacity; appending writes into it in place, and
    // the appended value is that same buffer (kernels get the length in use as an int).
    if (auto cache = dyn_cast<graph::KvCacheOp>(op)) {
      auto t = cast<RankedTensorType>(cache.getType());
      SmallVector<int64_t> shape(t.getShape());
      shape[2] = cache.getCapacityAttr().getInt();
      // Rows as stored: f16 values, or q8_0 blocks as bytes (the kernels get the format as an int).
      Type element = t.getElementType();
      if (cache.getStorage() == "f16") element = b.getF16Type();
      if (cache.getStorage() == "q8_0") {
        element = b.getIntegerType(8);
        shape[3] = ek::row_bytes(ek::WeightFormat::Q8_0, shape[3]);
      }
      auto state = b.create<exec::StateOp>(loc, MemRefType::get(shape, element), cache.getSlotAttr(), IntegerAttr());
      buffers.map(cache.getResult(), state.getResult());
      continue;
    }
    if (auto append = dyn_cast<graph::KvAppendOp>(op)) {
      FailureOr<KernelCall> call = kernelCallFor(&op);
      if (failed(call)) return op.emitOpError("has no runtime kernel");
      Value state = buffers.lookup(append.getCache());
      b.create<exec::CallOp>(loc, b.getStringAttr(call->kernel), ValueRange(buffers.lookup(append.getUpdate())),
                             ValueRange(state), b.getDenseI64ArrayAttr(call->ints), b.getDenseF32ArrayAttr({}),
                             sourceName(&op), call->sym_ints, StringAttr());
      buffers.map(append.getResult(), state);
      continue;
    }
    if (auto r = dyn_cast<graph::ReshapeOp>(op)) {
      auto v = b.create<exec::ViewOp>(loc, bufferType(r.getType()), buffers.lookup(r.getInput()), dimsOf(r.getType()));
      buffers.map(r.getResult(), v.getResult());
      continue;
    }
    FailureOr<KernelCall> call = kernelCallFor(&op);
    if (failed(call))
      return op.emitOpError("has no runtime kernel for operands of type ") << op.getOperand(0).getType();
    SmallVector<Value> ins, outs;
    for (Value v : op.getOperands()) ins.push_back(buffers.lookup(v));
    for (Value r : op.getResults()) {
      Value out = destination.lookup(r);
      if (!out) out = b.create<exec::AllocOp>(loc, bufferType(r.getType()), IntegerAttr(), dimsOf(r.getType())).getResult();
      buffers.map(r, out);
      outs.push_back(out);
    }
    b.create<exec::CallOp>(loc, b.getStringAttr(call->kernel), ins, outs, b.getDenseI64ArrayAttr(call->ints),
                           b.getDenseF32ArrayAttr(call->floats), sourceName(&op), call->sym_ints, StringAttr());
  }
  // Results not computed in place (inputs, constants, views, repeats) are copied out.
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value dst = body->getArgument(ft.getNumInputs() + unsigned(i));
    if (buffers.lookup(v) == dst) continue;
    b.create<exec::CallOp>(ret.getLoc(), b.getStringAttr("copy"), ValueRange(buffers.lookup(v)), ValueRange(dst),
                           b.getDenseI64ArrayAttr({}), b.getDenseF32ArrayAttr({}), StringAttr::get(ctx, "output copy"),
                           AffineMapAttr(), StringAttr());
  }
  b.create<func::ReturnOp>(ret.getLoc());
  graphFunc.erase();
  return success();
}

struct LowerToExecPass : impl::LowerToExecBase<LowerToExecPass> {
  void runOnOperation() override {
    for (auto func : llvm::make_early_inc_range(getOperation().getOps<func::FuncOp>()))
      if (failed(lowerFunction(func))) return signalPassFailure();
  }
};
}  // namespace
}  // namespace edgecc
