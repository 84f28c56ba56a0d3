// SiLU and GELU arrive as chains of elementwise ops; one fused kernel reads x once.
#include "compiler/passes/Passes.h"
#include "compiler/passes/PatternUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSEACTIVATIONS
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

// x * sigmoid(x)
struct SiluPattern : OpRewritePattern<graph::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::MulOp mul, PatternRewriter& rw) const override {
    Value x;
    if (!matchBinary<graph::MulOp>(mul.getResult(), [&](Value a, Value b) {
          auto s = b.getDefiningOp<graph::SigmoidOp>();
          x = a;
          return s && s.getInput() == a;
        }))
      return failure();
    if (mul.getType() != x.getType()) return failure();
    rw.replaceOpWithNewOp<graph::SiluOp>(mul, mul.getType(), x);
    return success();
  }
};

// Given u = 1 + f(x) at `onePlus`, matches the final 0.5 * x * u in its three association
// orders and returns the op producing it.
Operation* matchHalfXTimes(Value onePlus, Value x) {
  if (!onePlus.hasOneUse()) return nullptr;
  auto mul = dyn_cast<graph::MulOp>(*onePlus.getUsers().begin());
  if (!mul) return nullptr;
  Value other = mul.getLhs() == onePlus ? mul.getRhs() : mul.getLhs();
  // (x * u) * 0.5
  if (other == x && mul->hasOneUse()) {
    auto half = dyn_cast<graph::MulOp>(*mul->getUsers().begin());
    if (half && (isScalar(half.getLhs(), 0.5) || isScalar(half.getRhs(), 0.5))) return half;
    return nullptr;
  }
  // (x * 0.5) * u
  if (matchBinary<graph::MulOp>(other, [&](Value a, Value b) { return a == x && isScalar(b, 0.5); })) return mul;
  return nullptr;
}

// x^3 as x * (x * x), (x * x) * x or pow(x, 3).
bool isCube(Value v, Value x) {
  if (auto p = v.getDefiningOp<graph::PowOp>()) return p.getLhs() == x && isScalar(p.getRhs(), 3.0);
  return bool(matchBinary<graph::MulOp>(v, [&](Value a, Value b) { return a == x && squareOf(b) == x; }));
}

// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
struct GeluTanhPattern : OpRewritePattern<graph::TanhOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::TanhOp tanh, PatternRewriter& rw) const override {
    Value x, inner;
    if (!matchBinary<graph::MulOp>(tanh.getInput(), [&](Value a, Value b) {
          inner = a;
          return isScalar(b, 0.7978845608028654, 1e-5);
        }))
      return failure();
    if (!matchBinary<graph::AddOp>(inner, [&](Value a, Value b) {
          x = a;
          return bool(matchBinary<graph::MulOp>(b, [&](Value c, Value k) { return isScalar(k, 0.044715, 1e-5) && isCube(c, a); }));
        }))
      return failure();
    return rewrite(tanh, x, rw, /*approximate=*/true);
  }

  static LogicalResult rewrite(Operation* f, Value x, PatternRewriter& rw, bool approximate) {
    if (!f->hasOneUse()) return failure();
    auto onePlus = dyn_cast<graph::AddOp>(*f->getUsers().begin());
    if (!onePlus || !(isScalar(onePlus.getLhs(), 1.0) || isScalar(onePlus.getRhs(), 1.0))) return failure();
    Operation* result = matchHalfXTimes(onePlus, x);
    if (!result || result->getResult(0).getType() != x.getType()) return failure();
    rw.setInsertionPoint(result);
    rw.replaceOpWithNewOp<graph::GeluOp>(result, x.getType(), x, rw.getBoolAttr(approximate));
    return success();
  }
};

// 0.5 * x * (1 + erf(x / sqrt(2)))
struct GeluErfPattern : OpRewritePattern<graph::ErfOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::ErfOp erf, PatternRewriter& rw) const override {
    Value x;
    Value in = erf.getInput();
    if (auto d = in.getDefiningOp<graph::DivOp>(); d && isScalar(d.getRhs(), 1.4142135623730951, 1e-5)) x = d.getLhs();
    else if (!matchBinary<graph::MulOp>(in, [&](Value a, Value b) { x = a; return isScalar(b, 0.7071067811865476, 1e-5); }))
      x = nullptr;
    if (!x) return failure();
    return GeluTanhPattern::rewrite(erf, x, rw, /*approximate=*/false);
  }
};

struct FuseActivationsPass : impl::FuseActivationsBase<FuseActivationsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SiluPattern, GeluTanhPattern, GeluErfPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace edgecc
