// `linear` over packed q8_0x8 / q4_0x8 weights with AVX-512 VNNI on ymm registers (AVX512VL):
// the int8 dot step is one vpdpbusd (u8 x s8, four products summed into each i32 lane), and
// the wider register file holds tiles of 8 tokens.
//
// VNNI is enabled for this file's code only, not by the bundle's flags: GCC 12 at -O3 with
// -mavx512vnni vectorizes plain signed x signed int8 dot loops into vpdpbusd, which takes one
// side as unsigned, and computes wrong sums (see compiler/target/DeviceProfile.cpp).
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_x86_avx512vnni)
#include <immintrin.h>

#include "runtime/kernels/linear_packed.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512vnni,avx512vl,avx512bw,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512vnni")
#endif

#include "runtime/kernels/x86_avx2/packed_tile.h"

namespace ek::x86_avx512vnni {
namespace {

struct DpbusdDot {
  static __m256i step(__m256i acc, __m256i u8, __m256i s8) { return _mm256_dpbusd_epi32(acc, u8, s8); }
};

}  // namespace

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed(in, out, a, x86::packed_tile<DpbusdDot>); }

}  // namespace ek::x86_avx512vnni

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
