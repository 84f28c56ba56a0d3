// The arm64 tiles of `linear` over packed weights (linear_packed.h). Quantized weights come in
// 8-value chunks (q8_0x8k8, q4_0x8k8): one 16-byte register holds a chunk of two rows, and
// the token's 8 activation bytes, repeated, feed both. `Dot` adds those products into 4 int32
// lanes, two per row; a block ends with one pairwise add per 4 rows, the activation bias of
// q4_0 (8 * sum(x)) and one multiply-add of the scales per token. Float: each k is one load
// of 8 rows (f16 widened by fcvtl) and one multiply-add per token and 4 rows.
//
// `Dot` is the ISA's step: NEON smull + pairwise adds (armv8.0), or one sdot (dotprod).
#pragma once
#include <arm_neon.h>

#include <cstring>

#include "runtime/kernels/linear_packed.h"

namespace ek::arm64 {

// The 8 activation bytes at p, in both halves of a register.
static inline int8x16_t repeat8(const int8_t* p) {  // static: each ISA file keeps its own
  int64_t v;
  std::memcpy(&v, p, 8);
  return vreinterpretq_s8_s64(vdupq_n_s64(v));
}
static inline float32x4_t load_f16x4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }

// Most tokens per register tile (the variant table's max_tile_tokens for these kernels).
constexpr int kMaxTileTokens = 4;

#if defined(__ARM_FEATURE_DOTPROD)
// The dotprod step: one sdot, four products into each lane.
struct SdotDot {
  static int32x4_t step(int32x4_t acc, int8x16_t w, int8x16_t x) { return vdotq_s32(acc, w, x); }
};
#endif

// The 8 rows of column c of a float group, as floats.
template <bool F16>
inline void float_column(const PackedGroup& g, int64_t c, float32x4_t& lo, float32x4_t& hi) {
  if constexpr (F16) {
    const float16x8_t w = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(g.data) + c * kPackRows));
    lo = vcvt_f32_f16(vget_low_f16(w)), hi = vcvt_high_f32_f16(w);
  } else {
    const float* w = reinterpret_cast<const float*>(g.data) + c * kPackRows;
    lo = vld1q_f32(w), hi = vld1q_f32(w + 4);
  }
}

// Four columns from `w` (8 rows each, as floats), which then moves past them: one ld1 of four
// registers for f16 (widened by fcvtl), two for f32.
template <bool F16>
inline void float_columns4(const uint8_t*& w, float32x4_t (&lo)[4], float32x4_t (&hi)[4]) {
  if constexpr (F16) {
    const uint16x8x4_t v = vld1q_u16_x4(reinterpret_cast<const uint16_t*>(w));
    for (int j = 0; j < 4; ++j) {
      const float16x8_t h = vreinterpretq_f16_u16(v.val[j]);
      lo[j] = vcvt_f32_f16(vget_low_f16(h)), hi[j] = vcvt_high_f32_f16(h);
    }
    w += 4 * kPackRows * 2;
  } else {
    const float32x4x4_t a = vld1q_f32_x4(reinterpret_cast<const float*>(w)), b = vld1q_f32_x4(reinterpret_cast<const float*>(w) + 16);
    lo[0] = a.val[0], hi[0] = a.val[1], lo[1] = a.val[2], hi[1] = a.val[3];
    lo[2] = b.val[0], hi[2] = b.val[1], lo[3] = b.val[2], hi[3] = b.val[3];
    w += 4 * kPackRows * 4;
  }
}

// Float formats: two accumulators per token and 4 rows (even and odd k), as the reference. The
// k loop is unrolled by four, so each k's accumulators are fixed registers (an index by k & 1
// would keep them in memory), the weights come in whole-register loads from a moving pointer,
// and one load brings four activations, used by lane.
template <int T, bool F16>
inline void float_tile_n(const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  float32x4_t even[T][2], odd[T][2];
  for (int t = 0; t < T; ++t) even[t][0] = even[t][1] = odd[t][0] = odd[t][1] = vdupq_n_f32(0.f);
  const float* x = in.x + m * in.k;
  const uint8_t* w = g.data;
  const float* xc = x;  // column c of the first token; token t's is t * in.k further on
  for (int64_t n = in.k / 4; n > 0; --n, xc += 4) {  // a count, not an index: no address arithmetic
    float32x4_t lo[4], hi[4];
    float_columns4<F16>(w, lo, hi);
    for (int t = 0; t < T; ++t) {
      const float32x4_t xv = vld1q_f32(xc + t * in.k);
      even[t][0] = vfmaq_laneq_f32(even[t][0], lo[0], xv, 0), even[t][1] = vfmaq_laneq_f32(even[t][1], hi[0], xv, 0);
      odd[t][0] = vfmaq_laneq_f32(odd[t][0], lo[1], xv, 1), odd[t][1] = vfmaq_laneq_f32(odd[t][1], hi[1], xv, 1);
      even[t][0] = vfmaq_laneq_f32(even[t][0], lo[2], xv, 2), even[t][1] = vfmaq_laneq_f32(even[t][1], hi[2], xv, 2);
      odd[t][0] = vfmaq_laneq_f32(odd[t][0], lo[3], xv, 3), odd[t][1] = vfmaq_laneq_f32(odd[t][1], hi[3], xv, 3);
    }
  }
  // Up to three columns left, the first of them even.
  const int64_t c = in.k / 4 * 4;
  auto column = [&](int64_t k, float32x4_t(&a)[T][2]) {
    float32x4_t lo, hi;
    float_column<F16>(g, k, lo, hi);
    for (int t = 0; t < T; ++t) {
      const float32x4_t xv = vdupq_n_f32(x[t * in.k + k]);
      a[t][0] = vfmaq_f32(a[t][0], lo, xv), a[t][1] = vfmaq_f32(a[t][1], hi, xv);
    }
  };
  if (c < in.k) column(c, even);
  if (c + 1 < in.k) column(c + 1, odd);
  if (c + 2 < in.k) column(c + 2, even);
  for (int t = 0; t < T; ++t) {
    vst1q_f32(y + t * ldy, vaddq_f32(even[t][0], odd[t][0]));
    vst1q_f32(y + t * ldy + 4, vaddq_f32(even[t][1], odd[t][1]));
  }
}

// The int32 dot products of one block for T tokens, whose activations start at xq[t]: dot[t][i]
// holds rows 2i, 2i+1 in lanes (2 per row). q4_0 nibbles go in unbiased (0..15); the caller
// takes the bias off.
template <class Dot, int T>
inline void block_dots(WeightFormat f, const uint8_t* quants, const int8_t* const (&xq)[T], int32x4_t dot[T][4]) {
  for (int t = 0; t < T; ++t)
    for (int i = 0; i < 4; ++i) dot[t][i] = vdupq_n_s32(0);
  if (stored_format(f) == WeightFormat::Q8_0) {
    for (int c = 0; c < 4; ++c) {
      const int8_t* w = reinterpret_cast<const int8_t*>(quants) + 64 * c;
      const int8x16_t w0 = vld1q_s8(w), w1 = vld1q_s8(w + 16), w2 = vld1q_s8(w + 32), w3 = vld1q_s8(w + 48);
      for (int t = 0; t < T; ++t) {
        const int8x16_t xx = repeat8(xq[t] + 8 * c);
        dot[t][0] = Dot::step(dot[t][0], w0, xx);
        dot[t][1] = Dot::step(dot[t][1], w1, xx);
        dot[t][2] = Dot::step(dot[t][2], w2, xx);
        dot[t][3] = Dot::step(dot[t][3], w3, xx);
      }
    }
    return;
  }
  const uint8x16_t low = vdupq_n_u8(0x0F);
  for (int c = 0; c < 2; ++c) {
    int8x16_t lo[4], hi[4];
    for (int i = 0; i < 4; ++i) {
      const uint8x16_t v = vld1q_u8(quants + 64 * c + 16 * i);
      lo[i] = vreinterpretq_s8_u8(vandq_u8(v, low));
      hi[i] = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
    }
    for (int t = 0; t < T; ++t) {
      const int8x16_t xl = repeat8(xq[t] + 8 * c), xh = repeat8(xq[t] + 16 + 8 * c);
      for (int i = 0; i < 4; ++i) dot[t][i] = Dot::step(Dot::step(dot[t][i], lo[i], xl), hi[i], xh);
    }
  }
}

// One block's end for one token: rows 0..3 and 4..7 as exact int32 dot products (lanes of a
// row added, q4_0's bias taken off), then acc += dot * (dw * dx).
static inline void block_end(WeightFormat f, int32x4_t r03, int32x4_t r47, const PackedScales& scales, float dx, int32_t sum,
                             float32x4_t acc[2]) {
  if (stored_format(f) == WeightFormat::Q4_0) {
    const int32x4_t bias = vdupq_n_s32(8 * sum);
    r03 = vsubq_s32(r03, bias), r47 = vsubq_s32(r47, bias);
  }
  const float32x4_t d = vdupq_n_f32(dx);
  acc[0] = vfmaq_f32(acc[0], vcvtq_f32_s32(r03), vmulq_f32(load_f16x4(scales.d), d));
  acc[1] = vfmaq_f32(acc[1], vcvtq_f32_s32(r47), vmulq_f32(load_f16x4(scales.d + 4), d));
}

// Quantized formats. The stored format (Q8_0 or Q4_0) is a constant, so the block loop has no
// format branches.
template <class Dot, int T, WeightFormat Stored>
inline void quant_tile_n(const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  const Q8Activations& x = in.q8;
  float32x4_t acc[T][2];
  const int8_t* xq[T];  // each token's activations, moved on by a block each step
  const float* xd[T];
  const int32_t* xs[T];
  for (int t = 0; t < T; ++t) {
    acc[t][0] = acc[t][1] = vdupq_n_f32(0.f);
    xq[t] = x.row_q(m + t), xd[t] = x.row_d(m + t), xs[t] = x.row_sum(m + t);
  }
  const uint8_t* quants = g.data;
  for (int64_t b = 0; b < g.blocks; ++b, quants += packed_block_bytes(Stored)) {
    int32x4_t dot[T][4];
    block_dots<Dot, T>(Stored, quants, xq, dot);
    for (int t = 0; t < T; ++t) {
      block_end(Stored, vpaddq_s32(dot[t][0], dot[t][1]), vpaddq_s32(dot[t][2], dot[t][3]), g.scales[b], xd[t][b], xs[t][b],
                acc[t]);
      xq[t] += kBlockValues;
    }
  }
  for (int t = 0; t < T; ++t) {
    vst1q_f32(y + t * ldy, acc[t][0]);
    vst1q_f32(y + t * ldy + 4, acc[t][1]);
  }
}

template <class Dot, int T>
inline void packed_tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  switch (stored_format(f)) {
    case WeightFormat::F32: return float_tile_n<T, false>(g, in, m, y, ldy);
    case WeightFormat::F16: return float_tile_n<T, true>(g, in, m, y, ldy);
    case WeightFormat::Q8_0: return quant_tile_n<Dot, T, WeightFormat::Q8_0>(g, in, m, y, ldy);
    default: return quant_tile_n<Dot, T, WeightFormat::Q4_0>(g, in, m, y, ldy);
  }
}

// Any number of tokens, in register tiles of at most kMaxTileTokens.
template <class Dot>
inline void packed_tile(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y,
                        int64_t ldy) {
  for (int64_t t = 0; t < tokens;) {
    const int64_t n = std::min<int64_t>(tokens - t, kMaxTileTokens);
    float* yt = y + t * ldy;
    switch (n) {
      case 4: packed_tile_n<Dot, 4>(f, g, in, m + t, yt, ldy); break;
      case 3: packed_tile_n<Dot, 3>(f, g, in, m + t, yt, ldy); break;
      case 2: packed_tile_n<Dot, 2>(f, g, in, m + t, yt, ldy); break;
      default: packed_tile_n<Dot, 1>(f, g, in, m + t, yt, ldy); break;
    }
    t += n;
  }
}

}  // namespace ek::arm64
