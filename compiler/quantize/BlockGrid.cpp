#include "compiler/quantize/BlockGrid.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "compiler/quantize/KQuantizer.h"
#include "runtime/half.h"
#include "runtime/kernels/kquant_blocks.h"

namespace edgecc {

uint8_t BlockGrid::nearestLevel(int i, float x) const {
  const int g = i / group;
  if (step[g] == 0.f) return level[i];
  const float l = std::nearbyint((x + offset[g]) / step[g]);
  return uint8_t(std::clamp(l, 0.f, float(maxLevel)));
}

namespace {

float halfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return ek::f16_bits_to_f32(h);
}

// The k-quants' signed values as unsigned levels: q3_k's -4..3 and q6_k's -32..31 shifted up.
int kBias(ek::WeightFormat f) { return f == ek::WeightFormat::Q3_K ? 4 : f == ek::WeightFormat::Q6_K ? 32 : 0; }
int kMaxLevel(ek::WeightFormat f) {
  switch (f) {
    case ek::WeightFormat::Q2_K: return 3;
    case ek::WeightFormat::Q3_K: return 7;
    case ek::WeightFormat::Q4_K: return 15;
    case ek::WeightFormat::Q5_K: return 31;
    default: return 63;
  }
}

}  // namespace

BlockGrid readBlockGrid(ek::WeightFormat format, const uint8_t* block) {
  BlockGrid g;
  if (format == ek::WeightFormat::Q8_0 || format == ek::WeightFormat::Q4_0) {  // d | 32 int8, or d | 16 bytes of nibbles
    const bool q8 = format == ek::WeightFormat::Q8_0;
    const float d = halfAt(block);
    g.values = g.group = int(ek::kBlockValues);
    g.maxLevel = q8 ? 255 : 15;
    g.step[0] = d;
    g.offset[0] = (q8 ? 128.f : 8.f) * d;
    for (int i = 0; i < g.values; ++i)
      g.level[i] = q8 ? uint8_t(int(int8_t(block[2 + i])) + 128)
                      : uint8_t(i < 16 ? block[2 + i] & 0x0F : block[2 + i - 16] >> 4);
    return g;
  }
  ek::KQuantBlock k;
  ek::decode_k_block(format, block, &k);
  g.values = int(ek::kSuperBlockValues);
  g.group = ek::kGroupValues;
  g.maxLevel = kMaxLevel(format);
  const int bias = kBias(format);
  for (int j = 0; j < ek::kGroups; ++j) {
    g.step[j] = k.d * float(k.scale[j]);
    g.offset[j] = k.dmin * float(k.min[j]) + float(bias) * g.step[j];
  }
  for (int i = 0; i < g.values; ++i) g.level[i] = uint8_t(k.q[i] + bias);
  return g;
}

void writeBlockLevels(ek::WeightFormat format, const BlockGrid& g, uint8_t* block) {
  if (format == ek::WeightFormat::Q8_0) {
    for (int i = 0; i < g.values; ++i) block[2 + i] = uint8_t(int8_t(int(g.level[i]) - 128));
  } else if (format == ek::WeightFormat::Q4_0) {
    for (int i = 0; i < 16; ++i) block[2 + i] = uint8_t(g.level[i] | (g.level[i + 16] << 4));
  } else {
    packKLevels(format, g.level, block);
  }
}

}  // namespace edgecc
