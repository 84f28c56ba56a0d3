// RUN: edgecc-opt --split-input-file --verify-diagnostics --edgecc-kv-cache="kv-type=q8_0" %s | FileCheck %s

// --kv-type q8_0: every cache is stored as q8_0 blocks (head size 64: two blocks a row).
// CHECK-LABEL: func.func @decoder
// CHECK-DAG:   graph.kv_cache {capacity = 16 : i64, slot = 0 : i64, storage = "q8_0"}
// CHECK-DAG:   graph.kv_cache {capacity = 16 : i64, slot = 1 : i64, storage = "q8_0"}
module attributes {graph.symbols = ["seq", "past"], graph.symbol_bounds = array<i64: 4, 16>} {
  func.func @decoder(%q: tensor<1x2x?x64xf32, affine_map<()[s0, s1] -> (1, 2, s0, 64)>> {graph.name = "q"},
                     %k: tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s0, 64)>> {graph.name = "k"},
                     %v: tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s0, 64)>> {graph.name = "v"},
                     %past_k: tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1, 64)>> {graph.name = "past_k"},
                     %past_v: tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1, 64)>> {graph.name = "past_v"})
      -> (tensor<1x2x?x64xf32, affine_map<()[s0, s1] -> (1, 2, s0, 64)>> {graph.name = "out"}) {
    %kc = graph.concat %past_k, %k {axis = 2 : i64} : (tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1, 64)>>, tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s0, 64)>>) -> tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 64)>>
    %vc = graph.concat %past_v, %v {axis = 2 : i64} : (tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1, 64)>>, tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s0, 64)>>) -> tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 64)>>
    %o = graph.attention %q, %kc, %vc {scale = 0.125 : f32, causal} : tensor<1x2x?x64xf32, affine_map<()[s0, s1] -> (1, 2, s0, 64)>>, tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 64)>>, tensor<1x1x?x64xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 64)>> -> tensor<1x2x?x64xf32, affine_map<()[s0, s1] -> (1, 2, s0, 64)>>
    return %o : tensor<1x2x?x64xf32, affine_map<()[s0, s1] -> (1, 2, s0, 64)>>
  }
}

// -----

// A head size that is not whole q8_0 blocks is refused, naming the input and the way out.
module attributes {graph.symbols = ["seq", "past"], graph.symbol_bounds = array<i64: 4, 16>} {
  // expected-error @+1 {{--kv-type q8_0 stores blocks of 32 values, but input 'past_k' has head size 4 (use f16)}}
  func.func @small_heads(%q: tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>> {graph.name = "q"},
                         %k: tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s0, 4)>> {graph.name = "k"},
                         %past_k: tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s1, 4)>> {graph.name = "past_k"})
      -> (tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>> {graph.name = "out"}) {
    %kc = graph.concat %past_k, %k {axis = 2 : i64} : (tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s1, 4)>>, tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s0, 4)>>) -> tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 4)>>
    %o = graph.attention %q, %kc, %kc {scale = 0.5 : f32, causal} : tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>>, tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 4)>>, tensor<1x1x?x4xf32, affine_map<()[s0, s1] -> (1, 1, s1 + s0, 4)>> -> tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>>
    return %o : tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>>
  }
}
