// Counts heap allocations (malloc and everything built on it: operator new, std::vector) made
// while a bundle prefills a prompt and decodes tokens, after one warm-up pass of the same
// shape. The bundle promises none: its arena, KV cache, scratch and thread pool are set up
// before. Prints the count per phase and exits 1 if any phase allocated.
//   no_alloc BUNDLE_DIR THREADS PROMPT_LEN DECODE_STEPS
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "model.h"
#include "runtime/parallel.h"

extern "C" void* __libc_malloc(size_t);
extern "C" void* __libc_calloc(size_t, size_t);
extern "C" void* __libc_realloc(void*, size_t);
extern "C" void* __libc_memalign(size_t, size_t);

namespace {
bool counting = false;
long allocations = 0;
void count() {
  if (counting) ++allocations;
}
}  // namespace

// glibc lets the program interpose these; every allocator in the process goes through them.
extern "C" void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
extern "C" void* calloc(size_t a, size_t b) {
  count();
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
extern "C" void* memalign(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
extern "C" void* aligned_alloc(size_t a, size_t n) {
  count();
  return __libc_memalign(a, n);
}
extern "C" int posix_memalign(void** out, size_t a, size_t n) {
  count();
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;  // ENOMEM
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: no_alloc BUNDLE_DIR THREADS PROMPT_LEN DECODE_STEPS\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int threads = std::atoi(argv[2]), prompt_len = std::atoi(argv[3]), steps = std::atoi(argv[4]);
  static edgecc_model::Model model;
  std::string error;
  if (!model.load((dir + "/weights.bin").c_str(), &error)) {
    std::fprintf(stderr, "load: %s\n", error.c_str());
    return 2;
  }
  ek::set_num_threads(threads);
  // The counter must count: one operator new while counting is one allocation.
  counting = true;
  delete new int(7);
  counting = false;
  if (allocations != 1) {
    std::fprintf(stderr, "the allocation counter is not live (%ld for one new)\n", allocations);
    return 3;
  }
  std::vector<int32_t> prompt;
  for (int i = 0; i < prompt_len; ++i) prompt.push_back(1 + (i * 37) % int(edgecc_model::kVocabSize - 1));
  auto pass = [&](long* prefill_allocs, long* decode_allocs) {
    model.reset();
    allocations = 0;
    counting = true;
    bool ok = model.prefill(prompt.data(), prompt.size(), &error);
    *prefill_allocs = allocations;
    allocations = 0;
    for (int i = 0; ok && i < steps; ++i) ok = model.decode(int32_t(1 + i), &error);
    *decode_allocs = allocations;
    counting = false;
    return ok;
  };
  long p0, d0, p1, d1;
  if (!pass(&p0, &d0) || !pass(&p1, &d1)) {
    std::fprintf(stderr, "run: %s\n", error.c_str());
    return 2;
  }
  std::printf("threads %d, prompt %d, %d decode steps: allocations during prefill %ld, during decode %ld (warm-up pass: %ld, %ld)\n",
              threads, prompt_len, steps, p1, d1, p0, d0);
  return p1 == 0 && d1 == 0 ? 0 : 1;
}
