// RUN: edgecc-opt --split-input-file --edgecc-lower-to-exec --edgecc-plan-memory %s | FileCheck %s

// A decode step on the bundle's KV cache (as --edgecc-kv-cache leaves it). Symbols are
// (seq, past) with bounds (8, 31).
// Each cache slot is an exec.state buffer at full capacity (31 rows), outside the arena,
// laid end to end at 64-byte alignment and never reused:
//   slot 0: 1 x 2 x 31 x 4 x 4 B =  992 B at +0, rounded up to 1024
//   slot 1: 1 x 2 x 31 x 6 x 4 B = 1488 B at +1024, rounded up to 1536 -> 2560 B of state.
// The arena holds only the attention result, planned at seq's bound: 1 x 4 x 8 x 6 x 4 B = 768.
// CHECK-DAG:   #[[PAST:map[0-9]*]] = affine_map<()[s0, s1] -> (s1, 0)>
// CHECK-DAG:   #[[KEYS:map[0-9]*]] = affine_map<()[s0, s1] -> (1, s0 + s1, 0, 0)>
// CHECK-LABEL: module attributes {exec.arena_bytes = 768 : i64, {{.*}}exec.state_bytes = 2560 : i64
// CHECK:       func.func @step(%[[Q:[a-z0-9]+]]: memref<1x4x?x4xf32> {{.*}}, %[[K:[a-z0-9]+]]: memref<1x2x?x4xf32> {{.*}}, %[[V:[a-z0-9]+]]: memref<1x2x?x6xf32> {{.*}}, %[[OUT:[a-z0-9]+]]: memref<1x4x?x6xf32>
// CHECK-NEXT:    %[[KS:.*]] = exec.state {offset = 0 : i64, slot = 0 : i64} : memref<1x2x31x4xf32>
// CHECK-NEXT:    %[[VS:.*]] = exec.state {offset = 1024 : i64, slot = 1 : i64} : memref<1x2x31x6xf32>
// kv_append writes the new rows into the state buffer itself, starting at row `past` (s1),
// stored as f32 (format 0).
// CHECK-NEXT:    exec.call "kv_append" ins(%[[K]] : memref<1x2x?x4xf32>) outs(%[[KS]] : memref<1x2x31x4xf32>) {floats = array<f32>, ints = array<i64>, sym_ints = #[[PAST]]}
// CHECK-NEXT:    exec.call "kv_append" ins(%[[V]] : memref<1x2x?x6xf32>) outs(%[[VS]] : memref<1x2x31x6xf32>) {floats = array<f32>, ints = array<i64>, sym_ints = #[[PAST]]}
// CHECK-NEXT:    %[[A:.*]] = exec.alloc {dims = {{.*}}, offset = 0 : i64} : memref<1x4x?x6xf32>
// Attention reads the whole state buffers; its ints are (causal = 1, keys in use = seq + past,
// keys and values stored as f32).
// CHECK-NEXT:    exec.call "attention" ins(%[[Q]], %[[KS]], %[[VS]] : memref<1x4x?x4xf32>, memref<1x2x31x4xf32>, memref<1x2x31x6xf32>) outs(%[[A]] : memref<1x4x?x6xf32>) {floats = array<f32: 5.000000e-01>, ints = array<i64>, sym_ints = #[[KEYS]]}
// CHECK-NEXT:    exec.call "neg" ins(%[[A]] : memref<1x4x?x6xf32>) outs(%[[OUT]] : memref<1x4x?x6xf32>)
// CHECK-NEXT:    return
module attributes {graph.symbols = ["seq", "past"], graph.symbol_bounds = array<i64: 8, 31>} {
  func.func @step(%q: tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>> {graph.name = "q"},
                  %k: tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>> {graph.name = "k"},
                  %v: tensor<1x2x?x6xf32, affine_map<()[s0, s1] -> (1, 2, s0, 6)>> {graph.name = "v"})
      -> (tensor<1x4x?x6xf32, affine_map<()[s0, s1] -> (1, 4, s0, 6)>> {graph.name = "out"}) {
    %kc = graph.kv_cache {slot = 0 : i64, capacity = 31 : i64} : tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1, 4)>>
    %vc = graph.kv_cache {slot = 1 : i64, capacity = 31 : i64} : tensor<1x2x?x6xf32, affine_map<()[s0, s1] -> (1, 2, s1, 6)>>
    %ka = graph.kv_append %kc, %k : tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>> -> tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>
    %va = graph.kv_append %vc, %v : tensor<1x2x?x6xf32, affine_map<()[s0, s1] -> (1, 2, s1, 6)>>, tensor<1x2x?x6xf32, affine_map<()[s0, s1] -> (1, 2, s0, 6)>> -> tensor<1x2x?x6xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 6)>>
    %o = graph.attention %q, %ka, %va {scale = 0.5 : f32, causal} : tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>, tensor<1x2x?x6xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 6)>> -> tensor<1x4x?x6xf32, affine_map<()[s0, s1] -> (1, 4, s0, 6)>>
    %n = graph.neg %o : tensor<1x4x?x6xf32, affine_map<()[s0, s1] -> (1, 4, s0, 6)>>
    return %n : tensor<1x4x?x6xf32, affine_map<()[s0, s1] -> (1, 4, s0, 6)>>
  }
}

// -----

// Static sizes (3 cached rows + 1 new, capacity 8): the same slots as plain ints. kv_append
// starts at row 3; attention gets (causal, 4 keys in use) and (not causal, 4 keys).
// One 1 x 2 x 8 x 4 x 4 B = 256 B state buffer, read by both attentions.
// CHECK-LABEL: module attributes {exec.arena_bytes = 0 : i64, {{.*}}exec.state_bytes = 256 : i64}
// CHECK:       func.func @static_step(%[[Q:[a-z0-9]+]]: memref<1x2x1x4xf32>, %[[K:[a-z0-9]+]]: memref<1x2x1x4xf32>, %[[O0:[a-z0-9]+]]: memref<1x2x1x4xf32>, %[[O1:[a-z0-9]+]]: memref<1x2x1x4xf32>)
// CHECK-NEXT:    %[[S:.*]] = exec.state {offset = 0 : i64, slot = 0 : i64} : memref<1x2x8x4xf32>
// CHECK-NEXT:    exec.call "kv_append" ins(%[[K]] : memref<1x2x1x4xf32>) outs(%[[S]] : memref<1x2x8x4xf32>) {floats = array<f32>, ints = array<i64: 3, 0>}
// CHECK-NEXT:    exec.call "attention" ins(%[[Q]], %[[S]], %[[S]] : {{.*}}) outs(%[[O0]] : memref<1x2x1x4xf32>) {floats = array<f32: 2.500000e-01>, ints = array<i64: 1, 4, 0, 0>}
// CHECK-NEXT:    exec.call "attention" ins(%[[Q]], %[[S]], %[[S]] : {{.*}}) outs(%[[O1]] : memref<1x2x1x4xf32>) {floats = array<f32: 2.500000e-01>, ints = array<i64: 0, 4, 0, 0>}
// CHECK-NEXT:    return
func.func @static_step(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>) -> (tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>) {
  %c = graph.kv_cache {slot = 0 : i64, capacity = 8 : i64} : tensor<1x2x3x4xf32>
  %a = graph.kv_append %c, %k : tensor<1x2x3x4xf32>, tensor<1x2x1x4xf32> -> tensor<1x2x4x4xf32>
  %0 = graph.attention %q, %a, %a {scale = 0.25 : f32, causal} : tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x1x4xf32>
  %1 = graph.attention %q, %a, %a {scale = 0.25 : f32} : tensor<1x2x1x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x1x4xf32>
  return %0, %1 : tensor<1x2x1x4xf32>, tensor<1x2x1x4xf32>
}

// -----

// Caches stored as f16 and q8_0 (--kv-type): the state holds the stored rows, f16 values or
// q8_0 blocks as bytes (head size 64: 2 blocks x 34 B = 68 B a row), and every kernel that
// touches a cache gets its format (f16 = 1, q8_0 = 2).
//   keys:   1 x 1 x 8 x 64 x 2 B = 1024 B at +0
//   values: 1 x 1 x 8 x 68 B     =  544 B at +1024, rounded up to 576 -> 1600 B of state.
// CHECK-LABEL: module attributes {exec.arena_bytes = 0 : i64, {{.*}}exec.state_bytes = 1600 : i64}
// CHECK:       func.func @stored_rows(
// CHECK-NEXT:    %[[KS:.*]] = exec.state {offset = 0 : i64, slot = 0 : i64} : memref<1x1x8x64xf16>
// CHECK-NEXT:    %[[VS:.*]] = exec.state {offset = 1024 : i64, slot = 1 : i64} : memref<1x1x8x68xi8>
// CHECK-NEXT:    exec.call "kv_append" {{.*}} outs(%[[KS]] : memref<1x1x8x64xf16>) {floats = array<f32>, ints = array<i64: 3, 1>}
// CHECK-NEXT:    exec.call "kv_append" {{.*}} outs(%[[VS]] : memref<1x1x8x68xi8>) {floats = array<f32>, ints = array<i64: 3, 2>}
// CHECK-NEXT:    exec.call "attention" ins(%{{.*}}, %[[KS]], %[[VS]] : {{.*}}) {{.*}} ints = array<i64: 1, 4, 1, 2>}
func.func @stored_rows(%q: tensor<1x2x1x64xf32>, %k: tensor<1x1x1x64xf32>, %v: tensor<1x1x1x64xf32>) -> tensor<1x2x1x64xf32> {
  %kc = graph.kv_cache {slot = 0 : i64, capacity = 8 : i64, storage = "f16"} : tensor<1x1x3x64xf32>
  %vc = graph.kv_cache {slot = 1 : i64, capacity = 8 : i64, storage = "q8_0"} : tensor<1x1x3x64xf32>
  %ka = graph.kv_append %kc, %k : tensor<1x1x3x64xf32>, tensor<1x1x1x64xf32> -> tensor<1x1x4x64xf32>
  %va = graph.kv_append %vc, %v : tensor<1x1x3x64xf32>, tensor<1x1x1x64xf32> -> tensor<1x1x4x64xf32>
  %o = graph.attention %q, %ka, %va {scale = 0.125 : f32, causal} : tensor<1x2x1x64xf32>, tensor<1x1x4x64xf32>, tensor<1x1x4x64xf32> -> tensor<1x2x1x64xf32>
  return %o : tensor<1x2x1x64xf32>
}
