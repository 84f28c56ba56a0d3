// silu(x W_gate^T) * (x W_up^T): one `linear` over the two weights' concatenated rows (the
// input is quantized and read once, one parallel loop instead of two), then one swiglu pass.
#include "compiler/ir/ConstantData.h"
#include "compiler/passes/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSEGATEUP
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

struct GateUpPattern : OpRewritePattern<graph::MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::MulOp mul, PatternRewriter& rw) const override {
    for (int side = 0; side < 2; ++side) {
      auto silu = mul->getOperand(side).getDefiningOp<graph::SiluOp>();
      auto up = mul->getOperand(1 - side).getDefiningOp<graph::LinearOp>();
      auto gate = silu ? silu.getInput().getDefiningOp<graph::LinearOp>() : graph::LinearOp();
      if (!gate || !up || gate == up || gate.getInput() != up.getInput() || gate.getFormat() != up.getFormat()) continue;
      if (!silu->hasOneUse() || !gate->hasOneUse() || !up->hasOneUse()) continue;
      ElementsAttr wg = constantValue(gate.getWeight()), wu = constantValue(up.getWeight());
      auto tg = cast<RankedTensorType>(gate.getWeight().getType()), tu = cast<RankedTensorType>(up.getWeight().getType());
      if (!wg || !wu || tg != tu || mul.getType() != gate.getType() || gate.getType() != up.getType()) continue;
      // Rows are independent: the concatenation is the gate's bytes, then the up's.
      std::vector<uint8_t> a = elementsBytes(wg), b = elementsBytes(wu);
      std::string rows(a.begin(), a.end());
      rows.append(b.begin(), b.end());
      auto wType = RankedTensorType::get({2 * tg.getDimSize(0), tg.getDimSize(1)}, tg.getElementType());
      Location loc = rw.getFusedLoc({gate.getLoc(), up.getLoc()});
      auto weight = rw.create<graph::ConstantOp>(loc, wType, makeElementsAttr(wType, std::move(rows)), StringAttr());
      auto y = cast<RankedTensorType>(gate.getType());
      SmallVector<int64_t> shape(y.getShape());
      shape.back() *= 2;
      auto yType = RankedTensorType::get(shape, y.getElementType(), doubledLastDim(y, rw));
      auto both = rw.create<graph::LinearOp>(loc, yType, gate.getInput(), weight, gate.getFormatAttr());
      rw.replaceOpWithNewOp<graph::SwigluOp>(mul, mul.getType(), both);
      return success();
    }
    return failure();
  }

  // A symbolic encoding (affine dims) with its last dim doubled; none for static shapes.
  static Attribute doubledLastDim(RankedTensorType t, PatternRewriter& rw) {
    auto map = dyn_cast_or_null<AffineMapAttr>(t.getEncoding());
    if (!map) return {};
    SmallVector<AffineExpr> results(map.getValue().getResults());
    results.back() = results.back() * 2;
    return AffineMapAttr::get(AffineMap::get(0, map.getValue().getNumSymbols(), results, rw.getContext()));
  }
};

struct FuseGateUpPass : impl::FuseGateUpBase<FuseGateUpPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<GateUpPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace edgecc
