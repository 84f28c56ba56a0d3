#include "compiler/ir/ConstantData.h"
#include "compiler/passes/Passes.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace edgecc {
#define GEN_PASS_DEF_MATMULTOLINEAR
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

// x [..., K] @ W [K, N], W a constant f32 matrix -> linear(x, W^T) with W^T's rows stored.
struct MatMulByConstant : OpRewritePattern<graph::MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::MatMulOp mm, PatternRewriter& rw) const override {
    auto x = cast<RankedTensorType>(mm.getLhs().getType());
    auto w = cast<RankedTensorType>(mm.getRhs().getType());
    auto y = cast<RankedTensorType>(mm.getType());
    ElementsAttr value = constantValue(mm.getRhs());
    if (!value || w.getRank() != 2 || !w.hasStaticShape() || x.getRank() < 2 || !x.getElementType().isF32() ||
        !w.getElementType().isF32() || !y.getElementType().isF32() || y.getRank() != x.getRank())
      return failure();
    const int64_t k = w.getDimSize(0), n = w.getDimSize(1);
    if (x.getShape().back() != k) return failure();
    std::vector<uint8_t> bytes = elementsBytes(value);
    std::string rows(bytes.size(), '\0');
    const auto* src = reinterpret_cast<const float*>(bytes.data());
    auto* dst = reinterpret_cast<float*>(rows.data());
    for (int64_t r = 0; r < k; ++r)
      for (int64_t c = 0; c < n; ++c) dst[c * k + r] = src[r * n + c];
    auto type = RankedTensorType::get({n, k}, w.getElementType());
    auto constant = mm.getRhs().getDefiningOp<graph::ConstantOp>();
    auto transposed = rw.create<graph::ConstantOp>(mm.getLoc(), type, makeElementsAttr(type, std::move(rows)),
                                                   constant.getNameAttr());
    rw.replaceOpWithNewOp<graph::LinearOp>(mm, y, mm.getLhs(), transposed, rw.getStringAttr("f32"));
    return success();
  }
};

struct MatMulToLinearPass : impl::MatMulToLinearBase<MatMulToLinearPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MatMulByConstant>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace edgecc
