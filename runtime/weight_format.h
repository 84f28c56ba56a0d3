// Weight formats of `linear` / `embedding`: what the bytes of a weight tensor mean. Declared
// once here, for the compiler (verifiers, packing) and the kernels alike; no kernel code.
//
// As llama.cpp stores them (GGUF):
//   f32, f16    rows of K values;
//   q8_0, q4_0  rows of blocks of 32 values: an f16 scale d, then 32 int8 q (x = d * q) or
//               16 bytes of nibbles (x = d * (nibble - 8), low nibbles are values 0..15).
// Packed at compile time for a kernel (the `pack-weights` pass; importers never see these):
//   q8_0x8, q4_0x8  groups of kPackRows rows. Per group and block of 32 columns, the quants of
//               the group's rows interleaved in 4-value chunks (one 32-byte load feeds all 8
//               rows, and an int8 dot product lands in one lane per row: no horizontal sums),
//               then, after all blocks of the group, the scales of the rows as a plane of f16.
//   f32x8, f16x8    groups of kPackRows rows, column-major within the group: value k of the 8
//               rows side by side (one load of 8 values feeds one multiply-add per row).
//   A group takes exactly the bytes of its kPackRows rows as stored, so the tensor keeps its
//   shape and element type ([N, row bytes] of i8, or [N, K] of f32 / f16).
#pragma once
#include <cstdint>

namespace ek {

enum class WeightFormat : int64_t { F32 = 0, F16 = 1, Q8_0 = 2, Q4_0 = 3, Q8_0x8 = 4, Q4_0x8 = 5, F32x8 = 6, F16x8 = 7 };
constexpr int64_t kNumWeightFormats = 8;

constexpr int64_t kBlockValues = 32;
constexpr int64_t kQ8_0BlockBytes = 34;
constexpr int64_t kQ4_0BlockBytes = 18;
constexpr int kPackRows = 8;

// The quants of one block column of a packed group: [chunk][row][4 values].
struct PackedQ8Block {
  int8_t q[kBlockValues / 4][kPackRows][4];  // chunk c holds values 4c..4c+3
};
struct PackedQ4Block {
  uint8_t q[kBlockValues / 8][kPackRows][4];  // chunk c: low nibbles values 4c.., high 16+4c..
};
struct PackedScales {
  uint16_t d[kPackRows];  // f16 bits, one per row of the group
};
static_assert(sizeof(PackedQ8Block) + sizeof(PackedScales) == kPackRows * kQ8_0BlockBytes, "q8_0x8 keeps the bytes");
static_assert(sizeof(PackedQ4Block) + sizeof(PackedScales) == kPackRows * kQ4_0BlockBytes, "q4_0x8 keeps the bytes");
static_assert(sizeof(PackedQ8Block) == 256 && sizeof(PackedQ4Block) == 128 && sizeof(PackedScales) == 16, "layout");

inline bool is_packed(WeightFormat f) { return int64_t(f) >= int64_t(WeightFormat::Q8_0x8); }
// The stored format a packed one rearranges (itself for the others).
inline WeightFormat stored_format(WeightFormat f) {
  switch (f) {
    case WeightFormat::Q8_0x8: return WeightFormat::Q8_0;
    case WeightFormat::Q4_0x8: return WeightFormat::Q4_0;
    case WeightFormat::F32x8: return WeightFormat::F32;
    case WeightFormat::F16x8: return WeightFormat::F16;
    default: return f;
  }
}
// The packed layout of a stored format (itself when it has none).
inline WeightFormat packed_format(WeightFormat f) {
  switch (f) {
    case WeightFormat::Q8_0: return WeightFormat::Q8_0x8;
    case WeightFormat::Q4_0: return WeightFormat::Q4_0x8;
    case WeightFormat::F32: return WeightFormat::F32x8;
    case WeightFormat::F16: return WeightFormat::F16x8;
    default: return f;
  }
}
// Formats of blocks of 32 with a scale: activations are quantized to 8 bits for them.
inline bool is_quantized(WeightFormat f) {
  const WeightFormat s = stored_format(f);
  return s == WeightFormat::Q8_0 || s == WeightFormat::Q4_0;
}

// Bytes of one row of k values (for packed formats: a group's bytes / kPackRows).
inline int64_t row_bytes(WeightFormat f, int64_t k) {
  switch (stored_format(f)) {
    case WeightFormat::F32: return k * 4;
    case WeightFormat::F16: return k * 2;
    case WeightFormat::Q8_0: return k / kBlockValues * kQ8_0BlockBytes;
    case WeightFormat::Q4_0: return k / kBlockValues * kQ4_0BlockBytes;
    default: return 0;
  }
}

// The format's name in the IR ("q8_0x8"), and back; nullptr / false for unknown ones.
inline const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Q8_0: return "q8_0";
    case WeightFormat::Q4_0: return "q4_0";
    case WeightFormat::Q8_0x8: return "q8_0x8";
    case WeightFormat::Q4_0x8: return "q4_0x8";
    case WeightFormat::F32x8: return "f32x8";
    case WeightFormat::F16x8: return "f16x8";
  }
  return nullptr;
}

// Packs n rows (n a multiple of kPackRows) of k values stored in `stored` into its x8 layout;
// `out` has the same size as `rows`. unpack_row_x8 is its inverse for one row.
void pack_rows_x8(WeightFormat stored, const uint8_t* rows, int64_t n, int64_t k, uint8_t* out);
void unpack_row_x8(WeightFormat packed, const uint8_t* weights, int64_t row, int64_t k, uint8_t* out);

}  // namespace ek
