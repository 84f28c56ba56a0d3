// Local folds: no-op layout ops disappear, chained reshapes collapse. Folds that need to
// compute values live in the fold-constants pass, which runs the runtime's kernels.
#include "dialects/graph/GraphDialect.h"

using namespace mlir;

namespace edgecc::graph {

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType()) return getInput();
  return {};
}

OpFoldResult ReshapeOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType()) return getInput();
  // reshape(reshape(x)) -> reshape(x): only the final shape matters.
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    getInputMutable().assign(inner.getInput());
    return getResult();
  }
  return {};
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPermutation()))
    if (int64_t(i) != p) return {};
  return getInput();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (getInput().getType() != getType()) return {};
  for (int64_t s : getSteps())
    if (s != 1) return {};
  return getInput();
}

OpFoldResult ExpandOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType()) return getInput();
  return {};
}

}  // namespace edgecc::graph
