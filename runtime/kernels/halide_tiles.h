// The Halide-generated tiles (codegen/halide/LinearGenerators.cpp makes them while compiling, for
// the target's ISA and features; the bundle links their objects), and the float tile every
// variant with generated kernels runs on them. Each covers two adjacent groups of packed weights
// (16 rows) in the arithmetic of linear_packed.h, bit-exact with the hand-written tiles. The
// generator includes this header too, so both sides agree on the tile's token count.
#pragma once
#include <cstring>

#include "runtime/kernels/halide_buffer.h"
#include "runtime/kernels/linear_packed.h"

namespace ek::halide {

// Tokens per call of the generated float GEMM: 2 groups x 2 partial sums x 4 tokens = 16
// accumulators (ymm on x86, register pairs on arm64), which leaves registers for the weights and
// the broadcast activations.
constexpr int kGemmTokens = 4;

}  // namespace ek::halide

extern "C" {
// Float weights (f32x8 or f16x8): w [8 rows, K, 2 groups], x [K, tokens],
// y [8 rows, 2 groups, tokens]. gemv_*: one token; gemm_*: kGemmTokens tokens.
int edgecc_halide_gemv_f32x8(ek::halide::Buffer* w, ek::halide::Buffer* x, ek::halide::Buffer* y);
int edgecc_halide_gemv_f16x8(ek::halide::Buffer* w, ek::halide::Buffer* x, ek::halide::Buffer* y);
int edgecc_halide_gemm_f32x8(ek::halide::Buffer* w, ek::halide::Buffer* x, ek::halide::Buffer* y);
int edgecc_halide_gemm_f16x8(ek::halide::Buffer* w, ek::halide::Buffer* x, ek::halide::Buffer* y);
// q8_0x8u weights against one token's int8 activations: wq [4, 8 rows, 8 chunks, blocks, 2 groups],
// ws [8 rows, blocks, 2 groups] (f16 bits), xq [4, 8 chunks, blocks], xd, xs [blocks], y [8 rows, 2 groups].
int edgecc_halide_gemv_q8_0x8u(ek::halide::Buffer* wq, ek::halide::Buffer* ws, ek::halide::Buffer* xq, ek::halide::Buffer* xd,
                               ek::halide::Buffer* xs, ek::halide::Buffer* y);
}

namespace ek::halide {

// Each group on its own, by the reference tile: a lone last group (or, for float weights, an
// odd K) that the generated tiles do not cover.
inline void tile_by_group(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y,
                          int64_t ldy) {
  for (int64_t i = 0; i < g.count; ++i) {
    const PackedGroup one{g.data + i * g.stride,
                          reinterpret_cast<const PackedScales*>(reinterpret_cast<const uint8_t*>(g.scales) + i * g.stride), g.blocks};
    reference_tile(f, one, in, m, tokens, y + i * kPackRows, ldy);
  }
}

// f32x8 / f16x8 weights over two groups: the GEMM kGemmTokens tokens at a time, then a GEMV per
// token left.
inline void float_tile(WeightFormat f, const PackedGroup& g, const PackedInput& in, int64_t m, int64_t tokens, float* y,
                       int64_t ldy) {
  if (g.count != 2 || in.k % 2) return tile_by_group(f, g, in, m, tokens, y, ldy);
  // Halide stores its output as if it were vector-aligned (whatever the host alignment set).
  alignas(64) float rows[kGemmTokens][2 * kPackRows];
  const bool f32 = f == WeightFormat::F32x8;
  const int64_t value_bytes = f32 ? 4 : 2;
  View<3> w(g.data, f32 ? kF32 : kF16, {{kPackRows, 1}, {in.k, kPackRows}, {2, g.stride / value_bytes}});
  for (int64_t t = 0; t < tokens;) {
    const int64_t n = tokens - t >= kGemmTokens ? kGemmTokens : 1;
    View<2> x(in.x + (m + t) * in.k, kF32, {{in.k, 1}, {n, in.k}});
    View<3> out(rows, kF32, {{kPackRows, 1}, {2, kPackRows}, {n, 2 * kPackRows}});
    if (n == kGemmTokens)
      (f32 ? edgecc_halide_gemm_f32x8 : edgecc_halide_gemm_f16x8)(&w.buffer, &x.buffer, &out.buffer);
    else
      (f32 ? edgecc_halide_gemv_f32x8 : edgecc_halide_gemv_f16x8)(&w.buffer, &x.buffer, &out.buffer);
    for (int64_t i = 0; i < n; ++i) std::memcpy(y + (t + i) * ldy, rows[i], sizeof rows[i]);
    t += n;
  }
}

}  // namespace ek::halide
