#include "runtime/parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace ek {
namespace {

// A hint to the core that this is a spin-wait loop.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits spin before sleeping: a futex sleep and wake per loop costs more than the short loops
// of a decode step, and a woken thread starts tens of microseconds late. The spin is bounded
// by time (pause takes 10 to 140 cycles depending on the core), long enough to bridge the
// serial work between loops and the sampling between tokens, short enough that an idle
// model lets the cores sleep.
constexpr auto kSpinTime = std::chrono::microseconds(1000);

// Spins until done() or kSpinTime has passed; returns done().
template <class Done>
bool spin_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() > deadline) return done();
  }
}
// Chunks per thread when a loop is split dynamically: enough to even out uneven cores, few
// enough that the shared counter stays cold.
constexpr int64_t kChunksPerThread = 4;

// Counters written by every thread sit on cache lines of their own, so taking a chunk does
// not invalidate the line that holds the job description.
struct alignas(64) PaddedCounter {
  std::atomic<int64_t> value{0};
};

class Pool {
 public:
  ~Pool() { resize(1); }

  int size() const { return int(workers_.size()) + 1; }

  void resize(int n) {
    if (n < 1) n = 1;
    // Take the pool as a job would, so no job runs while the workers change.
    bool idle = false;
    while (!busy_.compare_exchange_weak(idle, true)) idle = false;
    if (n != size()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        generation_.value.fetch_add(1, std::memory_order_release);
      }
      wake_.notify_all();
      for (std::thread& t : workers_) t.join();
      workers_.clear();
      stop_ = false;
      // New workers start at the current generation: earlier jobs are not theirs.
      const int64_t now = generation_.value.load();
      workers_.reserve(size_t(n - 1));
      for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, now] { loop(i, now); });
    }
    busy_ = false;
  }

  void run(int64_t n, int64_t grain, RangeFn body) {
    if (n <= 0) return;
    const int64_t threads = size();
    const int64_t chunk = std::max<int64_t>({grain, 1, (n + threads * kChunksPerThread - 1) / (threads * kChunksPerThread)});
    const int64_t chunks = (n + chunk - 1) / chunk;
    // One job at a time: a nested call, or one from another thread while the pool is busy,
    // runs inline instead of corrupting the shared job.
    bool idle = false;
    if (chunks <= 1 || threads == 1 || !busy_.compare_exchange_strong(idle, true)) {
      body.call(body.closure, 0, n);
      return;
    }
    const int helpers = int(std::min<int64_t>(threads, chunks)) - 1;
    {
      // The job and its generation change together, so a worker's snapshot is consistent.
      std::lock_guard<std::mutex> lock(mu_);
      body_ = body;
      n_ = n;
      chunk_ = chunk;
      chunks_ = chunks;
      helpers_ = helpers;
      next_.value.store(helpers + 1, std::memory_order_relaxed);  // chunks 0..helpers start at their thread
      pending_.value.store(helpers, std::memory_order_relaxed);
      generation_.value.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    work(0);
    if (!spin_until([this] { return pending_.value.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this] { return pending_.value.load(std::memory_order_acquire) == 0; });
    }
    busy_ = false;
  }

 private:
  // Runs the chunk of this thread's index, then whatever chunks are left.
  void work(int64_t first) {
    for (int64_t c = first; c < chunks_; c = next_.value.fetch_add(1, std::memory_order_relaxed))
      body_.call(body_.closure, c * chunk_, std::min(n_, (c + 1) * chunk_));
  }

  void loop(int index, int64_t seen) {
    for (;;) {
      // Spin on the generation (cheap), then take the job under the lock.
      spin_until([&] { return generation_.value.load(std::memory_order_acquire) != seen; });
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_.value.load(std::memory_order_relaxed) != seen; });
        seen = generation_.value.load(std::memory_order_relaxed);
        if (stop_) return;
        if (index > helpers_) continue;
      }
      work(index);
      if (pending_.value.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);  // the caller may be about to sleep
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  // The job, written under mu_ together with the generation and read by the workers after
  // they see the new generation.
  RangeFn body_{nullptr, nullptr};
  int64_t n_ = 0, chunk_ = 1, chunks_ = 0;
  int helpers_ = 0;
  PaddedCounter next_, pending_, generation_;
  bool stop_ = false;
  std::atomic<bool> busy_{false};
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void set_num_threads(int n) { pool().resize(n); }
int num_threads() { return pool().size(); }

void parallel_run(int64_t n, int64_t grain, RangeFn body) { pool().run(n, grain, body); }

}  // namespace ek
