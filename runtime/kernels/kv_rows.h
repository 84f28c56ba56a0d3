// Rows of a KV cache as stored (graph.kv_cache's `storage`): f32, f16, or q8_0 blocks (32 values
// under an f16 scale, llama.cpp's `--cache-type-k/v q8_0`). kv_append writes them; attention
// reads them in place, with f32 arithmetic on the stored values (nothing else is rounded).
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

// dot(row, x) over n values.
inline float kv_row_dot(WeightFormat f, const uint8_t* row, const float* x, int64_t n) {
  if (f != WeightFormat::Q8_0) return row_dot(f, row, x, n);
  Lanes8 lanes;  // independent lanes, so the compiler may vectorize the sum
  for (int64_t b = 0; b < n / kBlockValues; ++b, row += kQ8_0BlockBytes, x += kBlockValues) {
    const int8_t* __restrict q = reinterpret_cast<const int8_t*>(row + 2);
    float block[8] = {};
    for (int j = 0; j < kBlockValues; j += 8)
      for (int l = 0; l < 8; ++l) block[l] += float(q[j + l]) * x[j + l];
    const float d = block_scale(row);
    for (int l = 0; l < 8; ++l) lanes.acc[l] += d * block[l];
  }
  return lanes.total();
}

// y += p * row over n values (y never aliases the cache: restrict lets the loops vectorize).
inline void kv_row_add_scaled(WeightFormat f, const uint8_t* __restrict row, float p, float* __restrict y, int64_t n) {
  if (f == WeightFormat::F32) {
    const float* v = reinterpret_cast<const float*>(row);
    for (int64_t i = 0; i < n; ++i) y[i] += p * v[i];
  } else if (f == WeightFormat::F16) {
    int64_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
    const __m256 p8 = _mm256_set1_ps(p);
    for (; i + 8 <= n; i += 8) {
      const __m256 v8 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * i)));
      _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_loadu_ps(y + i), _mm256_mul_ps(p8, v8)));
    }
#endif
    for (; i < n; ++i) {
      uint16_t h;
      std::memcpy(&h, row + 2 * i, 2);
      y[i] += p * f16_bits_to_f32(h);
    }
  } else {
    for (int64_t b = 0; b < n / kBlockValues; ++b, row += kQ8_0BlockBytes, y += kBlockValues) {
      const int8_t* __restrict q = reinterpret_cast<const int8_t*>(row + 2);
      const float s = p * block_scale(row);
      for (int j = 0; j < kBlockValues; ++j) y[j] += s * float(q[j]);
    }
  }
}

}  // namespace ek
