#include "compiler/memory/ArenaPlanner.h"

#include <algorithm>
#include <numeric>

namespace edgecc {

namespace {

// Which placed buffers are live at each op: a buffer's conflicts are the placed buffers in
// the lists of the ops it spans.
class LiveIndex {
 public:
  explicit LiveIndex(const std::vector<BufferLifetime>& buffers) : buffers_(buffers), seen_(buffers.size(), 0) {
    int64_t ops = 0;
    for (const BufferLifetime& b : buffers) ops = std::max(ops, b.last + 1);
    live_.resize(size_t(ops));
  }
  void add(size_t i) {
    for (int64_t t = buffers_[i].first; t <= buffers_[i].last; ++t) live_[size_t(t)].push_back(i);
  }
  // The placed buffers live at some op of buffer i's range, each once.
  std::vector<size_t> conflicts(size_t i) {
    ++stamp_;
    std::vector<size_t> out;
    for (int64_t t = buffers_[i].first; t <= buffers_[i].last; ++t)
      for (size_t j : live_[size_t(t)])
        if (seen_[j] != stamp_) { seen_[j] = stamp_; out.push_back(j); }
    return out;
  }

 private:
  const std::vector<BufferLifetime>& buffers_;
  std::vector<std::vector<size_t>> live_;
  std::vector<uint32_t> seen_;
  uint32_t stamp_ = 0;
};

class Placer {
 public:
  Placer(const std::vector<BufferLifetime>& buffers, int64_t alignment) : buffers_(buffers), alignment_(alignment), index_(buffers) {
    plan_.offsets.assign(buffers.size(), 0);
  }
  int64_t align(int64_t x) const { return (x + alignment_ - 1) / alignment_ * alignment_; }

  // Buffer i at the lowest aligned offset free over its lifetime (bestFit: in the free gap
  // that leaves the least space, else above everything).
  void place(size_t i, bool bestFit) {
    const int64_t bytes = buffers_[i].bytes;
    std::vector<std::pair<int64_t, int64_t>> taken;
    for (size_t j : index_.conflicts(i)) taken.push_back({plan_.offsets[j], plan_.offsets[j] + buffers_[j].bytes});
    std::sort(taken.begin(), taken.end());
    int64_t offset = 0, best = -1, bestWaste = 0;
    for (auto [lo, hi] : taken) {
      if (offset + bytes <= lo) {
        if (!bestFit) break;
        if (best < 0 || lo - offset - bytes < bestWaste) { best = offset; bestWaste = lo - offset - bytes; }
      }
      offset = std::max(offset, align(hi));
    }
    if (bestFit && best >= 0) offset = best;
    plan_.offsets[i] = offset;
    plan_.arena_bytes = std::max(plan_.arena_bytes, offset + bytes);
    index_.add(i);
  }
  ArenaPlan finish(ArenaPlanner planner) {
    plan_.arena_bytes = align(plan_.arena_bytes);
    plan_.planner = arenaPlannerName(planner);
    return std::move(plan_);
  }

 private:
  const std::vector<BufferLifetime>& buffers_;
  int64_t alignment_;
  LiveIndex index_;
  ArenaPlan plan_;
};

// Largest first; ties in definition order, so plans are deterministic.
void sortBySizeDescending(std::vector<size_t>& order, const std::vector<BufferLifetime>& buffers) {
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
}

}  // namespace

const char* arenaPlannerName(ArenaPlanner planner) {
  switch (planner) {
    case ArenaPlanner::GreedyBySize: return "greedy_by_size";
    case ArenaPlanner::GreedyByBreadth: return "greedy_by_breadth";
    case ArenaPlanner::BestFitInOrder: return "best_fit_in_order";
  }
  return "?";
}

ArenaPlan planArenaWith(ArenaPlanner planner, const std::vector<BufferLifetime>& buffers, int64_t alignment) {
  const size_t n = buffers.size();
  Placer placer(buffers, alignment);
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  switch (planner) {
    case ArenaPlanner::GreedyBySize:
      sortBySizeDescending(order, buffers);
      for (size_t i : order) placer.place(i, /*bestFit=*/false);
      break;
    case ArenaPlanner::BestFitInOrder:
      std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].first < buffers[b].first; });
      for (size_t i : order) placer.place(i, /*bestFit=*/true);
      break;
    case ArenaPlanner::GreedyByBreadth: {
      // Each op's breadth (the bytes live at it), from a difference array over the lifetimes.
      int64_t ops = 0;
      for (const BufferLifetime& b : buffers) ops = std::max(ops, b.last + 1);
      std::vector<int64_t> breadth(size_t(ops) + 1, 0);
      std::vector<std::vector<size_t>> broadestOp(static_cast<size_t>(ops));
      for (size_t i = 0; i < n; ++i) {
        breadth[size_t(buffers[i].first)] += buffers[i].bytes;
        breadth[size_t(buffers[i].last) + 1] -= buffers[i].bytes;
      }
      for (size_t t = 1; t < breadth.size(); ++t) breadth[t] += breadth[t - 1];
      // Each buffer is listed at the broadest op of its lifetime (the first of equals), so
      // visiting the ops broadest first places it with the broadest op it spans.
      std::vector<size_t> opsByBreadth(static_cast<size_t>(ops));
      std::iota(opsByBreadth.begin(), opsByBreadth.end(), 0);
      std::stable_sort(opsByBreadth.begin(), opsByBreadth.end(), [&](size_t a, size_t b) { return breadth[a] > breadth[b]; });
      std::vector<size_t> rank(static_cast<size_t>(ops));
      for (size_t r = 0; r < opsByBreadth.size(); ++r) rank[opsByBreadth[r]] = r;
      // A scan of each lifetime: the cost is the sum of lifetimes, as for the live index.
      for (size_t i = 0; i < n; ++i) {
        size_t best = size_t(buffers[i].first);
        for (int64_t t = buffers[i].first; t <= buffers[i].last; ++t)
          if (rank[size_t(t)] < rank[best]) best = size_t(t);
        broadestOp[best].push_back(i);
      }
      for (size_t t : opsByBreadth) {
        std::vector<size_t>& here = broadestOp[t];
        sortBySizeDescending(here, buffers);
        for (size_t i : here) placer.place(i, /*bestFit=*/false);
      }
      break;
    }
  }
  return placer.finish(planner);
}

ArenaPlan planArena(const std::vector<BufferLifetime>& buffers, int64_t alignment) {
  ArenaPlan best;
  std::vector<std::pair<std::string, int64_t>> tried;
  for (ArenaPlanner planner : kArenaPlanners) {
    ArenaPlan plan = planArenaWith(planner, buffers, alignment);
    tried.push_back({plan.planner, plan.arena_bytes});
    if (best.planner.empty() || plan.arena_bytes < best.arena_bytes) best = std::move(plan);
  }
  best.tried = std::move(tried);
  return best;
}

}  // namespace edgecc
