#include "runtime/cpu_features.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#elif defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

namespace ek {
namespace {

bool is(const char* f, size_t n, const char* name) { return std::strlen(name) == n && std::strncmp(f, name, n) == 0; }

#if defined(__x86_64__) || defined(__i386__)
const char* const kKnown = "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni";

// The XCR0 register: which vector state the OS saves (an AVX-512 CPU under an OS that does
// not save zmm registers cannot use them).
unsigned long long xcr0() {
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

bool hardware_has(const char* f, size_t n) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool avx_os = (c & (1u << 27)) && (xcr0() & 0x6) == 0x6;  // OSXSAVE, then xmm+ymm state
  const bool avx512_os = avx_os && (xcr0() & 0xE0) == 0xE0;       // opmask and zmm state
  if (is(f, n, "fma")) return avx_os && (c & (1u << 12));
  if (is(f, n, "f16c")) return avx_os && (c & (1u << 29));
  unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
  if (__get_cpuid_max(0, nullptr) >= 7) __cpuid_count(7, 0, a7, b7, c7, d7);
  if (is(f, n, "avx2")) return avx_os && (b7 & (1u << 5));
  if (is(f, n, "avx512f")) return avx512_os && (b7 & (1u << 16));
  if (is(f, n, "avx512bw")) return avx512_os && (b7 & (1u << 30));
  if (is(f, n, "avx512vl")) return avx512_os && (b7 & (1u << 31));
  if (is(f, n, "avx512vnni")) return avx512_os && (c7 & (1u << 11));
  return false;
}
#elif defined(__aarch64__)
const char* const kKnown = "asimd dotprod i8mm fp16 bf16";

bool hardware_has(const char* f, size_t n) {
#if defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  if (is(f, n, "asimd")) return hw & (1ul << 1);
  if (is(f, n, "fp16")) return hw & (1ul << 10);     // HWCAP_ASIMDHP
  if (is(f, n, "dotprod")) return hw & (1ul << 20);  // HWCAP_ASIMDDP
  if (is(f, n, "i8mm")) return hw2 & (1ul << 13);    // HWCAP2_I8MM
  if (is(f, n, "bf16")) return hw2 & (1ul << 14);    // HWCAP2_BF16
  return false;
#elif defined(__APPLE__)
  auto sys = [](const char* name) {
    int v = 0;
    size_t size = sizeof v;
    return sysctlbyname(name, &v, &size, nullptr, 0) == 0 && v != 0;
  };
  if (is(f, n, "asimd")) return true;
  if (is(f, n, "fp16")) return sys("hw.optional.arm.FEAT_FP16");
  if (is(f, n, "dotprod")) return sys("hw.optional.arm.FEAT_DotProd");
  if (is(f, n, "i8mm")) return sys("hw.optional.arm.FEAT_I8MM");
  if (is(f, n, "bf16")) return sys("hw.optional.arm.FEAT_BF16");
  return false;
#else
  return is(f, n, "asimd");  // no portable way to ask: only the baseline is certain
#endif
}
#else
const char* const kKnown = "";
bool hardware_has(const char*, size_t) { return false; }
#endif

// Calls fn(word, length) for each word of a list separated by spaces or commas.
template <class Fn>
void for_each_word(const char* list, Fn fn) {
  for (const char* p = list; p && *p;) {
    while (*p == ' ' || *p == ',') ++p;
    const char* end = p;
    while (*end && *end != ' ' && *end != ',') ++end;
    if (end > p) fn(p, size_t(end - p));
    p = end;
  }
}

bool disabled(const char* f, size_t n) {
  bool found = false;
  for_each_word(std::getenv("EDGECC_CPU_DISABLE"), [&](const char* w, size_t len) { found |= len == n && std::strncmp(w, f, n) == 0; });
  return found;
}

void append(char* out, size_t cap, const char* word, size_t n) {
  size_t used = std::strlen(out);
  if (used && used + 1 < cap) out[used++] = ' ';
  for (size_t i = 0; i < n && used + 1 < cap; ++i) out[used++] = word[i];
  out[used < cap ? used : cap - 1] = '\0';
}

}  // namespace

bool cpu_has(const char* feature, size_t length) { return !disabled(feature, length) && hardware_has(feature, length); }

bool cpu_missing(const char* features, char* out, size_t n) {
  if (n) out[0] = '\0';
  bool any = false;
  for_each_word(features, [&](const char* w, size_t len) {
    if (cpu_has(w, len)) return;
    any = true;
    if (n) append(out, n, w, len);
  });
  return any;
}

void cpu_feature_list(char* out, size_t n) {
  if (n) out[0] = '\0';
  for_each_word(kKnown, [&](const char* w, size_t len) {
    if (cpu_has(w, len) && n) append(out, n, w, len);
  });
}

}  // namespace ek
