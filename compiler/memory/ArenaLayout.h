// Where a lowered function's activation buffers sit in the arena: each exec.alloc's bytes at
// the symbols' bounds and its live range over the op sequence, in-place handovers sharing a
// slot, and the slots placed by the smallest of the arena planners. PlanMemory writes the
// offsets into the IR; the resident plan lays the arena out again at smaller token batches to
// price them.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "compiler/ir/SymbolicShape.h"
#include "compiler/memory/ArenaPlanner.h"
#include "dialects/exec/ExecDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace edgecc {

// The arena buffers of `func` in op order: bytes at the symbols' bounds and live ranges (a use
// of a view is a use of the buffer it aliases).
std::vector<std::pair<exec::AllocOp, BufferLifetime>> arenaLifetimes(mlir::func::FuncOp func, const SymbolBounds& bounds);

struct ArenaLayout {
  std::vector<exec::AllocOp> allocs;  // in op order
  std::vector<int64_t> offsets;       // per alloc
  ArenaPlan plan;                     // of the slots (an in-place chain is one slot)
};

// The alignment of every buffer (PlanMemory's default, Passes.td).
constexpr int64_t kArenaAlignment = 64;

ArenaLayout layOutArena(mlir::func::FuncOp func, const SymbolBounds& bounds, int64_t alignment);

}  // namespace edgecc
