// The x86 tiles of `linear` over packed weights (linear_packed.h): the kPackRows rows of a
// group sit in the 8 lanes of a ymm register. Quantized: each 4-value chunk of a block is one
// load of weights, one broadcast of 4 activation bytes per token and one int8 dot product
// step, and a block ends with one multiply-add of the scales per token. Float: each k is one
// load (f16 widened by vcvtph2ps) and one multiply-add per token. No horizontal sums.
//
// `Dot` is the u8 x s8 -> i32 step (maddubs + madd).
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

// Float formats: two accumulators per token (even and odd k), as the reference.
template <int T>
inline void float_tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  __m256 acc[2][T];
  for (int t = 0; t < T; ++t) acc[0][t] = acc[1][t] = _mm256_setzero_ps();
  const float* x = in.x + m * in.k;
  const bool f32 = f == WeightFormat::F32x8;
  auto load = [&](int64_t c) {
    return f32 ? _mm256_loadu_ps(reinterpret_cast<const float*>(g.data) + c * kPackRows)
               : _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.data + 2 * c * kPackRows)));
  };
  int64_t c = 0;
  for (; c + 2 <= in.k; c += 2) {
    const __m256 w0 = load(c), w1 = load(c + 1);
    for (int t = 0; t < T; ++t) {
      acc[0][t] = _mm256_fmadd_ps(w0, _mm256_broadcast_ss(x + t * in.k + c), acc[0][t]);
      acc[1][t] = _mm256_fmadd_ps(w1, _mm256_broadcast_ss(x + t * in.k + c + 1), acc[1][t]);
    }
  }
  if (c < in.k) {
    const __m256 w0 = load(c);
    for (int t = 0; t < T; ++t) acc[0][t] = _mm256_fmadd_ps(w0, _mm256_broadcast_ss(x + t * in.k + c), acc[0][t]);
  }
  for (int t = 0; t < T; ++t) _mm256_storeu_ps(y + t * ldy, _mm256_add_ps(acc[0][t], acc[1][t]));
}

template <class Dot, int T>
inline void packed_tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  if (!is_quantized(f)) return float_tile_n<T>(f, g, in, m, y, ldy);
  const Q8Activations& x = in.q8;
  __m256 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm256_setzero_ps();
  for (int64_t b = 0; b < g.blocks; ++b) {
    __m256i dot[T];
    for (int t = 0; t < T; ++t) dot[t] = _mm256_setzero_si256();
    const int64_t at = b * kBlockValues;
    if (f == WeightFormat::Q8_0x8) {
      const auto* p = reinterpret_cast<const PackedQ8Block*>(g.data) + b;
      for (int c = 0; c < 8; ++c) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p->q[c]));
        const __m256i abs_w = _mm256_abs_epi8(w);
        for (int t = 0; t < T; ++t)
          dot[t] = Dot::step(dot[t], abs_w, _mm256_sign_epi8(broadcast4(x.row_q(m + t) + at + 4 * c), w));
      }
    } else {
      const auto* p = reinterpret_cast<const PackedQ4Block*>(g.data) + b;
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

// Any number of tokens, in register tiles of at most 8 (the compiler sizes `tokens` so that
// the tile it asks for fits the register file).
template <class Dot>
inline void packed_tile(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y,
                        int64_t ldy) {
  for (int64_t t = 0; t < tokens;) {
    const int64_t n = std::min<int64_t>(tokens - t, 8);
    float* yt = y + t * ldy;
    switch (n) {
      case 8: packed_tile_n<Dot, 8>(f, g, in, m + t, yt, ldy); break;
      case 7: packed_tile_n<Dot, 7>(f, g, in, m + t, yt, ldy); break;
      case 6: packed_tile_n<Dot, 6>(f, g, in, m + t, yt, ldy); break;
      case 5: packed_tile_n<Dot, 5>(f, g, in, m + t, yt, ldy); break;
      case 4: packed_tile_n<Dot, 4>(f, g, in, m + t, yt, ldy); break;
      case 3: packed_tile_n<Dot, 3>(f, g, in, m + t, yt, ldy); break;
      case 2: packed_tile_n<Dot, 2>(f, g, in, m + t, yt, ldy); break;
      default: packed_tile_n<Dot, 1>(f, g, in, m + t, yt, ldy); break;
    }
    t += n;
  }
}

}  // namespace ek::x86
