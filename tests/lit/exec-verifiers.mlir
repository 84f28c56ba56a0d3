// RUN: edgecc-opt --split-input-file --verify-diagnostics %s

func.func @unknown_kernel(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{unknown kernel 'frobnicate'}}
  exec.call "frobnicate" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

func.func @no_output(%x: memref<4xf32>) {
  // expected-error @+1 {{writes no buffer: a kernel call needs at least one output}}
  "exec.call"(%x) <{kernel = "relu", floats = array<f32>, ints = array<i64>, operandSegmentSizes = array<i32: 1, 0>}> : (memref<4xf32>) -> ()
  return
}

// -----

func.func @unknown_variant(%x: memref<4xf32>, %y: memref<4xf32>) {
  // expected-error @+1 {{unknown kernel variant 'x86_avx9::linear'}}
  exec.call "x86_avx9::linear" ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) {floats = array<f32>, ints = array<i64: 4>}
  return
}

// -----

// The VNNI variant reads q8_0 as q8_0x8u (unsigned quants), not as q8_0x8 (4).
func.func @variant_format(%x: memref<1x32xf32>, %w: memref<8x34xi8>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{kernel 'x86_avx512vnni::linear' does not take weight format q8_0x8}}
  exec.call "x86_avx512vnni::linear" ins(%x, %w : memref<1x32xf32>, memref<8x34xi8>) outs(%y : memref<1x8xf32>) {floats = array<f32>, ints = array<i64: 4, 1, 0>}
  return
}

// -----

func.func @linear_without_format(%x: memref<1x64xf32>, %w: memref<8x64xf16>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{kernel 'linear' needs a known weight format in its first int slot}}
  exec.call "linear" ins(%x, %w : memref<1x64xf32>, memref<8x64xf16>) outs(%y : memref<1x8xf32>) {floats = array<f32>, ints = array<i64: 42>}
  return
}

