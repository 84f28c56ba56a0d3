// Rows of a KV cache as stored (graph.kv_cache's `storage`): f32, f16, or q8_0 blocks (32 values
// under an f16 scale, llama.cpp's `--cache-type-k/v q8_0`). kv_append writes them; attention
// reads them in place, widening a row once for every query head that shares it, with f32
// arithmetic on the stored values (nothing else is rounded).
#pragma once
#include <cstdint>
#include <cstring>

#include "runtime/half.h"
#include "runtime/kernels/ggml_blocks.h"
#include "runtime/weight_format.h"

namespace ek {

// Stores n values (q8_0: n a multiple of 32) as `f`, rounding as llama.cpp does when it writes
// its cache: f16 to nearest even; q8_0 blocks as its quantize_row_q8_0 (scale max|x| / 127).
inline void store_kv_row(WeightFormat f, const float* x, int64_t n, uint8_t* row) {
  if (f == WeightFormat::F32) {
    std::memcpy(row, x, size_t(n) * sizeof(float));
  } else if (f == WeightFormat::F16) {
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t h = f32_to_f16_bits(x[i]);
      std::memcpy(row + 2 * i, &h, 2);
    }
  } else {
    for (int64_t b = 0; b < n / kBlockValues; ++b, row += kQ8_0BlockBytes) {
      float d;
      quantize_row_q8(x + b * kBlockValues, kBlockValues, reinterpret_cast<int8_t*>(row + 2), &d);
      const uint16_t h = f32_to_f16_bits(d);  // d is already at f16 precision: exact
      std::memcpy(row, &h, 2);
    }
  }
}

// Eight floats as one vector (GCC and Clang vector extensions: SIMD on every target). They only
// pass between inline functions, so GCC's note that their ABI depends on AVX does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float F32x8 __attribute__((vector_size(32)));
typedef int8_t I8x8 __attribute__((vector_size(8)));

inline F32x8 load_f32x8(const float* p) {
  F32x8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store_f32x8(float* p, F32x8 v) { std::memcpy(p, &v, sizeof v); }

// Calls fn(i, values [i, i + 8) as f32) for i = 0, 8, ... while i + 8 <= n: f16 widened
// exactly, q8_0 as scale x quant. The format is decided once per row, outside the loop.
template <class Fn>
inline void kv_row_for_each8(WeightFormat f, const uint8_t* row, int64_t n, Fn&& fn) {
  if (f == WeightFormat::F32) {
    for (int64_t i = 0; i + 8 <= n; i += 8) fn(i, load_f32x8(reinterpret_cast<const float*>(row) + i));
  } else if (f == WeightFormat::F16) {
    for (int64_t i = 0; i + 8 <= n; i += 8) {
#if defined(__F16C__) && defined(__AVX__)
      fn(i, F32x8(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)))));
#elif defined(__aarch64__) && defined(__ARM_NEON)
      // fcvtl widens exactly; it is base AArch64, so every arm64 level has it.
      const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(row + 2 * i)));
      const float32x4_t lo = vcvt_f32_f16(vget_low_f16(h)), hi = vcvt_high_f32_f16(h);
      F32x8 v;
      std::memcpy(&v, &lo, sizeof lo);
      std::memcpy(reinterpret_cast<char*>(&v) + sizeof lo, &hi, sizeof hi);
      fn(i, v);
#else
      F32x8 v;
      for (int l = 0; l < 8; ++l) {
        uint16_t h;
        std::memcpy(&h, row + 2 * (i + l), 2);
        v[l] = f16_bits_to_f32(h);
      }
      fn(i, v);
#endif
    }
  } else {
    for (int64_t i = 0; i + kBlockValues <= n; i += kBlockValues, row += kQ8_0BlockBytes) {
      const float d = block_scale(row);
      for (int c = 0; c < kBlockValues; c += 8) {
        I8x8 q;
        std::memcpy(&q, row + 2 + c, sizeof q);
        fn(i + c, __builtin_convertvector(q, F32x8) * d);
      }
    }
  }
}

}  // namespace ek
