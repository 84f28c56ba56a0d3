// Static arena planning: offsets for buffers with known sizes and live ranges such that
// no two buffers live at the same time overlap. Pure algorithm, independent of MLIR.
//
// Several planners run and the smallest arena wins (no one heuristic is best on every
// program). None compares every pair of buffers: a buffer's conflicts are found through an
// index of which buffers live at each op, so the cost grows with the sum of lifetimes, not
// with the square of the buffer count.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgecc {

struct BufferLifetime {
  int64_t bytes;
  int64_t first;  // index of the op that defines it
  int64_t last;   // index of its last use (inclusive)
};

struct ArenaPlan {
  std::vector<int64_t> offsets;  // per buffer, in input order
  int64_t arena_bytes = 0;
  std::string planner;           // the planner that made it
  // Every planner's arena, in kArenaPlanners order (planArena only).
  std::vector<std::pair<std::string, int64_t>> tried;
};

enum class ArenaPlanner {
  // Largest buffer first, each at the lowest free offset (TFLite's greedy by size).
  GreedyBySize,
  // The ops with the most live bytes first, their buffers largest first, each at the lowest
  // free offset (TFLite's greedy by breadth): the peak is laid out before anything fragments it.
  GreedyByBreadth,
  // Buffers in the order they are defined, each into the free gap that fits it most tightly.
  BestFitInOrder,
};
constexpr ArenaPlanner kArenaPlanners[] = {ArenaPlanner::GreedyBySize, ArenaPlanner::GreedyByBreadth,
                                           ArenaPlanner::BestFitInOrder};
const char* arenaPlannerName(ArenaPlanner planner);

ArenaPlan planArenaWith(ArenaPlanner planner, const std::vector<BufferLifetime>& buffers, int64_t alignment);

// Every planner; the smallest arena (ties: the earlier in kArenaPlanners) with all results in
// `tried`. Deterministic.
ArenaPlan planArena(const std::vector<BufferLifetime>& buffers, int64_t alignment);

}  // namespace edgecc
