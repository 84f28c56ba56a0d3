// Weight formats of `linear` / `embedding`: what the bytes of a weight tensor mean. Declared
// once here, for the compiler (verifiers, packing) and the kernels alike; no kernel code.
//
// As llama.cpp stores them (GGUF):
//   f32, f16    rows of K values;
//   q8_0, q4_0  rows of blocks of 32 values: an f16 scale d, then 32 int8 q (x = d * q) or
//               16 bytes of nibbles (x = d * (nibble - 8), low nibbles are values 0..15).
//   q2_k .. q6_k  the k-quants: rows of super-blocks of 256 values in sub-blocks of 16 or 32,
//               each sub-block with its own small integer scale (and, for q2_k/q4_k/q5_k, min)
//               under the super-block's f16 scales: x = d * scale * q - dmin * min. The bit
//               layouts are in kernels/kquant_blocks.h.
// Packed at compile time for a kernel (the `pack-weights` pass; importers never see these):
//   q8_0x8, q4_0x8  groups of kPackRows rows. Per group and block of 32 columns, the quants of
//               the group's rows interleaved in 4-value chunks (one 32-byte load feeds all 8
//               rows, and an int8 dot product lands in one lane per row: no horizontal sums),
//               then, after all blocks of the group, the scales of the rows as a plane of f16.
//   f32x8, f16x8    groups of kPackRows rows, column-major within the group: value k of the 8
//               rows side by side (one load of 8 values feeds one multiply-add per row).
//   q8_0x8u     q8_0x8 with every quant stored as the unsigned byte q + 128 (x86 VNNI: vpdpbusd
//               multiplies unsigned by signed bytes, so the weights go in as they are and the
//               128 * sum(x) they add comes off once per block; no per-product sign trick).
//   q8_0x8k8, q4_0x8k8  the same with 8-value chunks (arm64: one 16-byte register holds two
//               rows of a chunk, the operand of an `smmla` 2x8 tile, or of `sdot` with the
//               activation's 8 bytes repeated; the lanes of a row are added once per block).
//   A group takes exactly the bytes of its kPackRows rows as stored, so the tensor keeps its
//   shape and element type ([N, row bytes] of i8, or [N, K] of f32 / f16).
#pragma once
#include <cstdint>

namespace ek {

enum class WeightFormat : int64_t {
  F32 = 0, F16 = 1, Q8_0 = 2, Q4_0 = 3, Q8_0x8 = 4, Q4_0x8 = 5, F32x8 = 6, F16x8 = 7, Q8_0x8k8 = 8, Q4_0x8k8 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_0x8u = 15
};
constexpr int64_t kNumWeightFormats = 16;

constexpr int64_t kBlockValues = 32;
constexpr int64_t kQ8_0BlockBytes = 34;
constexpr int64_t kQ4_0BlockBytes = 18;
constexpr int64_t kSuperBlockValues = 256;  // k-quants
constexpr int kPackRows = 8;

// The quants of one block column of a packed group: [chunk][row][W values], W = 4 (x8) or 8 (x8k8).
template <int W>
struct PackedQ8Chunks {
  int8_t q[kBlockValues / W][kPackRows][W];  // chunk c holds values Wc..Wc+W-1
};
template <int W>
struct PackedQ4Chunks {
  uint8_t q[kBlockValues / 2 / W][kPackRows][W];  // chunk c: low nibbles values Wc.., high 16+Wc..
};
using PackedQ8Block = PackedQ8Chunks<4>;
using PackedQ4Block = PackedQ4Chunks<4>;
using PackedQ8BlockK8 = PackedQ8Chunks<8>;
using PackedQ4BlockK8 = PackedQ4Chunks<8>;
struct PackedScales {
  uint16_t d[kPackRows];  // f16 bits, one per row of the group
};
static_assert(sizeof(PackedQ8Block) + sizeof(PackedScales) == kPackRows * kQ8_0BlockBytes, "q8_0x8 keeps the bytes");
static_assert(sizeof(PackedQ4Block) + sizeof(PackedScales) == kPackRows * kQ4_0BlockBytes, "q4_0x8 keeps the bytes");
static_assert(sizeof(PackedQ8Block) == 256 && sizeof(PackedQ4Block) == 128 && sizeof(PackedScales) == 16, "layout");
static_assert(sizeof(PackedQ8BlockK8) == sizeof(PackedQ8Block) && sizeof(PackedQ4BlockK8) == sizeof(PackedQ4Block), "layout");

inline bool is_packed(WeightFormat f) {
  return (int64_t(f) >= int64_t(WeightFormat::Q8_0x8) && int64_t(f) <= int64_t(WeightFormat::Q4_0x8k8)) || f == WeightFormat::Q8_0x8u;
}
inline bool is_k_quant(WeightFormat f) { return int64_t(f) >= int64_t(WeightFormat::Q2_K) && int64_t(f) <= int64_t(WeightFormat::Q6_K); }
// The stored format a packed one rearranges (itself for the others).
inline WeightFormat stored_format(WeightFormat f) {
  switch (f) {
    case WeightFormat::Q8_0x8: case WeightFormat::Q8_0x8k8: case WeightFormat::Q8_0x8u: return WeightFormat::Q8_0;
    case WeightFormat::Q4_0x8: case WeightFormat::Q4_0x8k8: return WeightFormat::Q4_0;
    case WeightFormat::F32x8: return WeightFormat::F32;
    case WeightFormat::F16x8: return WeightFormat::F16;
    default: return f;
  }
}
// Values per chunk of a packed quantized format: a row's consecutive values side by side.
inline int chunk_values(WeightFormat f) { return f == WeightFormat::Q8_0x8k8 || f == WeightFormat::Q4_0x8k8 ? 8 : 4; }
// Bytes of the quants of one block column of a packed group (the scales follow all blocks).
inline int64_t packed_block_bytes(WeightFormat f) {
  return stored_format(f) == WeightFormat::Q8_0 ? int64_t(sizeof(PackedQ8Block)) : int64_t(sizeof(PackedQ4Block));
}
// The byte of a packed block that holds value v (0..31) of row r (q4: in its low nibble for
// v < 16, in its high nibble for v >= 16).
inline int packed_quant_offset(WeightFormat f, int r, int v) {
  const int w = chunk_values(f), at = stored_format(f) == WeightFormat::Q4_0 ? v % 16 : v;
  return (at / w * kPackRows + r) * w + at % w;
}
// What a packed quant byte holds over the stored one: q8_0x8u's + 128 (the top bit flipped).
inline uint8_t packed_quant_bias(WeightFormat f) { return f == WeightFormat::Q8_0x8u ? 0x80 : 0; }
// Block formats (integer quants under scales): activations are quantized to 8 bits for them.
inline bool is_quantized(WeightFormat f) {
  const WeightFormat s = stored_format(f);
  return s == WeightFormat::Q8_0 || s == WeightFormat::Q4_0 || is_k_quant(s);
}

// How a KV cache may store its rows (graph.kv_cache's storage; kernels/kv_rows.h reads them).
inline bool is_kv_storage(WeightFormat f) {
  return f == WeightFormat::F32 || f == WeightFormat::F16 || f == WeightFormat::Q8_0;
}

// Values and bytes of one block (1 value for f32 / f16); a row holds whole blocks.
inline int64_t block_values(WeightFormat f) {
  return is_k_quant(f) ? kSuperBlockValues : is_quantized(f) ? kBlockValues : 1;
}
inline int64_t block_bytes(WeightFormat f) {
  switch (stored_format(f)) {
    case WeightFormat::F32: return 4;
    case WeightFormat::F16: return 2;
    case WeightFormat::Q8_0: return kQ8_0BlockBytes;
    case WeightFormat::Q4_0: return kQ4_0BlockBytes;
    case WeightFormat::Q2_K: return 84;
    case WeightFormat::Q3_K: return 110;
    case WeightFormat::Q4_K: return 144;
    case WeightFormat::Q5_K: return 176;
    case WeightFormat::Q6_K: return 210;
    default: return 0;
  }
}

// Bytes of one row of k values (for packed formats: a group's bytes / kPackRows).
inline int64_t row_bytes(WeightFormat f, int64_t k) { return k / block_values(f) * block_bytes(f); }

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
    case WeightFormat::Q8_0x8k8: return "q8_0x8k8";
    case WeightFormat::Q8_0x8u: return "q8_0x8u";
    case WeightFormat::Q4_0x8k8: return "q4_0x8k8";
    case WeightFormat::Q2_K: return "q2_k";
    case WeightFormat::Q3_K: return "q3_k";
    case WeightFormat::Q4_K: return "q4_k";
    case WeightFormat::Q5_K: return "q5_k";
    case WeightFormat::Q6_K: return "q6_k";
  }
  return nullptr;
}

// The packed layouts of a stored format, in the order the packing pass tries them (the first
// one a kernel variant of the target takes wins); none for packed formats.
constexpr int kMaxPackedFormats = 3;
inline int packed_formats(WeightFormat stored, WeightFormat out[kMaxPackedFormats]) {
  switch (stored) {
    case WeightFormat::Q8_0:
      out[0] = WeightFormat::Q8_0x8u, out[1] = WeightFormat::Q8_0x8k8, out[2] = WeightFormat::Q8_0x8;
      return 3;
    case WeightFormat::Q4_0: out[0] = WeightFormat::Q4_0x8k8, out[1] = WeightFormat::Q4_0x8; return 2;
    case WeightFormat::F32: out[0] = WeightFormat::F32x8; return 1;
    case WeightFormat::F16: out[0] = WeightFormat::F16x8; return 1;
    default: return 0;
  }
}

// Packs n rows (n a multiple of kPackRows) of k values, stored as stored_format(packed), into
// the `packed` layout; `out` has the same size as `rows`. unpack_row is its inverse for one row.
void pack_rows(WeightFormat packed, const uint8_t* rows, int64_t n, int64_t k, uint8_t* out);
void unpack_row(WeightFormat packed, const uint8_t* weights, int64_t row, int64_t k, uint8_t* out);

}  // namespace ek
