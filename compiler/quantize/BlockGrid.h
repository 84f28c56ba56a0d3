// A stored block as a grid of values: value i is step[g] * level[i] - offset[g], g = i / group,
// with level an unsigned code in [0, maxLevel]. Error-feedback rounding (Gptq.h) keeps the grid
// the reference quantizer chose for a block (its scales) and picks each level anew.
#pragma once

#include <cstdint>

#include "runtime/weight_format.h"

namespace edgecc {

struct BlockGrid {
  int values = 0;    // 32 (q8_0, q4_0) or 256 (k-quants)
  int group = 0;     // values under one step: 32, or 16 for the k-quants
  int maxLevel = 0;
  float step[16] = {}, offset[16] = {};
  uint8_t level[256] = {};

  float value(int i) const { return step[i / group] * float(level[i]) - offset[i / group]; }
  // The level whose value is nearest x (the stored one where every level gives the same value).
  uint8_t nearestLevel(int i, float x) const;
};

// The grid of one stored block of `format` (q8_0, q4_0 or a k-quant), and its levels.
BlockGrid readBlockGrid(ek::WeightFormat format, const uint8_t* block);

// Writes grid.level into `block`'s value bits; its scales are left as they are.
void writeBlockLevels(ek::WeightFormat format, const BlockGrid& grid, uint8_t* block);

}  // namespace edgecc
