// RUN: edgecc-opt --split-input-file --edgecc-attach-target=target=x86-64-avx2 --edgecc-select-kernels %s | FileCheck %s --check-prefix=AVX2
// RUN: edgecc-opt --split-input-file --edgecc-attach-target=target=x86-64-avx512-vnni --edgecc-select-kernels %s | FileCheck %s --check-prefix=VNNI
// RUN: edgecc-opt --split-input-file --edgecc-attach-target=target=x86-64 --edgecc-select-kernels %s | FileCheck %s --check-prefix=BASE

// q8_0x8 (format 4), K = 32. Tiles: 2 vector registers per token and 8 more, at most 8 tokens:
// (16 - 8) / 2 = 4 on AVX2, (32 - 8) / 2 = 12 -> 8 with AVX-512's 32 registers. Cache block:
// a token's activations are 32 + 32 / 32 * 8 = 40 B; half of L2 / 40 B, rounded down to the
// tile: 262144 / 40 = 6553 -> 6552 (512 KiB L2), 524288 / 40 = 13107 -> 13104 (1 MiB L2).
// The VNNI variant takes q8_0 as q8_0x8u (below); given q8_0x8, its target runs the AVX2 one.
// AVX2: exec.call "x86_avx2::linear" {{.*}}ints = array<i64: 4, 4, 6552>, why = "q8_0x8 on x86-64-avx2: {{.*}}maddubs
// VNNI: exec.call "x86_avx2::linear" {{.*}}ints = array<i64: 4, 8, 13104>, why = "q8_0x8 on x86-64-avx512-vnni: {{.*}}maddubs
// The baseline has no variant: the portable reference tile, one token at a time.
// BASE: exec.call "linear" {{.*}}ints = array<i64: 4, 1, 0>, why = "q8_0x8 on x86-64: portable reference tile
// Other kernels stay portable, and say so.
// AVX2: exec.call "neg" {{.*}}why = "portable kernel (no ISA variant of 'neg')"
func.func @q8(%x: memref<1x32xf32>, %y: memref<1x8xf32>) {
  %w = exec.weight {value = dense<1> : tensor<8x34xi8>} : memref<8x34xi8>
  %t = exec.alloc {offset = 0 : i64} : memref<1x8xf32>
  exec.call "linear" ins(%x, %w : memref<1x32xf32>, memref<8x34xi8>) outs(%t : memref<1x8xf32>) {floats = array<f32>, ints = array<i64: 4>}
  exec.call "neg" ins(%t : memref<1x8xf32>) outs(%y : memref<1x8xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// q8_0x8u (format 15, quants stored as q + 128): only the VNNI variant reads it (vpdpbusd);
// anywhere else the portable reference tile does.
// VNNI: exec.call "x86_avx512vnni::linear" {{.*}}ints = array<i64: 15, 8, 13104>, why = "q8_0x8u on x86-64-avx512-vnni: {{.*}}vpdpbusd
// AVX2: exec.call "linear" {{.*}}ints = array<i64: 15, 1, 0>, why = "q8_0x8u on x86-64-avx2: portable reference tile
func.func @q8u(%x: memref<1x32xf32>, %y: memref<1x8xf32>) {
  %w = exec.weight {value = dense<1> : tensor<8x34xi8>} : memref<8x34xi8>
  exec.call "linear" ins(%x, %w : memref<1x32xf32>, memref<8x34xi8>) outs(%y : memref<1x8xf32>) {floats = array<f32>, ints = array<i64: 15>}
  return
}

// -----

// f16x8 (format 7): both variants take it, each with its target's registers: (16 - 4) / 2 = 6
// tokens, (32 - 4) / 2 = 14 -> 8. Activations stay f32: 4 x 64 = 256 B a token: 262144 / 256 =
// 1024 (a multiple of 6: 1020); 524288 / 256 = 2048.
// AVX2: exec.call "x86_avx2::linear" {{.*}}ints = array<i64: 7, 6, 1020>
// VNNI: exec.call "x86_avx512vnni::linear" {{.*}}ints = array<i64: 7, 8, 2048>
// Stored (unpacked) formats stay with the portable kernel.
// AVX2: exec.call "linear" {{.*}}ints = array<i64: 1>, why = "portable kernel: weights stay f16 as stored
func.func @f16(%x: memref<1x64xf32>, %y: memref<1x8xf32>, %z: memref<1x8xf32>) {
  %w = exec.weight {value = dense<1.0> : tensor<8x64xf16>} : memref<8x64xf16>
  exec.call "linear" ins(%x, %w : memref<1x64xf32>, memref<8x64xf16>) outs(%y : memref<1x8xf32>) {floats = array<f32>, ints = array<i64: 7>}
  exec.call "linear" ins(%x, %w : memref<1x64xf32>, memref<8x64xf16>) outs(%z : memref<1x8xf32>) {floats = array<f32>, ints = array<i64: 1>}
  return
}
