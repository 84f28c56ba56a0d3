// `linear` over packed q8_0x8k8 / q4_0x8k8 weights with the int8 matrix multiply (i8mm): one
// smmla multiplies a 2x8 tile of two tokens' activations by a chunk of two weight rows (the
// register the layout gives) into a 2x2 block of int32: twice the products of an sdot. Token
// pairs go through smmla; a token left over goes through sdot (every i8mm core has dotprod).
//
// i8mm is enabled for this file's code only, not by the bundle's flags: GCC 12 with +i8mm
// turns plain signed x signed int8 dot loops elsewhere into usdot (one side unsigned) and
// computes wrong sums, as it does with VNNI on x86 (compiler/target/DeviceProfile.cpp).
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_arm64_i8mm)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("i8mm,dotprod"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("+i8mm")
#endif
#include <arm_neon.h>

#include "runtime/kernels/arm64_neon/packed_tile.h"

namespace ek::arm64_i8mm {
namespace {

// Tokens t and t+1's 8 activation bytes at `at`: the A operand of smmla.
inline int8x16_t token_pair(const Q8Activations& x, int64_t t, int64_t at) {
  return vcombine_s8(vld1_s8(x.row_q(t) + at), vld1_s8(x.row_q(t + 1) + at));
}

// P pairs of tokens. dot[p][i] holds [t0 row 2i, t0 row 2i+1, t1 row 2i, t1 row 2i+1].
template <int P>
void pair_tile_n(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, float* y, int64_t ldy) {
  const Q8Activations& x = in.q8;
  const bool q8 = stored_format(f) == WeightFormat::Q8_0;
  float32x4_t acc[2 * P][2];
  for (int t = 0; t < 2 * P; ++t) acc[t][0] = acc[t][1] = vdupq_n_f32(0.f);
  const uint8x16_t low = vdupq_n_u8(0x0F);
  for (int64_t b = 0; b < g.blocks; ++b) {
    const uint8_t* quants = g.data + b * packed_block_bytes(f);
    const int64_t at = b * kBlockValues;
    int32x4_t dot[P][4];
    for (int p = 0; p < P; ++p)
      for (int i = 0; i < 4; ++i) dot[p][i] = vdupq_n_s32(0);
    for (int c = 0; c < (q8 ? 4 : 2); ++c)
      for (int i = 0; i < 4; ++i) {
        const uint8x16_t v = vld1q_u8(quants + 64 * c + 16 * i);
        if (q8) {
          for (int p = 0; p < P; ++p)
            dot[p][i] = vmmlaq_s32(dot[p][i], token_pair(x, m + 2 * p, at + 8 * c), vreinterpretq_s8_u8(v));
        } else {
          const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(v, low)), hi = vreinterpretq_s8_u8(vshrq_n_u8(v, 4));
          for (int p = 0; p < P; ++p) {
            dot[p][i] = vmmlaq_s32(dot[p][i], token_pair(x, m + 2 * p, at + 8 * c), lo);
            dot[p][i] = vmmlaq_s32(dot[p][i], token_pair(x, m + 2 * p, at + 16 + 8 * c), hi);
          }
        }
      }
    for (int p = 0; p < P; ++p)
      for (int u = 0; u < 2; ++u) {  // token 2p + u: the 64-bit halves of its rows
        const int64_t t = m + 2 * p + u;
        auto half = [&](int i, int j) {
          const int64x2_t a = vreinterpretq_s64_s32(dot[p][i]), c = vreinterpretq_s64_s32(dot[p][j]);
          return vreinterpretq_s32_s64(u ? vzip2q_s64(a, c) : vzip1q_s64(a, c));
        };
        arm64::block_end(f, half(0, 1), half(2, 3), g.scales[b], x.row_d(t)[b], x.row_sum(t)[b], acc[2 * p + u]);
      }
  }
  for (int t = 0; t < 2 * P; ++t) {
    vst1q_f32(y + t * ldy, acc[t][0]);
    vst1q_f32(y + t * ldy + 4, acc[t][1]);
  }
}

void tile(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y, int64_t ldy) {
  int64_t t = 0;
  for (; t + 2 <= tokens;) {
    const int64_t pairs = std::min<int64_t>((tokens - t) / 2, 3);
    float* yt = y + t * ldy;
    switch (pairs) {
      case 3: pair_tile_n<3>(f, g, in, m + t, yt, ldy); break;
      case 2: pair_tile_n<2>(f, g, in, m + t, yt, ldy); break;
      default: pair_tile_n<1>(f, g, in, m + t, yt, ldy); break;
    }
    t += 2 * pairs;
  }
  if (t < tokens) arm64::packed_tile_n<arm64::SdotDot, 1>(f, g, in, m + t, y + t * ldy, ldy);
}

}  // namespace

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed(in, out, a, tile); }

}  // namespace ek::arm64_i8mm

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif
