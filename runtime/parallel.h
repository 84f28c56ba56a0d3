// A tiny fork-join thread pool for the kernels. parallel_for hands out chunks of `grain` items
// dynamically: each thread starts with the chunk of its own index, then takes the next one
// from a shared counter, so a slow core does not hold the others back. Plain C++17; the
// workers persist between calls and spin briefly before sleeping, since a decode step is
// hundreds of short parallel loops. Nothing is allocated per call.
#pragma once
#include <cstdint>
#include <utility>

namespace ek {

// Threads used by parallel_for (including the caller); 1 runs everything inline. A change
// waits for the job in flight.
void set_num_threads(int n);
int num_threads();

// The type-erased body of a parallel loop: a function pointer and the caller's closure (no
// std::function, which may allocate for larger closures).
struct RangeFn {
  void (*call)(const void* closure, int64_t begin, int64_t end);
  const void* closure;
};

// Runs body over disjoint chunks of `grain` items (the last may be shorter) covering [0, n).
// Loops with a single chunk run on the caller. A call made while the pool is busy (nested, or
// from another thread) runs inline on its caller.
void parallel_run(int64_t n, int64_t grain, RangeFn body);

// parallel_for(n, grain, [&](int64_t begin, int64_t end) { ... }).
template <class Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  using F = std::remove_reference_t<Fn>;
  parallel_run(n, grain, RangeFn{[](const void* c, int64_t b, int64_t e) { (*static_cast<F*>(const_cast<void*>(c)))(b, e); },
                                 static_cast<const void*>(&fn)});
}

}  // namespace ek
