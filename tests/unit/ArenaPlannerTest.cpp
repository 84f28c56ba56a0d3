// The arena planners' invariant: buffers that are live at the same time never overlap, for
// every planner; and hand-worked programs on which each planner beats the others.
#include <gtest/gtest.h>

#include <iterator>
#include <random>
#include <string>

#include "compiler/memory/ArenaPlanner.h"

namespace {

using edgecc::BufferLifetime;

void expectValid(const std::vector<BufferLifetime>& b, const edgecc::ArenaPlan& plan, int64_t align) {
  ASSERT_EQ(plan.offsets.size(), b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(plan.offsets[i] % align, 0) << "buffer " << i << " misaligned";
    EXPECT_LE(plan.offsets[i] + b[i].bytes, plan.arena_bytes) << "buffer " << i << " outside the arena";
    for (size_t j = i + 1; j < b.size(); ++j) {
      const bool liveTogether = b[i].first <= b[j].last && b[j].first <= b[i].last;
      const bool overlap = plan.offsets[i] < plan.offsets[j] + b[j].bytes && plan.offsets[j] < plan.offsets[i] + b[i].bytes;
      EXPECT_FALSE(liveTogether && overlap) << "buffers " << i << " and " << j << " are live together and overlap";
    }
  }
}

// No arena can be smaller than the most bytes live at one op (each buffer rounded up to the
// alignment, as it is placed).
int64_t peakLiveBytes(const std::vector<BufferLifetime>& b, int64_t align) {
  int64_t peak = 0;
  for (const BufferLifetime& at : b) {
    int64_t live = 0;
    for (const BufferLifetime& o : b)
      if (o.first <= at.first && at.first <= o.last) live += (o.bytes + align - 1) / align * align;
    peak = std::max(peak, live);
  }
  return peak;
}

TEST(ArenaPlanner, RandomProgramsNeverOverlapLiveBuffers) {
  std::mt19937 g(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferLifetime> buffers;
    const int n = 1 + int(g() % 40);
    for (int i = 0; i < n; ++i) {
      const int64_t first = int64_t(g() % 50);
      buffers.push_back({1 + int64_t(g() % 5000), first, first + int64_t(g() % 10)});
    }
    edgecc::ArenaPlan best = edgecc::planArena(buffers, 64);
    expectValid(buffers, best, 64);
    ASSERT_EQ(best.tried.size(), std::size(edgecc::kArenaPlanners));
    for (size_t p = 0; p < best.tried.size(); ++p) {
      SCOPED_TRACE(best.tried[p].first);
      edgecc::ArenaPlan plan = edgecc::planArenaWith(edgecc::kArenaPlanners[p], buffers, 64);
      expectValid(buffers, plan, 64);
      EXPECT_EQ(plan.planner, best.tried[p].first);
      EXPECT_EQ(plan.arena_bytes, best.tried[p].second);
      EXPECT_LE(best.arena_bytes, plan.arena_bytes);  // the smallest is kept
      EXPECT_GE(plan.arena_bytes, peakLiveBytes(buffers, 64));
    }
  }
}

// Sizes in multiples of 64, so alignment plays no part. Live at each op:
//   D {128, 0..1}, E {128, 1..2}, C {192, 2..3}, A {192, 3}, B {256, 5..6}
//   bytes at ops 0..6: 128, 256, 320, 384, 0, 256, 256 -> nothing below 384.
// By size (B, A, C, D, E): B +0; A +0; C above A, +192; D +0; E is live with D (+0..128)
// and C (+192..384), and no 128 B gap is free below 384: +384, arena 512.
// By breadth: op 3 first (A +0, C +192), then op 2 (E fits below C at +0), op 1 (D above E,
// +128), op 5 (B +0): 384.
// Best fit in order (D, E, C, A, B): D +0, E +128, C +256 (the 128 B gap below E is too
// small), A into the 256 B gap below C, +0; B +0: 448.
TEST(ArenaPlanner, GreedyByBreadthLaysOutThePeakFirst) {
  const std::vector<BufferLifetime> b = {{192, 3, 3}, {256, 5, 6}, {192, 2, 3}, {128, 0, 1}, {128, 1, 2}};
  edgecc::ArenaPlan plan = edgecc::planArena(b, 64);
  expectValid(b, plan, 64);
  using Tried = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(plan.tried, (Tried{{"greedy_by_size", 512}, {"greedy_by_breadth", 384}, {"best_fit_in_order", 448}}));
  EXPECT_EQ(plan.planner, "greedy_by_breadth");
  EXPECT_EQ(plan.arena_bytes, 384);
  EXPECT_EQ(plan.offsets, (std::vector<int64_t>{0, 0, 192, 128, 0}));
}

//   A {256, 0..1}, B {64, 2..4}, C {256, 4..6}, D {128, 1..3}, E {128, 2..3}
//   bytes at ops 0..6: 256, 384, 320, 320, 320, 256, 256 -> nothing below 384.
// By size (A, C, D, E, B): A +0; C +0; D above A, +256; E +0 (below D); B is live with C
// (+0..256), D (+256..384) and E: +384, arena 448.
// By breadth: op 1 (A +0, D +256), op 2 (E +0, B +128), op 4 (C is live with B: +192): 448.
// Best fit in order (A, D, B, E, C): A +0; D +256; B into the gap below D, +0; E in the
// tightest gap, +64 (between B and D); C above B, +64: 384.
TEST(ArenaPlanner, BestFitInOrderFillsTheTightestGap) {
  const std::vector<BufferLifetime> b = {{256, 0, 1}, {64, 2, 4}, {256, 4, 6}, {128, 1, 3}, {128, 2, 3}};
  edgecc::ArenaPlan plan = edgecc::planArena(b, 64);
  expectValid(b, plan, 64);
  using Tried = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(plan.tried, (Tried{{"greedy_by_size", 448}, {"greedy_by_breadth", 448}, {"best_fit_in_order", 384}}));
  EXPECT_EQ(plan.planner, "best_fit_in_order");
  EXPECT_EQ(plan.offsets, (std::vector<int64_t>{0, 0, 64, 256, 64}));
}

TEST(ArenaPlanner, ReusesMemoryOfDeadBuffers) {
  // A chain: each buffer dies when the next is made, so two slots suffice.
  std::vector<BufferLifetime> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({1000, i, i + 1});
  edgecc::ArenaPlan plan = edgecc::planArena(chain, 64);
  expectValid(chain, plan, 64);
  EXPECT_EQ(plan.arena_bytes, 2 * 1024);  // two 1000-byte buffers, each rounded to 64
}

TEST(ArenaPlanner, AllLiveBuffersAreStacked) {
  std::vector<BufferLifetime> all = {{100, 0, 9}, {200, 1, 9}, {300, 2, 9}};
  edgecc::ArenaPlan plan = edgecc::planArena(all, 64);
  expectValid(all, plan, 64);
  EXPECT_EQ(plan.arena_bytes, 320 + 256 + 128);  // 300, 200, 100 each rounded up to 64
}

}  // namespace
