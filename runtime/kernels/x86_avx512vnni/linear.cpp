// `linear` over packed q8_0x8 / q4_0x8 weights with AVX-512 VNNI on ymm registers (AVX512VL):
// the int8 dot step is one vpdpbusd (u8 x s8, four products summed into each i32 lane), and
// the wider register file holds tiles of 8 tokens.
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_x86_avx512vnni)
#include "runtime/kernels/x86_avx2/packed_tile.h"

namespace ek::x86_avx512vnni {
namespace {

struct DpbusdDot {
  static __m256i step(__m256i acc, __m256i u8, __m256i s8) { return _mm256_dpbusd_epi32(acc, u8, s8); }
};

}  // namespace

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed(in, out, a, x86::packed_tile<DpbusdDot>); }

}  // namespace ek::x86_avx512vnni
#endif
