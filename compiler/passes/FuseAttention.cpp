// softmax(q k^T * scale + mask) v -> graph.attention. The fused kernel never materializes
// the S x T score matrix and reads grouped-query key/value heads without repeating them.
#include "compiler/ir/SymbolicShape.h"
#include "compiler/passes/Passes.h"
#include "compiler/passes/PatternUtils.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace edgecc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

// Undoes HF's repeat_kv: reshape([B,Hkv,T,D] -> [B,Hkv,1,T,D]) -> expand(g) -> reshape([B,Hkv*g,T,D]).
Value unrepeatHeads(Value v) {
  auto outer = v.getDefiningOp<graph::ReshapeOp>();
  if (!outer) return v;
  auto expand = outer.getInput().getDefiningOp<graph::ExpandOp>();
  auto inner = expand ? expand.getInput().getDefiningOp<graph::ReshapeOp>() : nullptr;
  if (!inner) return v;
  auto src = inner.getInput().getType().getShape();   // [B, Hkv, T, D]
  auto mid = inner.getType().getShape();               // [B, Hkv, 1, T, D]
  auto wide = expand.getType().getShape();             // [B, Hkv, g, T, D]
  auto out = outer.getType().getShape();               // [B, Hkv*g, T, D]
  if (src.size() != 4 || mid.size() != 5 || out.size() != 4) return v;
  if (mid[0] != src[0] || mid[1] != src[1] || mid[2] != 1 || mid[3] != src[2] || mid[4] != src[3]) return v;
  if (wide[0] != src[0] || wide[1] != src[1] || wide[3] != src[2] || wide[4] != src[3]) return v;
  if (out[0] != src[0] || out[1] != src[1] * wide[2] || out[2] != src[2] || out[3] != src[3]) return v;
  return inner.getInput();
}

// q k^T, optionally scaled by a scalar constant (qk / s or qk * s), producing `scores`.
struct Scores {
  Value q, k;
  double scale = 1.0;
};
std::optional<Scores> matchScores(Value scores, Type softmaxType) {
  // The scaled scores must already have the softmax's shape: a scale or mask that broadcasts
  // heads or batch would change what attention computes.
  if (scores.getType() != softmaxType) return std::nullopt;
  Scores m;
  Value qk = scores;
  if (auto div = scores.getDefiningOp<graph::DivOp>()) {
    auto s = scalarConstant(div.getRhs());
    if (!s || *s == 0) return std::nullopt;
    m.scale = 1.0 / *s;
    qk = div.getLhs();
  } else if (scores.getDefiningOp<graph::MulOp>()) {
    std::optional<double> s;
    if (!matchBinary<graph::MulOp>(scores, [&](Value a, Value b) {
          s = scalarConstant(b);
          qk = a;
          return s.has_value();
        }))
      return std::nullopt;
    m.scale = *s;
  }
  auto mm = qk.getDefiningOp<graph::MatMulOp>();
  auto kT = mm ? mm.getRhs().getDefiningOp<graph::TransposeOp>() : nullptr;
  if (!kT || kT.getPermutation() != ArrayRef<int64_t>{0, 1, 3, 2} || mm.getType() != scores.getType()) return std::nullopt;
  m.q = mm.getLhs();
  m.k = kT.getInput();
  return m;
}

// where(keep, scores, fill) with a fill so negative that scores + fill rounds to fill (GPT-2's
// causal mask): the scores, and keep as an additive mask where(keep, 0, fill). Softmax gives
// the same probabilities either way.
struct KeepMask {
  Value keep;
  double fill = 0;
};
std::optional<Scores> matchKeptScores(Value v, Type softmaxType, KeepMask* keep) {
  auto where = v.getDefiningOp<graph::WhereOp>();
  if (!where || where.getType() != softmaxType) return std::nullopt;
  std::optional<double> fill = scalarConstant(where.getRhs());
  if (!fill || *fill > -1e30) return std::nullopt;
  std::optional<Scores> scores = matchScores(where.getLhs(), softmaxType);
  if (scores) *keep = {where.getCondition(), *fill};
  return scores;
}

struct AttentionPattern : OpRewritePattern<graph::SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(graph::SoftmaxOp softmax, PatternRewriter& rw) const override {
    auto type = softmax.getType();
    if (type.getRank() != 4 || int64_t(softmax.getAxis()) != 3 || !type.getElementType().isF32() || !softmax->hasOneUse())
      return failure();
    auto pv = dyn_cast<graph::MatMulOp>(*softmax->getUsers().begin());
    if (!pv || pv.getLhs() != softmax.getResult()) return failure();
    // Scores, with an optional additive mask on either side.
    Value mask;
    KeepMask keep;
    auto scoresOf = [&](Value v) {
      std::optional<Scores> s = matchScores(v, type);
      return s ? s : matchKeptScores(v, type, &keep);
    };
    std::optional<Scores> scores = scoresOf(softmax.getInput());
    if (!scores) {
      auto add = softmax.getInput().getDefiningOp<graph::AddOp>();
      if (!add || add.getType() != type) return failure();
      if ((scores = scoresOf(add.getLhs()))) mask = add.getRhs();
      else if ((scores = scoresOf(add.getRhs()))) mask = add.getLhs();
      else return failure();
    }
    Value q = scores->q;
    Value k = unrepeatHeads(scores->k);
    Value v = unrepeatHeads(pv.getRhs());
    auto qt = cast<RankedTensorType>(q.getType()), kt = cast<RankedTensorType>(k.getType()), vt = cast<RankedTensorType>(v.getType());
    if (qt.getRank() != 4 || kt.getRank() != 4 || vt.getRank() != 4) return failure();
    if (qt.getShape()[0] != kt.getShape()[0] || kt.getShape()[0] != vt.getShape()[0]) return failure();  // batch broadcast
    if (kt.getShape()[1] != vt.getShape()[1] || qt.getShape()[1] % kt.getShape()[1] != 0) return failure();
    if (mask) {
      SmallVector<int64_t> b;
      auto mt = cast<RankedTensorType>(mask.getType());
      if (!mt.getElementType().isF32() || mt.getRank() > 4 || failed(graph::broadcastShapes(mt.getShape(), type.getShape(), b)) ||
          ArrayRef<int64_t>(b) != type.getShape())
        return failure();
    }
    // A kept-scores condition joins the mask; every check comes before the first new op.
    SymShape keepDims, maskDims;
    if (keep.keep) {
      keepDims = symbolicShape(keep.keep.getType());
      maskDims = keepDims;
      if (mask && (!cast<RankedTensorType>(mask.getType()).getElementType().isF32() ||
                   failed(broadcastSymbolic(keepDims, symbolicShape(mask.getType()), maskDims))))
        return failure();
    }
    rw.setInsertionPoint(pv);
    if (keep.keep) {
      const int numSymbols = int(symbolBounds(softmax).names.size());
      auto scalar = RankedTensorType::get({}, rw.getF32Type());
      auto zero = rw.create<graph::ConstantOp>(softmax.getLoc(), scalar, DenseElementsAttr::get(scalar, 0.0f), StringAttr());
      auto fill = rw.create<graph::ConstantOp>(softmax.getLoc(), scalar, DenseElementsAttr::get(scalar, float(keep.fill)), StringAttr());
      Value keepMask = rw.create<graph::WhereOp>(softmax.getLoc(), symbolicTensorType(getContext(), keepDims, rw.getF32Type(), numSymbols),
                                                 keep.keep, zero, fill);
      if (mask)
        keepMask = rw.create<graph::AddOp>(softmax.getLoc(), symbolicTensorType(getContext(), maskDims, rw.getF32Type(), numSymbols),
                                           keepMask, mask);
      mask = keepMask;
    }
    rw.replaceOpWithNewOp<graph::AttentionOp>(pv, pv.getType(), q, k, v, mask, rw.getF32FloatAttr(float(scores->scale)), UnitAttr());
    return success();
  }
};

struct FuseAttentionPass : impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AttentionPattern>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns)))) signalPassFailure();
  }
};

}  // namespace
}  // namespace edgecc
