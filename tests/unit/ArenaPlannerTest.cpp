// The arena planner's invariant: buffers that are live at the same time never overlap.
#include <gtest/gtest.h>

#include <random>

#include "compiler/passes/ArenaPlanner.h"

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

TEST(ArenaPlanner, RandomProgramsNeverOverlapLiveBuffers) {
  std::mt19937 g(42);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferLifetime> buffers;
    const int n = 1 + int(g() % 40);
    for (int i = 0; i < n; ++i) {
      const int64_t first = int64_t(g() % 50);
      buffers.push_back({1 + int64_t(g() % 5000), first, first + int64_t(g() % 10)});
    }
    edgecc::ArenaPlan plan = edgecc::planArena(buffers, 64);
    expectValid(buffers, plan, 64);
  }
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
