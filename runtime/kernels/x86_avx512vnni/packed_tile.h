// The AVX-512 tiles of `linear` over packed weights (linear_packed.h): two adjacent groups,
// 16 weight rows, sit in the 16 lanes of a zmm register (each 32-byte chunk of a group goes in
// one half), so every broadcast activation feeds 16 rows.
//
// Quantized: each 4-value chunk is one vpdpbusd per token, with the 4 activation bytes as its
// broadcast operand. q8_0x8u weights are stored as q + 128 (unsigned), so they go into vpdpbusd
// as they are; the 128 * sum(x) this adds is where the block's accumulator starts. q4_0's
// nibbles are unsigned already, and its accumulator starts at -8 * sum(x). A block ends with
// one multiply-add of the scales per token.
// Float: each k is one load (f16 widened by vcvtph2ps) and one multiply-add per token, with
// even and odd k in separate accumulators, as the reference.
//
// One token (decode) reads each weight once: its integer dot products alternate between four
// accumulators (vpdpbusd's latency would otherwise bound the loop), and the weights ahead are
// prefetched, since one core's hardware prefetch alone falls short of the DRAM bandwidth.
#pragma once
#include <immintrin.h>

#include <cstring>

#include "runtime/kernels/linear_packed.h"

namespace ek::x86_avx512vnni {

// The 16 rows' chunk: bytes [at, at + 32) of the first group in the low half, of the second
// group (or the first again, for a lone last group) in the high half.
static inline __m512i load_pair(const uint8_t* first, const uint8_t* second) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(first))),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(second)), 1);
}
static inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}
static inline void store_rows(float* y, __m512 v, bool pair) {
  if (pair) _mm512_storeu_ps(y, v);
  else _mm256_storeu_ps(y, _mm512_castps512_ps256(v));
}

// Bytes ahead of the weights being read that one token's loop prefetches.
constexpr int64_t kPrefetchAhead = 2048;

template <int T>
inline void float_tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  const bool pair = g.count > 1, f32 = f == WeightFormat::F32x8;
  const uint8_t* second = pair ? g.data + g.stride : g.data;
  const int64_t value_bytes = f32 ? 4 : 2, chunk = kPackRows * value_bytes;
  auto load = [&](int64_t c) {
    if (f32)
      return _mm512_castsi512_ps(load_pair(g.data + c * chunk, second + c * chunk));
    const __m256i h = _mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.data + c * chunk))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(second + c * chunk)), 1);
    return _mm512_cvtph_ps(h);
  };
  __m512 acc[2][T];
  for (int t = 0; t < T; ++t) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  const float* x = in.x + m * in.k;
  int64_t c = 0;
  for (; c + 2 <= in.k; c += 2) {
    if (T == 1) {
      _mm_prefetch(reinterpret_cast<const char*>(g.data + c * chunk + kPrefetchAhead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(second + c * chunk + kPrefetchAhead), _MM_HINT_T0);
    }
    const __m512 w0 = load(c), w1 = load(c + 1);
    for (int t = 0; t < T; ++t) {
      acc[0][t] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[t * in.k + c]), acc[0][t]);
      acc[1][t] = _mm512_fmadd_ps(w1, _mm512_set1_ps(x[t * in.k + c + 1]), acc[1][t]);
    }
  }
  if (c < in.k) {
    const __m512 w0 = load(c);
    for (int t = 0; t < T; ++t) acc[0][t] = _mm512_fmadd_ps(w0, _mm512_set1_ps(x[t * in.k + c]), acc[0][t]);
  }
  for (int t = 0; t < T; ++t) store_rows(y + t * ldy, _mm512_add_ps(acc[0][t], acc[1][t]), pair);
}

// P integer accumulators per token, added at the end of each block (exact).
template <int T, int P>
inline void quant_tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  const bool pair = g.count > 1;
  const int64_t second = pair ? g.stride : 0;  // from a byte of the first group to the second's
  const Q8Activations& x = in.q8;
  const bool q8 = f == WeightFormat::Q8_0x8u;
  const int64_t block_bytes = packed_block_bytes(f);
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < g.blocks; ++b) {
    const uint8_t* quants = g.data + b * block_bytes;
    if (T == 1) {
      for (int64_t line = 0; line < block_bytes; line += 64) {
        _mm_prefetch(reinterpret_cast<const char*>(quants + line + kPrefetchAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(quants + second + line + kPrefetchAhead), _MM_HINT_T0);
      }
    }
    const int64_t at = b * kBlockValues;
    __m512i dot[P][T];
    for (int t = 0; t < T; ++t) {
      dot[0][t] = _mm512_set1_epi32((q8 ? -128 : -8) * x.row_sum(m + t)[b]);
      for (int p = 1; p < P; ++p) dot[p][t] = _mm512_setzero_si512();
    }
    if (q8) {
      for (int c = 0; c < 8; ++c) {
        const __m512i w = load_pair(quants + 32 * c, quants + second + 32 * c);
        for (int t = 0; t < T; ++t) dot[c % P][t] = _mm512_dpbusd_epi32(dot[c % P][t], w, broadcast4(x.row_q(m + t) + at + 4 * c));
      }
    } else {
      const __m512i low = _mm512_set1_epi8(0x0F);
      for (int c = 0; c < 4; ++c) {
        const __m512i v = load_pair(quants + 32 * c, quants + second + 32 * c);
        const __m512i lo = _mm512_and_si512(v, low), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), low);
        for (int t = 0; t < T; ++t) {
          dot[(2 * c) % P][t] = _mm512_dpbusd_epi32(dot[(2 * c) % P][t], lo, broadcast4(x.row_q(m + t) + at + 4 * c));
          dot[(2 * c + 1) % P][t] = _mm512_dpbusd_epi32(dot[(2 * c + 1) % P][t], hi, broadcast4(x.row_q(m + t) + at + 16 + 4 * c));
        }
      }
    }
    const __m512 dw = _mm512_cvtph_ps(_mm256_inserti128_si256(
        _mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(g.scales[b].d))),
        _mm_loadu_si128(reinterpret_cast<const __m128i*>(reinterpret_cast<const uint8_t*>(g.scales[b].d) + second)), 1));
    for (int t = 0; t < T; ++t) {
      __m512i d = dot[0][t];
      for (int p = 1; p < P; ++p) d = _mm512_add_epi32(d, dot[p][t]);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(dw, _mm512_set1_ps(x.row_d(m + t)[b])), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) store_rows(y + t * ldy, acc[t], pair);
}

template <int T>
inline void tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  if (!is_quantized(f)) return float_tile_n<T>(f, g, in, m, y, ldy);
  constexpr int P = T == 1 ? 4 : T == 2 ? 2 : 1;
  quant_tile_n<T, P>(f, g, in, m, y, ldy);
}

// Any number of tokens, in register tiles of at most 8.
inline void packed_tile(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y,
                        int64_t ldy) {
  for (int64_t t = 0; t < tokens;) {
    const int64_t n = std::min<int64_t>(tokens - t, 8);
    float* yt = y + t * ldy;
    switch (n) {
      case 8: tile_n<8>(f, g, in, m + t, yt, ldy); break;
      case 7: tile_n<7>(f, g, in, m + t, yt, ldy); break;
      case 6: tile_n<6>(f, g, in, m + t, yt, ldy); break;
      case 5: tile_n<5>(f, g, in, m + t, yt, ldy); break;
      case 4: tile_n<4>(f, g, in, m + t, yt, ldy); break;
      case 3: tile_n<3>(f, g, in, m + t, yt, ldy); break;
      case 2: tile_n<2>(f, g, in, m + t, yt, ldy); break;
      default: tile_n<1>(f, g, in, m + t, yt, ldy); break;
    }
    t += n;
  }
}

}  // namespace ek::x86_avx512vnni
