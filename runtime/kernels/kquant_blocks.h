// The k-quants (Q2_K .. Q6_K) as llama.cpp stores them, read in place by the portable linear
// and embedding kernels. A super-block of 256 values is decoded into one common form, small
// integers q with an integer scale (and min) per 16 values under two f16 super-block scales:
//
//   x[i] = d * scale[i / 16] * q[i] - dmin * min[i / 16]
//
// so that a single integer dot product serves every format. Activations are quantized per 256
// values as llama.cpp does (its Q8_K: a float scale, int8 values, and the sum of each 16), and
// a super-block's dot product is then two exact integer sums times two float scales.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/half.h"
#include "runtime/weight_format.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace ek {

constexpr int kGroupValues = 16;  // values under one integer scale (k-quants with 32 repeat it)
constexpr int kGroups = int(kSuperBlockValues / kGroupValues);

struct KQuantBlock {
  alignas(32) int8_t q[kSuperBlockValues];
  int16_t scale[kGroups];
  int16_t min[kGroups];  // all zero for q3_k and q6_k
  float d = 0.f, dmin = 0.f;
};

namespace kquant_detail {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_bits_to_f32(h);
}

// q4_k / q5_k: 8 scales and 8 mins of 6 bits in 12 bytes (sub-blocks of 32 values).
inline void scale_min_6bit(const uint8_t* s, int j, int* scale, int* min) {
  if (j < 4) {
    *scale = s[j] & 63;
    *min = s[j + 4] & 63;
  } else {
    *scale = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
    *min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

}  // namespace kquant_detail

// Decodes one stored super-block of format f (a k-quant) into `out`. Layouts (byte offsets):
//   q2_k  scales[16] (low nibble scale, high nibble min) | qs[64] 2-bit | d | dmin
//   q3_k  hmask[32] high bits | qs[64] low 2 bits | scales[12] 6-bit, offset 32 | d
//   q4_k  d | dmin | scales[12] 6-bit scales and mins per 32 | qs[128] nibbles
//   q5_k  d | dmin | scales[12] | qh[32] fifth bits | qs[128] nibbles
//   q6_k  ql[128] low nibbles | qh[64] high 2 bits | scales[16] int8 | d
// Within a 128-value half, the 2-bit formats put value 32j + l in bits 2j of byte l of that
// half's 32 bytes; the nibble formats put value 64j + l (l < 32) in the low nibble and
// 64j + 32 + l in the high nibble of byte 32j + l.
inline void decode_k_block(WeightFormat f, const uint8_t* b, KQuantBlock* out) {
  using namespace kquant_detail;
  int8_t* q = out->q;
  switch (f) {
    case WeightFormat::Q2_K: {
      const uint8_t* qs = b + 16;
      out->d = half_at(b + 80), out->dmin = half_at(b + 82);
      for (int g = 0; g < kGroups; ++g) out->scale[g] = int16_t(b[g] & 0x0F), out->min[g] = int16_t(b[g] >> 4);
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 4; ++j)
          for (int l = 0; l < 32; ++l) q[128 * h + 32 * j + l] = int8_t((qs[32 * h + l] >> (2 * j)) & 3);
      return;
    }
    case WeightFormat::Q3_K: {
      const uint8_t *hmask = b, *qs = b + 32, *s = b + 96;
      out->d = half_at(b + 108), out->dmin = 0.f;
      for (int g = 0; g < kGroups; ++g) {  // low 4 bits from bytes 0..7, high 2 bits from 8..11
        const int low = g < 8 ? s[g] & 0x0F : s[g - 8] >> 4;
        const int high = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
        out->scale[g] = int16_t((low | (high << 4)) - 32), out->min[g] = 0;
      }
      for (int h = 0; h < 2; ++h)
        for (int j = 0; j < 4; ++j) {
          const int bit = 4 * h + j;
          for (int l = 0; l < 32; ++l)
            q[128 * h + 32 * j + l] = int8_t(((qs[32 * h + l] >> (2 * j)) & 3) - ((hmask[l] >> bit) & 1 ? 0 : 4));
        }
      return;
    }
    case WeightFormat::Q4_K:
    case WeightFormat::Q5_K: {
      const bool five = f == WeightFormat::Q5_K;
      const uint8_t *s = b + 4, *qh = b + 16, *qs = five ? b + 48 : b + 16;
      out->d = half_at(b), out->dmin = half_at(b + 2);
      for (int j = 0; j < 8; ++j) {
        int scale, min;
        scale_min_6bit(s, j, &scale, &min);
        out->scale[2 * j] = out->scale[2 * j + 1] = int16_t(scale);
        out->min[2 * j] = out->min[2 * j + 1] = int16_t(min);
      }
      for (int j = 0; j < 4; ++j)
        for (int l = 0; l < 32; ++l) {
          q[64 * j + l] = int8_t(qs[32 * j + l] & 0x0F);
          q[64 * j + 32 + l] = int8_t(qs[32 * j + l] >> 4);
        }
      if (five)
        for (int j = 0; j < 4; ++j)
          for (int l = 0; l < 32; ++l) {
            q[64 * j + l] = int8_t(q[64 * j + l] | (((qh[l] >> (2 * j)) & 1) << 4));
            q[64 * j + 32 + l] = int8_t(q[64 * j + 32 + l] | (((qh[l] >> (2 * j + 1)) & 1) << 4));
          }
      return;
    }
    case WeightFormat::Q6_K: {
      const uint8_t *ql = b, *qh = b + 128;
      const int8_t* s = reinterpret_cast<const int8_t*>(b + 192);
      out->d = half_at(b + 208), out->dmin = 0.f;
      for (int g = 0; g < kGroups; ++g) out->scale[g] = s[g], out->min[g] = 0;
      for (int h = 0; h < 2; ++h, ql += 64, qh += 32, q += 128)
        for (int l = 0; l < 32; ++l) {
          q[l] = int8_t(((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32);
          q[l + 32] = int8_t(((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32);
          q[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
          q[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
      return;
    }
    default: return;
  }
}

// Activations for k-quant weights, llama.cpp's Q8_K: per 256 values, iscale = -127 / x[argmax |x|],
// q = min(127, round-half-even(iscale * x)), d = 1 / iscale, and the sum of q per 16 values.
inline void quantize_row_q8_k(const float* x, int64_t k, int8_t* q, float* d, int16_t* sums) {
  for (int64_t b = 0; b < k / kSuperBlockValues; ++b, x += kSuperBlockValues, q += kSuperBlockValues) {
    float amax = 0.f, max = 0.f;
    for (int j = 0; j < kSuperBlockValues; ++j)
      if (std::fabs(x[j]) > amax) amax = std::fabs(x[j]), max = x[j];
    if (amax == 0.f) {  // also what an all-NaN block gives: zeros, never an int8 cast of NaN
      d[b] = 0.f;
      std::memset(q, 0, kSuperBlockValues);
      for (int g = 0; g < kGroups; ++g) sums[b * kGroups + g] = 0;
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kSuperBlockValues; ++j) {
      const float v = iscale * x[j];  // |v| <= 127 up to rounding; NaN lanes become 0
      q[j] = std::isnan(v) ? int8_t(0) : int8_t(std::fmin(127.f, std::nearbyint(std::fmax(v, -128.f))));
    }
    for (int g = 0; g < kGroups; ++g) {
      int s = 0;
      for (int l = 0; l < kGroupValues; ++l) s += q[g * kGroupValues + l];
      sums[b * kGroups + g] = int16_t(s);
    }
    d[b] = 1.f / iscale;
  }
}

// dot(decoded weights, one block of activations from quantize_row_q8_k).
inline float k_block_dot(const KQuantBlock& w, const int8_t* a, float da, const int16_t* sums) {
  int32_t scaled = 0, mins = 0;
  for (int g = 0; g < kGroups; ++g) mins += int32_t(w.min[g]) * sums[g];
#if defined(__AVX2__)
  __m256i acc = _mm256_setzero_si256();
  for (int j = 0; j < kGroups / 2; ++j) {  // 32 values: groups 2j and 2j + 1
    const __m256i x = _mm256_load_si256(reinterpret_cast<const __m256i*>(w.q + 32 * j));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + 32 * j));
    // |q| <= 32 and |a| <= 128 (sign moved onto a): pair sums fit int16; then pairs x scale
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
    const __m256i scale = _mm256_set_m128i(_mm_set1_epi16(w.scale[2 * j + 1]), _mm_set1_epi16(w.scale[2 * j]));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, scale));
  }
  __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
  s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
  scaled = _mm_cvtsi128_si32(s4);
#else
  for (int g = 0; g < kGroups; ++g) {
    int32_t s = 0;
    for (int l = 0; l < kGroupValues; ++l) s += int32_t(w.q[g * kGroupValues + l]) * a[g * kGroupValues + l];
    scaled += int32_t(w.scale[g]) * s;
  }
#endif
  return (w.d * da) * float(scaled) - (w.dmin * da) * float(mins);
}

// out[0..k) = the values of a k-quant row, as llama.cpp dequantizes them.
inline void k_row_values(WeightFormat f, const uint8_t* row, float* out, int64_t k) {
  KQuantBlock blk;
  for (int64_t b = 0; b < k / kSuperBlockValues; ++b, row += block_bytes(f), out += kSuperBlockValues) {
    decode_k_block(f, row, &blk);
    for (int g = 0; g < kGroups; ++g) {
      const float dl = blk.d * float(blk.scale[g]), ml = blk.dmin * float(blk.min[g]);
      for (int l = 0; l < kGroupValues; ++l) out[g * kGroupValues + l] = dl * float(blk.q[g * kGroupValues + l]) - ml;
    }
  }
}

}  // namespace ek
