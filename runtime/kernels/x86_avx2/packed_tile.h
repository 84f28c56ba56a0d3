// The x86 tile of `linear` over packed weights (linear_packed.h): the kPackRows rows of a
// group sit in the 8 lanes of a ymm register, so each 4-value chunk of a block is one load of
// weights, one broadcast of 4 activation bytes per token and one int8 dot product step, and a
// block ends with one multiply-add of the scales per token. No horizontal sums.
//
// `Dot` is the ISA's u8 x s8 -> i32 step (AVX2 maddubs + madd, or AVX-512 VNNI dpbusd).
// q8_0 weights are signed: |w| goes in as unsigned and w's sign moves onto the activation
// (whose range is symmetric, so nothing overflows). q4_0 nibbles are unsigned already; the
// 8 they are biased by comes off once per block as 8 * sum(x).
#pragma once
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/linear_packed.h"

namespace ek::x86 {

static inline __m256i broadcast4(const int8_t* p) {  // static: each ISA file keeps its own
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

template <class Dot, int T>
inline void packed_tile_n(WeightFormat f, const PackedGroup& g, const Q8Activations& x, int64_t m, float* y, int64_t ldy) {
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < g.blocks; ++b) {
    __m256i dot[T];
    for (int t = 0; t < T; ++t) dot[t] = _mm256_setzero_si256();
    const int64_t at = b * kBlockValues;
    if (f == WeightFormat::Q8_0x8) {
      const auto* p = reinterpret_cast<const PackedQ8Block*>(g.quants) + b;
      for (int c = 0; c < 8; ++c) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->q[c]));
        const __m256i abs_w = _mm256_abs_epi8(w);
        for (int t = 0; t < T; ++t)
          dot[t] = Dot::step(dot[t], abs_w, _mm256_sign_epi8(broadcast4(x.row_q(m + t) + at + 4 * c), w));
      }
    } else {
      const auto* p = reinterpret_cast<const PackedQ4Block*>(g.quants) + b;
      const __m256i low = _mm256_set1_epi8(0x0F);
      for (int c = 0; c < 4; ++c) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->q[c]));
        const __m256i lo = _mm256_and_si256(v, low), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
        for (int t = 0; t < T; ++t) {
          dot[t] = Dot::step(dot[t], lo, broadcast4(x.row_q(m + t) + at + 4 * c));
          dot[t] = Dot::step(dot[t], hi, broadcast4(x.row_q(m + t) + at + 16 + 4 * c));
        }
      }
      for (int t = 0; t < T; ++t) dot[t] = _mm256_sub_epi32(dot[t], _mm256_set1_epi32(8 * x.row_sum(m + t)[b]));
    }
    const __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.scales[b].d)));
    for (int t = 0; t < T; ++t)
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[t]), _mm256_mul_ps(dw, _mm256_set1_ps(x.row_d(m + t)[b])), acc[t]);
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * ldy, acc[t]);
}

// Any number of tokens, in register tiles of 8, 4, 2 and 1 (the compiler sizes `tokens` so
// that the widest tile it asks for fits the register file).
template <class Dot>
inline void packed_tile(WeightFormat f, const PackedGroup& g, const Q8Activations& x, int64_t m, int64_t tokens, float* y,
                        int64_t ldy) {
  int64_t t = 0;
  for (; tokens - t >= 8; t += 8) packed_tile_n<Dot, 8>(f, g, x, m + t, y + t * ldy, ldy);
  if (tokens - t >= 4) packed_tile_n<Dot, 4>(f, g, x, m + t, y + t * ldy, ldy), t += 4;
  if (tokens - t >= 2) packed_tile_n<Dot, 2>(f, g, x, m + t, y + t * ldy, ldy), t += 2;
  if (tokens - t >= 1) packed_tile_n<Dot, 1>(f, g, x, m + t, y + t * ldy, ldy);
}

}  // namespace ek::x86
