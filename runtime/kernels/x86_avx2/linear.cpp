// `linear` over packed q8_0x8 / q4_0x8 weights with AVX2 (+ FMA, F16C): the int8 dot step is
// maddubs (u8 x s8 -> pairs of i16, which cannot saturate here) then madd into i32.
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_x86_avx2)
#include "runtime/kernels/x86_avx2/packed_tile.h"

namespace ek::x86_avx2 {
namespace {

struct MaddubsDot {
  static __m256i step(__m256i acc, __m256i u8, __m256i s8) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u8, s8), _mm256_set1_epi16(1)));
  }
};

}  // namespace

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed(in, out, a, x86::packed_tile<MaddubsDot>); }

}  // namespace ek::x86_avx2
#endif
