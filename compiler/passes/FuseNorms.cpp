// RMSNorm and LayerNorm arrive decomposed from PyTorch exports; the fused ops read x once
// and compute the statistics in one kernel.
#include "compiler/passes/Passes.h"
#include "compiler/passes/PatternUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSENORMS
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

// Matches 1 / sqrt(mean + eps) in its exported spellings; returns the sqrt's add.
graph::AddOp matchRsqrt(Value v) {
  Value s;
  if (auto d = v.getDefiningOp<graph::DivOp>(); d && isScalar(d.getLhs(), 1.0)) s = d.getRhs();
  else if (auto r = v.getDefiningOp<graph::ReciprocalOp>()) s = r.getInput();
  if (!s) return nullptr;
  auto sqrt = s.getDefiningOp<graph::SqrtOp>();
  return sqrt ? sqrt.getInput().getDefiningOp<graph::AddOp>() : nullptr;
}

// eps from `mean + eps`, and the mean.
std::optional<double> epsilonOf(graph::AddOp add, graph::ReduceMeanOp* mean) {
  std::optional<double> eps;
  matchBinary<graph::AddOp>(add.getResult(), [&](Value a, Value b) {
    *mean = lastAxisMean(a);
    eps = scalarConstant(b);
    return *mean && eps;
  });
  return *mean ? eps : std::nullopt;
}

// The scale `w` of `y * w` when w is a vector over the last axis.
Value lastAxisScale(Operation* mul, Value y, int64_t width) {
  Value w = mul->getOperand(0) == y ? mul->getOperand(1) : mul->getOperand(0);
  auto t = cast<RankedTensorType>(w.getType());
  if (!t.hasStaticShape()) return {};
  if (t.getNumElements() != width || (t.getRank() > 0 && t.getShape().back() != width)) return {};
  return w;
}

// If the only user of *result is `*result (OpT) w` with w a vector over the last axis, absorbs
// that op: returns w and moves *result past it.
template <class OpT>
Value absorbTrailing(Value* result, RankedTensorType type) {
  if (!result->hasOneUse()) return {};
  auto op = dyn_cast<OpT>(*result->getUsers().begin());
  if (!op || op.getType() != type) return {};
  Value w = lastAxisScale(op, *result, type.getShape().back());
  if (w) *result = op;
  return w;
}

// `w` as the [width] vector the fused kernels read; ones when there is none.
Value vectorOperand(PatternRewriter& rw, Location loc, Value w, int64_t width, float fill) {
  auto want = RankedTensorType::get({width}, rw.getF32Type());
  if (!w) return rw.create<graph::ConstantOp>(loc, want, DenseElementsAttr::get(want, fill), StringAttr());
  if (w.getType() == want) return w;
  return rw.create<graph::ReshapeOp>(loc, want, w);
}

// x * rsqrt(mean(x^2) + eps) [* w]   or   x / sqrt(mean(x^2) + eps) [* w]
struct RmsNormPattern : OpRewritePattern<graph::SqrtOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::SqrtOp sqrt, PatternRewriter& rw) const override {
    auto add = sqrt.getInput().getDefiningOp<graph::AddOp>();
    graph::ReduceMeanOp mean;
    auto eps = add ? epsilonOf(add, &mean) : std::nullopt;
    if (!eps) return failure();
    Value x = squareOf(mean.getInput());
    if (!x || !sqrt->hasOneUse()) return failure();
    // Normalized value: x * (1/sqrt) or x / sqrt.
    Operation* user = *sqrt->getUsers().begin();
    Value normalized;
    if (auto div = dyn_cast<graph::DivOp>(user); div && div.getLhs() == x && div.getRhs() == sqrt) {
      normalized = div;
    } else if (user->hasOneUse()) {
      if (matchRsqrt(user->getResult(0)) != add) return failure();
      Operation* mul = *user->getUsers().begin();
      if (!isa<graph::MulOp>(mul) || !(mul->getOperand(0) == x || mul->getOperand(1) == x)) return failure();
      normalized = mul->getResult(0);
    } else {
      return failure();
    }
    auto type = cast<RankedTensorType>(x.getType());
    if (normalized.getType() != type || !type.getElementType().isF32() || ShapedType::isDynamic(type.getShape().back()))
      return failure();
    Value result = normalized;
    Value scale = absorbTrailing<graph::MulOp>(&result, type);
    rw.setInsertionPointAfterValue(result);
    Location loc = result.getLoc();
    scale = vectorOperand(rw, loc, scale, type.getShape().back(), 1.f);
    auto fused = rw.create<graph::RmsNormOp>(loc, type, x, scale, rw.getF32FloatAttr(float(*eps)));
    rw.replaceAllUsesWith(result, fused.getResult());
    return success();
  }
};

// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* w] [+ b]
struct LayerNormPattern : OpRewritePattern<graph::SqrtOp> {
  // Tried before RmsNormPattern, which would otherwise claim the variance half of it.
  explicit LayerNormPattern(MLIRContext* ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(graph::SqrtOp sqrt, PatternRewriter& rw) const override {
    auto add = sqrt.getInput().getDefiningOp<graph::AddOp>();
    graph::ReduceMeanOp var;
    auto eps = add ? epsilonOf(add, &var) : std::nullopt;
    if (!eps) return failure();
    Value centered = squareOf(var.getInput());
    auto sub = centered ? centered.getDefiningOp<graph::SubOp>() : nullptr;
    if (!sub) return failure();
    Value x = sub.getLhs();
    auto mean = lastAxisMean(sub.getRhs());
    if (!mean || mean.getInput() != x || !sqrt->hasOneUse()) return failure();
    auto div = dyn_cast<graph::DivOp>(*sqrt->getUsers().begin());
    if (!div || div.getLhs() != centered) return failure();
    auto type = cast<RankedTensorType>(x.getType());
    if (div.getType() != type || !type.getElementType().isF32() || ShapedType::isDynamic(type.getShape().back()))
      return failure();
    const int64_t width = type.getShape().back();
    Value result = div;
    Value scale = absorbTrailing<graph::MulOp>(&result, type);
    Value bias = scale ? absorbTrailing<graph::AddOp>(&result, type) : Value();
    rw.setInsertionPointAfterValue(result);
    Location loc = result.getLoc();
    scale = vectorOperand(rw, loc, scale, width, 1.f);
    if (bias) bias = vectorOperand(rw, loc, bias, width, 0.f);
    auto fused = rw.create<graph::LayerNormOp>(loc, type, x, scale, bias, rw.getI64IntegerAttr(type.getRank() - 1),
                                               rw.getF32FloatAttr(float(*eps)));
    rw.replaceAllUsesWith(result, fused.getResult());
    return success();
  }
};

struct FuseNormsPass : impl::FuseNormsBase<FuseNormsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<RmsNormPattern, LayerNormPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace edgecc
