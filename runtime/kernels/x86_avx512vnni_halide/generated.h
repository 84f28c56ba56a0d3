// The Halide-generated kernels of this variant (codegen/halide/LinearGenerators.cpp makes them
// while compiling; the bundle links their objects). Each covers two adjacent groups of packed
// weights (16 rows) in the arithmetic of linear_packed.h, bit-exact with the hand-written tiles.
// The generator includes this header too, so both sides agree on the tile's token count.
#pragma once
#include "runtime/kernels/halide_buffer.h"

namespace ek::x86_avx512vnni_halide {

// Tokens per call of the generated float GEMM: 2 groups x 2 partial sums x 4 tokens = 16 ymm
// accumulators, which leaves registers for the weights and the broadcast activations.
constexpr int kGemmTokens = 4;

}  // namespace ek::x86_avx512vnni_halide

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
