// Weight rows as llama.cpp stores them (weight_format.h), read in place by the portable
// kernels: f32, f16, and the Q8_0 / Q4_0 blocks. Nothing is dequantized ahead of time.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/half.h"
#include "runtime/kernels/kquant_blocks.h"
#include "runtime/weight_format.h"
#if (defined(__F16C__) && defined(__AVX__)) || defined(__AVX2__)
#include <immintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

namespace ek {

inline float block_scale(const uint8_t* block) {
  uint16_t d;
  std::memcpy(&d, block, 2);
  return f16_bits_to_f32(d);
}

// Eight running sums, added pairwise at the end: independent lanes let the compiler use
// vector registers (one float sum would be a serial chain: float addition is not
// associative, so it may not reorder it).
struct Lanes8 {
  float acc[8] = {};
  float total() const {  // in the order of ggml's hsum_float_8
    return ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
  }
};

// dot(row, x) over k values (f32 / f16 rows; quantized rows use row_dot_q8).
inline float row_dot(WeightFormat f, const uint8_t* row, const float* x, int64_t k) {
  Lanes8 lanes;
  int64_t i = 0;
  if (f == WeightFormat::F32) {
    const float* w = reinterpret_cast<const float*>(row);
    for (; i + 8 <= k; i += 8)
      for (int j = 0; j < 8; ++j) lanes.acc[j] += w[i + j] * x[i + j];
    for (; i < k; ++i) lanes.acc[0] += w[i] * x[i];
    return lanes.total();
  }
#if defined(__F16C__) && defined(__AVX__)
  __m256 acc = _mm256_setzero_ps();  // 8 halves widened per instruction
  for (; i + 8 <= k; i += 8) {
    const __m256 w8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
    acc = _mm256_add_ps(acc, _mm256_mul_ps(w8, _mm256_loadu_ps(x + i)));
  }
  _mm256_storeu_ps(lanes.acc, acc);
#else
  for (; i + 8 <= k; i += 8)
    for (int j = 0; j < 8; ++j) {
      uint16_t h;
      std::memcpy(&h, row + 2 * (i + j), 2);
      lanes.acc[j] += f16_bits_to_f32(h) * x[i + j];
    }
#endif
  for (; i < k; ++i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    lanes.acc[0] += f16_bits_to_f32(h) * x[i];
  }
  return lanes.total();
}

// Activations for quantized weights, as llama.cpp does it: each block of 32 becomes int8 with
// scale d = max|x| / 127 (kept at f16 precision), so a block's dot product is an exact integer
// sum times two scales. This is llama.cpp's arithmetic, so both agree closely on the same file.
// `sums`, when given, gets each block's sum of q (packed q4_0 kernels multiply unsigned
// nibbles and subtract 8 * sum once per block). The reference, one value at a time:
inline void quantize_row_q8_reference(const float* x, int64_t k, int8_t* q, float* d, int32_t* sums = nullptr) {
  for (int64_t b = 0; b < k / kBlockValues; ++b, x += kBlockValues, q += kBlockValues) {
    float amax = 0.f;
    for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    // As ggml's x86 code: multiply by 127 / amax and round half to even.
    const float inv = amax != 0.f ? 127.f / amax : 0.f;
    d[b] = f16_bits_to_f32(f32_to_f16_bits(amax / 127.f));
    for (int j = 0; j < 32; ++j) {
      // |v| <= 127 up to rounding; inf or NaN in the block must not reach the int8 cast (UB).
      const float v = x[j] * inv;
      q[j] = std::isnan(v) ? int8_t(0) : int8_t(std::nearbyint(std::fmin(std::fmax(v, -127.f), 127.f)));
    }
    if (sums) {
      int32_t s = 0;
      for (int j = 0; j < 32; ++j) s += q[j];
      sums[b] = s;
    }
  }
}

#if defined(__AVX2__)
// The same arithmetic, 8 lanes at a time; bit-exact with the reference (NaN lanes become 0, a
// NaN is ignored by the max as fmax ignores it).
inline void quantize_row_q8(const float* x, int64_t k, int8_t* q, float* d, int32_t* sums = nullptr) {
  const __m256 sign = _mm256_set1_ps(-0.f), lo = _mm256_set1_ps(-127.f), hi = _mm256_set1_ps(127.f);
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);  // undoes the packs' lane interleave
  for (int64_t b = 0; b < k / kBlockValues; ++b, x += kBlockValues, q += kBlockValues) {
    __m256 v[4], amax8 = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(x + 8 * i);
      amax8 = _mm256_max_ps(_mm256_andnot_ps(sign, v[i]), amax8);  // a NaN |x| loses to amax8
    }
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(amax8), _mm256_extractf128_ps(amax8, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    const float amax = _mm_cvtss_f32(m4);
    const float inv = amax != 0.f ? 127.f / amax : 0.f;
    d[b] = f16_bits_to_f32(f32_to_f16_bits(amax / 127.f));
    __m256i ints[4];
    for (int i = 0; i < 4; ++i) {
      const __m256 scaled = _mm256_mul_ps(v[i], _mm256_set1_ps(inv));
      const __m256 ordered = _mm256_cmp_ps(scaled, scaled, _CMP_ORD_Q);
      const __m256 clamped = _mm256_min_ps(_mm256_max_ps(scaled, lo), hi);
      const __m256 rounded = _mm256_round_ps(clamped, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      ints[i] = _mm256_and_si256(_mm256_cvtps_epi32(rounded), _mm256_castps_si256(ordered));
    }
    __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(ints[0], ints[1]), _mm256_packs_epi32(ints[2], ints[3]));
    packed = _mm256_permutevar8x32_epi32(packed, order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), packed);
    if (sums) {
      const __m256i ones = _mm256_set1_epi8(1);  // sum of 32 int8: maddubs(1, q) then madd
      const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(ones, packed), _mm256_set1_epi16(1));
      __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
      s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
      sums[b] = _mm_cvtsi128_si32(s4);
    }
  }
}
#elif defined(__aarch64__) && defined(__ARM_NEON)
// The same arithmetic, 4 lanes at a time; bit-exact with the reference (fmaxnm ignores a NaN as
// fmax does; NaN lanes become 0; frintn rounds half to even as nearbyint does).
inline void quantize_row_q8(const float* x, int64_t k, int8_t* q, float* d, int32_t* sums = nullptr) {
  const float32x4_t lo = vdupq_n_f32(-127.f), hi = vdupq_n_f32(127.f);
  for (int64_t b = 0; b < k / kBlockValues; ++b, x += kBlockValues, q += kBlockValues) {
    float32x4_t v[8], amax4 = vdupq_n_f32(0.f);
    for (int i = 0; i < 8; ++i) {
      v[i] = vld1q_f32(x + 4 * i);
      amax4 = vmaxnmq_f32(amax4, vabsq_f32(v[i]));
    }
    const float amax = vmaxnmvq_f32(amax4);
    const float inv = amax != 0.f ? 127.f / amax : 0.f;
    d[b] = f16_bits_to_f32(f32_to_f16_bits(amax / 127.f));
    int16x8_t halves[4];
    for (int i = 0; i < 8; i += 2) {
      int32x4_t ints[2];
      for (int j = 0; j < 2; ++j) {
        const float32x4_t scaled = vmulq_n_f32(v[i + j], inv);
        const uint32x4_t ordered = vceqq_f32(scaled, scaled);
        const float32x4_t rounded = vrndnq_f32(vminnmq_f32(vmaxnmq_f32(scaled, lo), hi));
        ints[j] = vandq_s32(vcvtq_s32_f32(rounded), vreinterpretq_s32_u32(ordered));
      }
      halves[i / 2] = vcombine_s16(vmovn_s32(ints[0]), vmovn_s32(ints[1]));
    }
    const int8x16_t q0 = vcombine_s8(vmovn_s16(halves[0]), vmovn_s16(halves[1]));
    const int8x16_t q1 = vcombine_s8(vmovn_s16(halves[2]), vmovn_s16(halves[3]));
    vst1q_s8(q, q0);
    vst1q_s8(q + 16, q1);
    if (sums) sums[b] = int32_t(vaddlvq_s8(q0)) + int32_t(vaddlvq_s8(q1));
  }
}
#else
inline void quantize_row_q8(const float* x, int64_t k, int8_t* q, float* d, int32_t* sums = nullptr) {
  quantize_row_q8_reference(x, k, q, d, sums);
}
#endif

// a * b + c, fused where the target has FMA: the packed kernels accumulate with it, and
// their portable reference must round the same way to be bit-exact with them.
inline float fmadd(float a, float b, float c) {
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

#if defined(__AVX2__)
// 32 signed bytes times 32 signed bytes -> 8 int32 lane sums (ggml's mul_sum_i8_pairs: the
// sign moves onto y so maddubs can take |x| as unsigned; no int16 overflow since |x| <= 128).
inline __m256i dot_i8_lanes(__m256i x, __m256i y) {
  const __m256i ax = _mm256_sign_epi8(x, x), sy = _mm256_sign_epi8(y, x);
  return _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), _mm256_set1_epi16(1));
}
#endif

// dot(row, x) for a Q8_0 / Q4_0 row and activations from quantize_row_q8: per block an exact
// integer dot product times the two scales.
inline float row_dot_q8(WeightFormat f, const uint8_t* row, const int8_t* q, const float* d, int64_t k) {
  const int64_t bytes = f == WeightFormat::Q8_0 ? kQ8_0BlockBytes : kQ4_0BlockBytes;
  const int64_t blocks = k / kBlockValues;
#if defined(__AVX2__)
  // ggml's layout of the work: 8 float lanes accumulate (scale * lane sum) over the blocks.
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < blocks; ++b, row += bytes, q += kBlockValues) {
    __m256i w;
    if (f == WeightFormat::Q8_0) {
      w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2));
    } else {  // nibbles: low ones are values 0..15, high ones 16..31; stored + 8
      const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2));
      w = _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(packed, 4), packed), _mm256_set1_epi8(0x0F));
      w = _mm256_sub_epi8(w, _mm256_set1_epi8(8));
    }
    const __m256 lanes = _mm256_cvtepi32_ps(dot_i8_lanes(w, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q))));
    const __m256 scale = _mm256_set1_ps(block_scale(row) * d[b]);
#if defined(__FMA__)
    acc = _mm256_fmadd_ps(scale, lanes, acc);
#else
    acc = _mm256_add_ps(_mm256_mul_ps(scale, lanes), acc);
#endif
  }
  Lanes8 out;
  _mm256_storeu_ps(out.acc, acc);
  return out.total();
#else
  float sum = 0.f;
  for (int64_t b = 0; b < blocks; ++b, row += bytes, q += kBlockValues) {
    int32_t block = 0;
    if (f == WeightFormat::Q8_0) {
      const int8_t* w = reinterpret_cast<const int8_t*>(row + 2);
      for (int j = 0; j < 32; ++j) block += int32_t(w[j]) * q[j];
    } else {
      const uint8_t* w = row + 2;
      for (int j = 0; j < 16; ++j) block += (int32_t(w[j] & 0x0F) - 8) * q[j] + (int32_t(w[j] >> 4) - 8) * q[j + 16];
    }
    sum += float(block) * (block_scale(row) * d[b]);
  }
  return sum;
#endif
}

// out[0..k) = the row's values (packed formats: see row_values_at).
inline void row_values(WeightFormat f, const uint8_t* row, float* out, int64_t k) {
  if (is_k_quant(f)) return k_row_values(f, row, out, k);
  switch (f) {
    default: break;  // packed formats: row_values_at
    case WeightFormat::F32: std::memcpy(out, row, size_t(k) * 4); break;
    case WeightFormat::F16:
      for (int64_t i = 0; i < k; ++i) {
        uint16_t h;
        std::memcpy(&h, row + 2 * i, 2);
        out[i] = f16_bits_to_f32(h);
      }
      break;
    case WeightFormat::Q8_0:
      for (int64_t b = 0; b < k / kBlockValues; ++b, row += kQ8_0BlockBytes, out += kBlockValues) {
        const float d = block_scale(row);
        const int8_t* q = reinterpret_cast<const int8_t*>(row + 2);
        for (int j = 0; j < 32; ++j) out[j] = d * float(q[j]);
      }
      break;
    case WeightFormat::Q4_0:
      for (int64_t b = 0; b < k / kBlockValues; ++b, row += kQ4_0BlockBytes, out += kBlockValues) {
        const float d = block_scale(row);
        for (int j = 0; j < 16; ++j) {
          out[j] = d * float(int(row[2 + j] & 0x0F) - 8);
          out[j + 16] = d * float(int(row[2 + j] >> 4) - 8);
        }
      }
      break;
  }
}

// out[0..k) = the values of row `row` of a weight tensor in any format.
inline void row_values_at(WeightFormat f, const uint8_t* weights, int64_t row, float* out, int64_t k) {
  if (!is_packed(f)) return row_values(f, weights + row * row_bytes(f, k), out, k);
  if (!is_quantized(f)) {  // f32x8 / f16x8: value c of the group's rows side by side
    const int64_t at = row / kPackRows * kPackRows * k + row % kPackRows;
    for (int64_t c = 0; c < k; ++c) {
      if (f == WeightFormat::F32x8) {
        std::memcpy(&out[c], weights + 4 * (at + c * kPackRows), 4);
      } else {
        uint16_t h;
        std::memcpy(&h, weights + 2 * (at + c * kPackRows), 2);
        out[c] = f16_bits_to_f32(h);
      }
    }
    return;
  }
  const bool q8 = stored_format(f) == WeightFormat::Q8_0;
  const uint8_t bias = packed_quant_bias(f);
  const int64_t blocks = k / kBlockValues, r = row % kPackRows;
  const int64_t quant_bytes = packed_block_bytes(f);
  const uint8_t* group = weights + row / kPackRows * kPackRows * row_bytes(f, k);
  const auto* scales = reinterpret_cast<const PackedScales*>(group + blocks * quant_bytes);
  for (int64_t b = 0; b < blocks; ++b, out += kBlockValues) {
    const float d = f16_bits_to_f32(scales[b].d[r]);
    const uint8_t* quants = group + b * quant_bytes;
    for (int v = 0; v < kBlockValues; ++v) {
      const uint8_t byte = quants[packed_quant_offset(f, int(r), v)] ^ bias;
      out[v] = d * float(q8 ? int(int8_t(byte)) : int(v < 16 ? byte & 0x0F : byte >> 4) - 8);
    }
  }
}

}  // namespace ek
