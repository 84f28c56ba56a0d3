#include "compiler/passes/Passes.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace edgecc {
#define GEN_PASS_DEF_DEADCODEELIMINATION
#include "compiler/passes/Passes.h.inc"

namespace {
struct DeadCodeEliminationPass : impl::DeadCodeEliminationBase<DeadCodeEliminationPass> {
  void runOnOperation() override {
    // An unused op goes only if its side effects allow it (graph.kv_append writes the cache,
    // so it stays whatever the pass order). Walking each block backwards erases whole dead
    // chains in one pass.
    getOperation().walk([](mlir::Block* block) {
      for (mlir::Operation& op : llvm::make_early_inc_range(llvm::reverse(*block)))
        if (op.getDialect() && op.getDialect()->getNamespace() == "graph" && mlir::isOpTriviallyDead(&op)) op.erase();
    });
  }
};
}  // namespace
}  // namespace edgecc
