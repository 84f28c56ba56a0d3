// A tiny fork-join thread pool for the kernels: parallel_for splits [0, n) into one chunk
// per thread and runs them at once. Plain C++17; the workers persist between calls, so a
// decode step does not pay for thread creation.
#pragma once
#include <cstdint>
#include <functional>

namespace ek {

// Threads used by parallel_for (including the caller); 1 runs everything inline. A change
// waits for the job in flight.
void set_num_threads(int n);
int num_threads();

// Calls fn(begin, end) over disjoint chunks covering [0, n). Chunks hold at least `grain`
// items, so small loops stay on the calling thread. A call made while the pool is busy
// (nested, or from another thread) runs inline on its caller.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace ek
