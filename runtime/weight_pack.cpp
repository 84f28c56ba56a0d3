// The packed layouts of weight_format.h, from and back to llama.cpp's blocks. The compiler
// packs at compile time; bundles only unpack single rows (an embedding table shared with a
// packed output head).
#include <cstring>

#include "runtime/weight_format.h"

namespace ek {
namespace {

// Walks the blocks of one group: the quants of block b, then the plane of scales.
struct GroupLayout {
  int64_t blocks, block_bytes, quant_bytes;
  GroupLayout(WeightFormat stored, int64_t k)
      : blocks(k / kBlockValues),
        block_bytes(stored == WeightFormat::Q8_0 ? kQ8_0BlockBytes : kQ4_0BlockBytes),
        quant_bytes(packed_block_bytes(stored)) {}
  int64_t group_bytes() const { return blocks * kPackRows * block_bytes; }
  uint8_t* quants(uint8_t* group, int64_t b) const { return group + b * quant_bytes; }
  PackedScales* scales(uint8_t* group) const { return reinterpret_cast<PackedScales*>(group + blocks * quant_bytes); }
};

// Moves one row's block between the stored (ggml) form and its place in a packed block.
void place_block(WeightFormat packed, int r, uint8_t* stored, uint8_t* block, bool to_packed) {
  uint8_t* q = stored + 2;  // after the f16 scale
  if (stored_format(packed) == WeightFormat::Q8_0) {
    const uint8_t bias = packed_quant_bias(packed);
    for (int v = 0; v < kBlockValues; ++v) {
      uint8_t& slot = block[packed_quant_offset(packed, r, v)];
      if (to_packed) slot = q[v] ^ bias; else q[v] = slot ^ bias;
    }
    return;
  }
  // q4_0 stores value v < 16 in the low nibble of byte v and value 16 + v in its high nibble,
  // so a stored byte and a packed byte hold the same pair of values.
  for (int v = 0; v < kBlockValues / 2; ++v) {
    uint8_t& slot = block[packed_quant_offset(packed, r, v)];
    if (to_packed) slot = q[v]; else q[v] = slot;
  }
}

// f32 / f16: value c of the group's rows side by side.
void move_float_rows(size_t elem, int64_t group_first_row, const uint8_t* from, uint8_t* to, int64_t rows, int64_t k,
                     bool to_packed) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < k; ++c) {
      const size_t packed = size_t(((group_first_row / kPackRows) * k * kPackRows + c * kPackRows + (group_first_row + r) % kPackRows)) * elem;
      const size_t stored = size_t(r * k + c) * elem;
      if (to_packed) std::memcpy(to + packed, from + stored, elem); else std::memcpy(to + stored, from + packed, elem);
    }
}

size_t float_bytes(WeightFormat f) { return f == WeightFormat::F32 ? 4 : f == WeightFormat::F16 ? 2 : 0; }

}  // namespace

void pack_rows(WeightFormat packed, const uint8_t* rows, int64_t n, int64_t k, uint8_t* out) {
  const WeightFormat stored = stored_format(packed);
  if (size_t elem = float_bytes(stored)) {
    for (int64_t first = 0; first + kPackRows <= n; first += kPackRows)
      move_float_rows(elem, first, rows + size_t(first * k) * elem, out, kPackRows, k, true);
    return;
  }
  const GroupLayout g(stored, k);
  for (int64_t first = 0; first + kPackRows <= n; first += kPackRows) {
    uint8_t* group = out + first / kPackRows * g.group_bytes();
    for (int r = 0; r < kPackRows; ++r) {
      const uint8_t* row = rows + (first + r) * g.blocks * g.block_bytes;
      for (int64_t b = 0; b < g.blocks; ++b) {
        uint8_t block[kQ8_0BlockBytes];
        std::memcpy(block, row + b * g.block_bytes, size_t(g.block_bytes));
        place_block(packed, r, block, g.quants(group, b), true);
        std::memcpy(&g.scales(group)[b].d[r], block, 2);
      }
    }
  }
}

void unpack_row(WeightFormat packed, const uint8_t* weights, int64_t row, int64_t k, uint8_t* out) {
  const WeightFormat stored = stored_format(packed);
  if (size_t elem = float_bytes(stored)) {
    move_float_rows(elem, row, const_cast<uint8_t*>(weights), out, 1, k, false);
    return;
  }
  const GroupLayout g(stored, k);
  uint8_t* group = const_cast<uint8_t*>(weights) + row / kPackRows * g.group_bytes();
  const int r = int(row % kPackRows);
  for (int64_t b = 0; b < g.blocks; ++b) {
    uint8_t* block = out + b * g.block_bytes;
    std::memcpy(block, &g.scales(group)[b].d[r], 2);
    place_block(packed, r, block, g.quants(group, b), false);
  }
}

}  // namespace ek
