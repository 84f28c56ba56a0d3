#include "compiler/ir/ConstantData.h"
#include "compiler/passes/Passes.h"
#include "mlir/IR/Builders.h"

namespace edgecc {
#define GEN_PASS_DEF_FOLDCONSTANTS
#include "compiler/passes/Passes.h.inc"

namespace {
struct FoldConstantsPass : impl::FoldConstantsBase<FoldConstantsPass> {
  void runOnOperation() override {
    // Program order: folding an op makes its users foldable in the same walk.
    getOperation().walk([](mlir::Operation* op) {
      if (mlir::isa<graph::ConstantOp>(op) || op->getNumOperands() == 0) return;
      auto values = evaluateOp(op);
      if (failed(values)) return;
      mlir::OpBuilder b(op);
      for (auto [result, value] : llvm::zip(op->getResults(), *values)) {
        auto c = b.create<graph::ConstantOp>(op->getLoc(), result.getType(), value, mlir::StringAttr());
        result.replaceAllUsesWith(c.getResult());
      }
      op->erase();
    });
  }
};
}  // namespace
}  // namespace edgecc
