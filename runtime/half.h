// 16-bit floats as storage types: IEEE half (f16) and bfloat16 (bf16). Arithmetic happens in
// float through the implicit conversions; conversions round to nearest even.
#pragma once
#include <cstdint>
#include <cstring>
#include <limits>
#if defined(__F16C__)
#include <immintrin.h>  // one instruction per conversion where the target has F16C
#endif

namespace ek {

inline float f16_bits_to_f32(uint16_t h) {
#if defined(__F16C__)
  return _cvtsh_ss(h);
#endif
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / NaN
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) { mant <<= 1; --exp; }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_f16_bits(float f) {
#if defined(__F16C__)
  return uint16_t(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
#endif
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = uint16_t((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return uint16_t(sign | 0x7e00);      // NaN
  if (abs >= 0x477ff000u) return uint16_t(sign | 0x7c00);     // overflow -> inf
  if (abs < 0x38800000u) {                                     // subnormal or zero
    if (abs < 0x33000000u) return sign;
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    const int shift = 126 - int(abs >> 23);
    uint32_t h = mant >> shift;
    const uint32_t rest = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1))) ++h;
    return uint16_t(sign | h);
  }
  uint32_t h = ((abs >> 13) - ((127 - 15) << 10));
  const uint32_t rest = abs & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) ++h;
  return uint16_t(sign | h);
}

inline float bf16_bits_to_f32(uint16_t b) {
  const uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_bf16_bits(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40);  // quiet NaN
  x += 0x7fff + ((x >> 16) & 1);
  return uint16_t(x >> 16);
}

struct f16 {
  uint16_t bits = 0;
  f16() = default;
  f16(float f) : bits(f32_to_f16_bits(f)) {}  // NOLINT: implicit on purpose
  operator float() const { return f16_bits_to_f32(bits); }
};
struct bf16 {
  uint16_t bits = 0;
  bf16() = default;
  bf16(float f) : bits(f32_to_bf16_bits(f)) {}  // NOLINT
  operator float() const { return bf16_bits_to_f32(bits); }
};
static_assert(sizeof(f16) == 2 && sizeof(bf16) == 2, "16-bit storage");

template <class T> inline constexpr bool is_half_v = false;
template <> inline constexpr bool is_half_v<f16> = true;
template <> inline constexpr bool is_half_v<bf16> = true;

}  // namespace ek

template <>
struct std::numeric_limits<ek::f16> {
  static ek::f16 lowest() { return ek::f16(-65504.f); }
  static ek::f16 max() { return ek::f16(65504.f); }
};
template <>
struct std::numeric_limits<ek::bf16> {
  static ek::bf16 lowest() { return ek::bf16(-std::numeric_limits<float>::max()); }
  static ek::bf16 max() { return ek::bf16(std::numeric_limits<float>::max()); }
};
