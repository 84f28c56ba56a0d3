#include "compiler/memory/ArenaLayout.h"

#include "compiler/memory/ResidentPlan.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"
#include "runtime/kernels/kernels.h"

namespace edgecc {

using namespace mlir;

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
std::vector<size_t> inPlaceGroups(func::FuncOp func, const std::vector<exec::AllocOp>& allocs,
                                  const std::vector<BufferLifetime>& lives) {
  llvm::DenseMap<Operation*, size_t> bufferOf;
  for (size_t k = 0; k < allocs.size(); ++k) bufferOf[allocs[k]] = k;
  llvm::DenseMap<Operation*, int64_t> index;
  int64_t i = 0;
  func.walk([&](Operation* op) { index[op] = i++; });
  std::vector<size_t> group(allocs.size());
  for (size_t k = 0; k < group.size(); ++k) group[k] = k;
  func.walk([&](exec::CallOp call) {
    if (!writesInPlace(call.getKernel()) || call.getOuts().size() != 1) return;
    Value out = call.getOuts()[0];
    auto outAlloc = out.getDefiningOp<exec::AllocOp>();
    if (!outAlloc) return;
    const size_t o = bufferOf.lookup(outAlloc);
    // The call must be the output's first use: nothing written to it earlier may be lost.
    for (Operation* user : out.getUsers())
      if (index[user] < index[call]) return;
    for (Value in : call.getIns()) {
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

}  // namespace

std::vector<std::pair<exec::AllocOp, BufferLifetime>> arenaLifetimes(func::FuncOp func, const SymbolBounds& bounds) {
  llvm::DenseMap<Operation*, int64_t> index;
  int64_t i = 0;
  func.walk([&](Operation* op) { index[op] = i++; });
  std::vector<std::pair<exec::AllocOp, BufferLifetime>> out;
  func.walk([&](exec::AllocOp alloc) {
    BufferLifetime life{boundedBytes(func, alloc.getResult(), bounds), index[alloc], index[alloc]};
    // Follow views: a use of a view is a use of the buffer it aliases.
    llvm::SmallVector<Value> work = {alloc.getResult()};
    while (!work.empty()) {
      Value v = work.pop_back_val();
      for (Operation* user : v.getUsers()) {
        life.last = std::max(life.last, index[user]);
        if (auto view = dyn_cast<exec::ViewOp>(user)) work.push_back(view.getResult());
      }
    }
    out.push_back({alloc, life});
  });
  return out;
}

ArenaLayout layOutArena(func::FuncOp func, const SymbolBounds& bounds, int64_t alignment) {
  ArenaLayout layout;
  std::vector<BufferLifetime> lifetimes;
  for (auto& [alloc, life] : arenaLifetimes(func, bounds)) {
    layout.allocs.push_back(alloc);
    lifetimes.push_back(life);
  }
  // One planner buffer per in-place chain, live from its first buffer's start to its last's end.
  const std::vector<size_t> group = inPlaceGroups(func, layout.allocs, lifetimes);
  std::vector<BufferLifetime> slots;
  std::vector<size_t> slotOf(layout.allocs.size());
  for (size_t k = 0; k < layout.allocs.size(); ++k)
    if (group[k] == k) {
      slotOf[k] = slots.size();
      slots.push_back(lifetimes[k]);
    }
  for (size_t k = 0; k < layout.allocs.size(); ++k) {
    if (group[k] == k) continue;
    slotOf[k] = slotOf[group[k]];
    BufferLifetime& slot = slots[slotOf[k]];
    slot.first = std::min(slot.first, lifetimes[k].first);
    slot.last = std::max(slot.last, lifetimes[k].last);
  }
  layout.plan = planArena(slots, alignment);
  for (size_t k = 0; k < layout.allocs.size(); ++k) layout.offsets.push_back(layout.plan.offsets[slotOf[k]]);
  return layout;
}

}  // namespace edgecc
