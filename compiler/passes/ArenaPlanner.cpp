#include "compiler/passes/ArenaPlanner.h"

#include <algorithm>
#include <numeric>

namespace edgecc {

ArenaPlan planArena(const std::vector<BufferLifetime>& buffers, int64_t alignment) {
  const size_t n = buffers.size();
  auto align = [&](int64_t x) { return (x + alignment - 1) / alignment * alignment; };
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Ties broken by definition order so the plan is deterministic.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });

  ArenaPlan plan;
  plan.offsets.assign(n, 0);
  std::vector<size_t> placed;
  for (size_t i : order) {
    const BufferLifetime& b = buffers[i];
    // Intervals taken by live-overlapping buffers, sorted by offset; take the first gap.
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t j : placed) {
      const BufferLifetime& o = buffers[j];
      if (o.first <= b.last && b.first <= o.last) taken.push_back({plan.offsets[j], plan.offsets[j] + o.bytes});
    }
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0;
    for (auto [lo, hi] : taken) {
      if (offset + b.bytes <= lo) break;
      offset = std::max(offset, align(hi));
    }
    plan.offsets[i] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + b.bytes);
    placed.push_back(i);
  }
  plan.arena_bytes = align(plan.arena_bytes);
  return plan;
}

}  // namespace edgecc
