// The loop nest of `linear` over packed weights (q8_0x8[k8|u], q4_0x8[k8], f32x8, f16x8: weight_format.h),
// shared by the portable reference and the per-ISA variants, which differ only in their tile.
// For quantized formats the activations are quantized to int8 blocks once per call. Each
// thread then takes groups of kPackRows weight rows and runs the tile over the tokens,
// `tokens_per_tile` at a time, so a group's weights are loaded once for that many tokens.
// Tokens are processed in cache blocks of `tokens_per_block`, whose activations stay in L2
// while the weight groups stream past.
//
// Attribute slots: i[0] = WeightFormat, i[1] = tokens per tile, i[2] = tokens per cache block
// (both chosen by the compiler from the target's registers and caches; 0 means 1 and all).
//
// The arithmetic, which every tile follows exactly (so they are bit-exact with each other):
//   quantized: per block, an exact integer dot product, then acc = fma(dot, dw * dx, acc), in
//              block order;
//   float:     two partial sums, over even and odd k, acc_p = fma(w, x, acc_p) in k order,
//              then y = acc_0 + acc_1.
#pragma once
#include <algorithm>
#include <vector>

#include "runtime/kernels/ggml_blocks.h"
#include "runtime/parallel.h"
#include "runtime/tensor.h"

namespace ek {

// Activations quantized as llama.cpp does (quantize_row_q8), with each block's sum of q.
struct Q8Activations {
  const int8_t* q;     // [M, K]
  const float* d;      // [M, K / 32]
  const int32_t* sum;  // [M, K / 32]
  int64_t k;
  const int8_t* row_q(int64_t m) const { return q + m * k; }
  const float* row_d(int64_t m) const { return d + m * (k / kBlockValues); }
  const int32_t* row_sum(int64_t m) const { return sum + m * (k / kBlockValues); }
};

// What a tile reads: the activations (float, and quantized for the block formats) and one
// group of packed weights.
struct PackedInput {
  const float* x;  // [M, K]
  Q8Activations q8;
  int64_t k;
};
struct PackedGroup {
  const uint8_t* data;         // quant blocks (then the scale plane), or K x kPackRows values
  const PackedScales* scales;  // quantized formats
  int64_t blocks;              // K / 32 (quantized formats)
  int64_t count = 1;           // adjacent groups the tile covers (at most its kGroupsPerTile)
  int64_t stride = 0;          // bytes from one group to the next
};

// tile(format, group, input, first token, tokens, y + first token's row, ldy) writes
// y[t * ldy + r] for t < tokens, r < group.count * kPackRows.
template <int kGroupsPerTile = 1, class Tile>
void linear_packed(const Tensor* in, Tensor* out, const Attrs& a, Tile tile) {
  const WeightFormat f = WeightFormat(a.i[0]);
  const Tensor &x = in[0], &w = in[1];
  const int64_t K = x.dims[x.rank - 1], N = w.dims[0], M = K ? x.numel() / K : 0;
  const int64_t per_tile = std::max<int64_t>(a.i[1], 1);
  const int64_t per_block = a.i[2] > 0 ? std::max(a.i[2], per_tile) : std::max<int64_t>(M, 1);
  const int64_t blocks = K / kBlockValues;
  PackedInput input{x.as<float>(), {nullptr, nullptr, nullptr, K}, K};
  int64_t quant_bytes = 0;
  if (is_quantized(f)) {
    // Reused across calls (a decode step makes hundreds). Workers must see the caller's
    // buffers through pointers: by name they would get their own.
    static thread_local std::vector<int8_t> q;
    static thread_local std::vector<float> d;
    static thread_local std::vector<int32_t> sums;
    q.resize(size_t(M * K));
    d.resize(size_t(M * blocks));
    sums.resize(size_t(M * blocks));
    int8_t* qp = q.data();
    float* dp = d.data();
    int32_t* sp = sums.data();
    const float* X = input.x;
    input.q8 = Q8Activations{qp, dp, sp, K};
    parallel_for(M, 4, [&](int64_t begin, int64_t end) {
      for (int64_t m = begin; m < end; ++m) quantize_row_q8(X + m * K, K, qp + m * K, dp + m * blocks, sp + m * blocks);
    });
    quant_bytes = packed_block_bytes(f);
  }
  const uint8_t* W = static_cast<const uint8_t*>(w.data);
  const int64_t group_bytes = kPackRows * row_bytes(f, K);
  float* Y = out[0].as<float>();
  const int64_t groups = N / kPackRows, units = (groups + kGroupsPerTile - 1) / kGroupsPerTile;
  for (int64_t m0 = 0; m0 < M; m0 += per_block) {
    const int64_t m1 = std::min(M, m0 + per_block);
    // Chunks of up to 8 groups (runs of adjacent weights for the prefetchers), at least 8 per
    // thread (so that the last chunk leaves little imbalance).
    const int64_t grain = std::clamp<int64_t>(units / (8 * num_threads()), 1, 8 / kGroupsPerTile);
    parallel_for(units, grain, [&](int64_t begin, int64_t end) {
      for (int64_t u = begin; u < end; ++u) {
        const int64_t g = u * kGroupsPerTile;
        const uint8_t* base = W + g * group_bytes;
        const PackedGroup group{base, reinterpret_cast<const PackedScales*>(base + blocks * quant_bytes), blocks,
                                std::min<int64_t>(kGroupsPerTile, groups - g), group_bytes};
        for (int64_t m = m0; m < m1; m += per_tile) {
          const int64_t tokens = std::min(per_tile, m1 - m);
          tile(f, group, input, m, tokens, Y + m * N + g * kPackRows, N);
        }
      }
    });
  }
}

// The portable tile: the arithmetic above, one output at a time.
inline void reference_tile(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y,
                           int64_t ldy) {
  const Q8Activations& x = in.q8;
  for (int64_t t = 0; t < tokens; ++t)
    for (int r = 0; r < kPackRows; ++r) {
      if (!is_quantized(f)) {
        const float* xt = in.x + (m + t) * in.k;
        float acc[2] = {0.f, 0.f};
        for (int64_t c = 0; c < in.k; ++c) {
          float w;
          if (f == WeightFormat::F32x8) {
            std::memcpy(&w, g.data + 4 * (c * kPackRows + r), 4);
          } else {
            uint16_t h;
            std::memcpy(&h, g.data + 2 * (c * kPackRows + r), 2);
            w = f16_bits_to_f32(h);
          }
          acc[c & 1] = fmadd(w, xt[c], acc[c & 1]);
        }
        y[t * ldy + r] = acc[0] + acc[1];
        continue;
      }
      const int8_t* xq = x.row_q(m + t);
      float acc = 0.f;
      for (int64_t b = 0; b < g.blocks; ++b) {
        int32_t dot = 0;
        const uint8_t* quants = g.data + b * packed_block_bytes(f);
        if (stored_format(f) == WeightFormat::Q8_0) {
          const uint8_t bias = packed_quant_bias(f);
          for (int v = 0; v < kBlockValues; ++v)
            dot += int32_t(int8_t(quants[packed_quant_offset(f, r, v)] ^ bias)) * xq[b * kBlockValues + v];
        } else {
          for (int v = 0; v < kBlockValues; ++v) {
            const uint8_t byte = quants[packed_quant_offset(f, r, v)];
            dot += int32_t(v < 16 ? byte & 0x0F : byte >> 4) * xq[b * kBlockValues + v];
          }
          dot -= 8 * x.row_sum(m + t)[b];
        }
        const float scale = f16_bits_to_f32(g.scales[b].d[r]) * x.row_d(m + t)[b];
        acc = fmadd(float(dot), scale, acc);
      }
      y[t * ldy + r] = acc;
    }
}

}  // namespace ek
