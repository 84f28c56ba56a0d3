#include "compiler/ir/KernelMapping.h"
#include "compiler/memory/ArenaLayout.h"
#include "compiler/ir/SymbolicShape.h"
#include "compiler/passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "runtime/kernels/kernels.h"

#include <map>
#include <string>

namespace edgecc {
#define GEN_PASS_DEF_PLANMEMORY
#include "compiler/passes/Passes.h.inc"

namespace {

struct PlanMemoryPass : impl::PlanMemoryBase<PlanMemoryPass> {
  using PlanMemoryBase::PlanMemoryBase;
  void runOnOperation() override {
    mlir::ModuleOp module = getOperation();
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
      module.emitError("alignment must be a positive power of two, got ") << alignment;
      return signalPassFailure();
    }
    int64_t arena = 0;
    std::string chosen;
    std::map<std::string, int64_t> tried;  // planner -> its arena (the largest over functions)
    const SymbolBounds bounds = symbolBounds(module);
    for (auto func : module.getOps<mlir::func::FuncOp>()) {
      // Sizes at the symbols' upper bounds: the arena fits every size the bundle accepts.
      ArenaLayout layout = layOutArena(func, bounds, alignment);
      const ArenaPlan& plan = layout.plan;
      mlir::Builder b(module.getContext());
      for (size_t k = 0; k < layout.allocs.size(); ++k)
        layout.allocs[k].setOffsetAttr(b.getI64IntegerAttr(layout.offsets[k]));
      if (plan.arena_bytes >= arena) { arena = plan.arena_bytes; chosen = plan.planner; }
      for (auto& [name, bytes] : plan.tried) tried[name] = std::max(tried[name], bytes);
    }
    // State (the KV cache) persists between calls: slots are laid end to end, never reused.
    int64_t state = 0;
    mlir::Builder b(module.getContext());
    module.walk([&](exec::StateOp s) {
      auto t = s.getType();
      int64_t bytes = t.getNumElements() * int64_t(ek::dtype_size(*dtypeOf(t.getElementType())));
      s.setOffsetAttr(b.getI64IntegerAttr(state));
      state += (bytes + alignment - 1) / alignment * alignment;
    });
    module->setAttr("exec.arena_bytes", b.getI64IntegerAttr(arena));
    if (!chosen.empty()) {
      // Which planner laid out the arena, and what each would have needed (report.json).
      llvm::SmallVector<mlir::NamedAttribute> entries;
      for (auto& [name, bytes] : tried) entries.push_back(b.getNamedAttr(name, b.getI64IntegerAttr(bytes)));
      module->setAttr("exec.arena_planner", b.getStringAttr(chosen));
      module->setAttr("exec.arena_planners", b.getDictionaryAttr(entries));
    }
    if (state) module->setAttr("exec.state_bytes", b.getI64IntegerAttr(state));
  }
};
}  // namespace
}  // namespace edgecc
