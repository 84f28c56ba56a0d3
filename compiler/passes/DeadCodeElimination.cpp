#include "compiler/passes/Passes.h"

namespace edgecc {
#define GEN_PASS_DEF_DEADCODEELIMINATION
#include "compiler/passes/Passes.h.inc"

namespace {
struct DeadCodeEliminationPass : impl::DeadCodeEliminationBase<DeadCodeEliminationPass> {
  void runOnOperation() override {
    // Graph ops are pure: walking each block backwards erases whole dead chains in one pass.
    getOperation().walk([](mlir::Block* block) {
      for (mlir::Operation& op : llvm::make_early_inc_range(llvm::reverse(*block)))
        if (op.getDialect() && op.getDialect()->getNamespace() == "graph" && op.use_empty()) op.erase();
    });
  }
};
}  // namespace
}  // namespace edgecc
