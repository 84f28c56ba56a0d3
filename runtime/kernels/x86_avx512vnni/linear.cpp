// `linear` over packed q8_0x8u / q4_0x8 / f32x8 / f16x8 weights with AVX-512 (VNNI for the
// quantized ones): 16 weight rows per zmm register, the int8 dot step one vpdpbusd (u8 x s8,
// four products summed into each i32 lane), tiles of up to 8 tokens (packed_tile.h).
//
// VNNI is enabled for this file's code only, not by the bundle's flags: GCC 12 at -O3 with
// -mavx512vnni vectorizes plain signed x signed int8 dot loops into vpdpbusd, which takes one
// side as unsigned, and computes wrong sums (see compiler/target/DeviceProfile.cpp).
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_x86_avx512vnni)
#include <immintrin.h>

#include "runtime/kernels/linear_packed.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512vnni,avx512f,avx512vl,avx512bw,avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512vnni")
#endif

#include "runtime/kernels/x86_avx512vnni/packed_tile.h"

namespace ek::x86_avx512vnni {

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed<2>(in, out, a, packed_tile); }

}  // namespace ek::x86_avx512vnni

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
