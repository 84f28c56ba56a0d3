// Static arena planning: offsets for buffers with known sizes and live ranges such that
// no two buffers live at the same time overlap. Pure algorithm, independent of MLIR.
#pragma once

#include <cstdint>
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
};

// Greedy by size (as in TFLite's arena planner): the largest buffers are placed first, each
// at the lowest aligned offset that overlaps none of the already placed buffers whose live
// ranges intersect its own.
ArenaPlan planArena(const std::vector<BufferLifetime>& buffers, int64_t alignment);

}  // namespace edgecc
