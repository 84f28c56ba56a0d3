// DRAM read bandwidth, measured the way decode reads weights: T threads stream disjoint parts
// of a buffer far larger than the caches, summing 64-bit words (the compiler vectorizes the
// sum). Prints one JSON object. Built and run by bench_llm.py in the same run as the models.
//   c++ -O3 -march=native -pthread dram_bandwidth.cpp -o dram_bandwidth && ./dram_bandwidth 2
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const size_t bytes = size_t(1) << 30;  // 1 GiB: far past any L3 here
  std::vector<uint64_t> buf(bytes / 8);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = i;  // touch every page
  std::vector<uint64_t> sums(size_t(threads) * 8);
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        const size_t n = buf.size() / size_t(threads), begin = size_t(t) * n;
        uint64_t s = 0;
        for (size_t i = begin; i < begin + n; ++i) s += buf[i];
        sums[size_t(t) * 8] = s;
      });
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, double(bytes) / s / 1e9);
  }
  uint64_t check = 0;
  for (uint64_t s : sums) check += s;
  std::printf("{\"threads\": %d, \"read_gb_s\": %.2f, \"checksum\": %llu}\n", threads, best, (unsigned long long)check);
  return 0;
}
