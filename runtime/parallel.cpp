#include "runtime/parallel.h"

#include <atomic>
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

// Waits spin a little before sleeping: a decode step runs hundreds of short parallel loops,
// and a futex sleep/wake per loop would cost more than the loop itself.
constexpr int kSpins = 1 << 12;

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
        generation_.fetch_add(1, std::memory_order_release);
      }
      wake_.notify_all();
      for (std::thread& t : workers_) t.join();
      workers_.clear();
      stop_ = false;
      // New workers start at the current generation: earlier jobs are not theirs.
      const uint64_t now = generation_.load();
      for (int i = 1; i < n; ++i) workers_.emplace_back([this, i, now] { loop(i, now); });
    }
    busy_ = false;
  }

  void run(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
    const int64_t chunks = std::min<int64_t>(size(), grain > 0 ? n / grain : n);
    // One job at a time: a nested call, or one from another thread while the pool is busy,
    // runs inline instead of corrupting the shared job.
    bool idle = false;
    if (chunks <= 1 || !busy_.compare_exchange_strong(idle, true)) {
      if (n > 0) fn(0, n);
      return;
    }
    {
      // The job and its generation change together, so a worker's snapshot is consistent.
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      chunks_ = chunks;
      pending_.store(int(chunks - 1), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    fn(0, n / chunks);  // the caller takes chunk 0
    for (int i = 0; i < kSpins && pending_.load(std::memory_order_acquire) > 0; ++i) cpu_relax();
    if (pending_.load(std::memory_order_acquire) > 0) {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    busy_ = false;
  }

 private:
  void loop(int index, uint64_t seen) {
    for (;;) {
      // Spin on the generation (cheap), then take a consistent snapshot of the job.
      for (int i = 0; i < kSpins && generation_.load(std::memory_order_acquire) == seen; ++i) cpu_relax();
      const std::function<void(int64_t, int64_t)>* fn;
      int64_t n, chunks;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_relaxed) != seen; });
        seen = generation_.load(std::memory_order_relaxed);
        if (stop_) return;
        fn = fn_;
        n = n_;
        chunks = chunks_;
      }
      if (index >= chunks) continue;
      (*fn)(n * index / chunks, n * (index + 1) / chunks);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mu_);  // the caller may be about to sleep
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  // The job, written and read under mu_ together with the generation.
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0, chunks_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
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

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) { pool().run(n, grain, fn); }

}  // namespace ek
