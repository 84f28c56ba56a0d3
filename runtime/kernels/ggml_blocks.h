// Weight rows as llama.cpp stores them, read in place: f32, f16, and the Q8_0 / Q4_0 blocks
// of 32 values (an f16 scale d, then 32 int8 q: x = d * q; or 16 bytes of nibbles: x = d *
// (nibble - 8), low nibbles first). Kernels consume these blocks directly; nothing is
// dequantized ahead of time.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/half.h"

namespace ek {

// Values of the `linear`/`embedding` format slot.
enum class WeightFormat : int64_t { F32 = 0, F16 = 1, Q8_0 = 2, Q4_0 = 3 };

constexpr int64_t kBlockValues = 32;
constexpr int64_t kQ8_0BlockBytes = 34;
constexpr int64_t kQ4_0BlockBytes = 18;

inline float block_scale(const uint8_t* block) {
  uint16_t d;
  std::memcpy(&d, block, 2);
  return f16_bits_to_f32(d);
}

// Bytes of one row of k values.
inline int64_t row_bytes(WeightFormat f, int64_t k) {
  switch (f) {
    case WeightFormat::F32: return k * 4;
    case WeightFormat::F16: return k * 2;
    case WeightFormat::Q8_0: return k / kBlockValues * kQ8_0BlockBytes;
    case WeightFormat::Q4_0: return k / kBlockValues * kQ4_0BlockBytes;
  }
  return 0;
}

// dot(row, x) over k values.
inline float row_dot(WeightFormat f, const uint8_t* row, const float* x, int64_t k) {
  float sum = 0.f;
  switch (f) {
    case WeightFormat::F32: {
      const float* w = reinterpret_cast<const float*>(row);
      for (int64_t i = 0; i < k; ++i) sum += w[i] * x[i];
      break;
    }
    case WeightFormat::F16: {
      for (int64_t i = 0; i < k; ++i) {
        uint16_t h;
        std::memcpy(&h, row + 2 * i, 2);
        sum += f16_bits_to_f32(h) * x[i];
      }
      break;
    }
    case WeightFormat::Q8_0: {
      for (int64_t b = 0; b < k / kBlockValues; ++b, row += kQ8_0BlockBytes, x += kBlockValues) {
        const int8_t* q = reinterpret_cast<const int8_t*>(row + 2);
        float block = 0.f;
        for (int j = 0; j < 32; ++j) block += float(q[j]) * x[j];
        sum += block_scale(row) * block;
      }
      break;
    }
    case WeightFormat::Q4_0: {
      for (int64_t b = 0; b < k / kBlockValues; ++b, row += kQ4_0BlockBytes, x += kBlockValues) {
        const uint8_t* q = row + 2;
        float block = 0.f;
        for (int j = 0; j < 16; ++j)
          block += float(int(q[j] & 0x0F) - 8) * x[j] + float(int(q[j] >> 4) - 8) * x[j + 16];
        sum += block_scale(row) * block;
      }
      break;
    }
  }
  return sum;
}

// Activations for quantized weights, as llama.cpp does it: each block of 32 becomes int8 with
// scale d = max|x| / 127 (kept at f16 precision), so a block's dot product is an exact integer
// sum times two scales. This is llama.cpp's arithmetic, so both agree closely on the same file.
inline void quantize_row_q8(const float* x, int64_t k, int8_t* q, float* d) {
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
  }
}

// dot(row, x) for a Q8_0 / Q4_0 row and activations from quantize_row_q8.
inline float row_dot_q8(WeightFormat f, const uint8_t* row, const int8_t* q, const float* d, int64_t k) {
  float sum = 0.f;
  const int64_t bytes = f == WeightFormat::Q8_0 ? kQ8_0BlockBytes : kQ4_0BlockBytes;
  for (int64_t b = 0; b < k / kBlockValues; ++b, row += bytes, q += kBlockValues) {
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
}

// out[0..k) = the row's values.
inline void row_values(WeightFormat f, const uint8_t* row, float* out, int64_t k) {
  switch (f) {
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

}  // namespace ek
