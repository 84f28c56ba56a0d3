#include "compiler/ir/KernelMapping.h"
#include "compiler/memory/ResidentPlan.h"
#include "compiler/ir/SymbolicShape.h"
#include "compiler/passes/ArenaPlanner.h"
#include "compiler/passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"
#include "runtime/kernels/kernels.h"

#include <map>
#include <string>

namespace edgecc {
#define GEN_PASS_DEF_PLANMEMORY
#include "compiler/passes/Passes.h.inc"

namespace {

bool writesInPlace(llvm::StringRef kernel) {
  static const llvm::StringSet<> kernels = {
#define EK_KERNEL_NAME(name) #name,
      EK_IN_PLACE_KERNEL_LIST(EK_KERNEL_NAME)
#undef EK_KERNEL_NAME
  };
  return kernels.contains(kernel);
}

// Buffers that share one arena slot: an in-place kernel's output takes over an input buffer of
// the same shape and type that dies at the call (and is first used there). Handovers chain
// (x -> add -> y -> mul -> z), so each buffer's slot is its chain's first buffer: group[k].
std::vector<size_t> inPlaceGroups(mlir::func::FuncOp func, const std::vector<exec::AllocOp>& allocs,
                                  const std::vector<BufferLifetime>& lives) {
  llvm::DenseMap<mlir::Operation*, size_t> bufferOf;
  for (size_t k = 0; k < allocs.size(); ++k) bufferOf[allocs[k]] = k;
  llvm::DenseMap<mlir::Operation*, int64_t> index;
  int64_t i = 0;
  func.walk([&](mlir::Operation* op) { index[op] = i++; });
  std::vector<size_t> group(allocs.size());
  for (size_t k = 0; k < group.size(); ++k) group[k] = k;
  func.walk([&](exec::CallOp call) {
    if (!writesInPlace(call.getKernel()) || call.getOuts().size() != 1) return;
    mlir::Value out = call.getOuts()[0];
    auto outAlloc = out.getDefiningOp<exec::AllocOp>();
    if (!outAlloc) return;
    const size_t o = bufferOf.lookup(outAlloc);
    // The call must be the output's first use: nothing written to it earlier may be lost.
    for (mlir::Operation* user : out.getUsers())
      if (index[user] < index[call]) return;
    for (mlir::Value in : call.getIns()) {
      auto inAlloc = in.getDefiningOp<exec::AllocOp>();
      // Same type and dims (so the same bytes at the bounds).
      if (!inAlloc || in.getType() != out.getType() || execDims(func, in) != execDims(func, out)) continue;
      const size_t k = bufferOf.lookup(inAlloc);
      if (lives[k].last != index[call]) continue;  // read later: not free to take over
      group[o] = group[k];
      return;
    }
  });
  return group;
}

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
      std::vector<exec::AllocOp> allocs;
      std::vector<BufferLifetime> lifetimes;
      for (auto& [alloc, life] : arenaLifetimes(func, bounds)) {
        allocs.push_back(alloc);
        lifetimes.push_back(life);
      }
      // One planner buffer per in-place chain, live from its first buffer's start to its last's end.
      const std::vector<size_t> group = inPlaceGroups(func, allocs, lifetimes);
      std::vector<BufferLifetime> slots;
      std::vector<size_t> slotOf(allocs.size());
      for (size_t k = 0; k < allocs.size(); ++k)
        if (group[k] == k) {
          slotOf[k] = slots.size();
          slots.push_back(lifetimes[k]);
        }
      for (size_t k = 0; k < allocs.size(); ++k) {
        if (group[k] == k) continue;
        slotOf[k] = slotOf[group[k]];
        BufferLifetime& slot = slots[slotOf[k]];
        slot.first = std::min(slot.first, lifetimes[k].first);
        slot.last = std::max(slot.last, lifetimes[k].last);
      }
      ArenaPlan plan = planArena(slots, alignment);
      mlir::Builder b(module.getContext());
      for (size_t k = 0; k < allocs.size(); ++k) allocs[k].setOffsetAttr(b.getI64IntegerAttr(plan.offsets[slotOf[k]]));
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
