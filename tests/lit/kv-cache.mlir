// RUN: edgecc-opt --split-input-file --verify-diagnostics --edgecc-kv-cache %s | FileCheck %s

// A decoder layer as exports write it: past_k/past_v [1, 2, past, 4] are concatenated with the
// new rows along axis 2, read by attention and returned as present_k/present_v. Symbols are
// (seq, past): the cache capacity is the bound of `past` (32), not of `seq` (8), and the past
// symbol is symbol 1.
// CHECK-DAG:   #[[PAST:map[0-9]*]] = affine_map<()[s0, s1] -> (1, 2, s1, 4)>
// CHECK-DAG:   #[[TOTAL:map[0-9]*]] = affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>
// CHECK-LABEL: module attributes
// CHECK-SAME:    graph.kv_past_symbol = 1 : i64
// The cache inputs and outputs leave the signature; the other names stay.
// CHECK:       func.func @decoder(%[[Q:[a-z0-9]+]]: tensor<1x4x?x4xf32, #{{.*}}> {graph.name = "q"}, %[[K:[a-z0-9]+]]: tensor<1x2x?x4xf32, #{{.*}}> {graph.name = "k"}, %[[V:[a-z0-9]+]]: tensor<1x2x?x4xf32, #{{.*}}> {graph.name = "v"})
// The only result is what prefill() reads as the logits (graph.llm_output); none of these
// inputs is one it can fill (no graph.llm_input), which the emitter would refuse.
// CHECK-SAME:    -> (tensor<1x4x?x4xf32, #{{.*}}> {graph.llm_output = "logits", graph.name = "out"}) {
// CHECK-NOT:   past_
// CHECK-NOT:   present_
// Slots follow the inputs' order; the cache keeps the past type (1, 2, past, 4).
// CHECK-DAG:   %[[KC:.*]] = graph.kv_cache {capacity = 32 : i64, slot = 0 : i64} : tensor<1x2x?x4xf32, #[[PAST]]>
// CHECK-DAG:   %[[VC:.*]] = graph.kv_cache {capacity = 32 : i64, slot = 1 : i64} : tensor<1x2x?x4xf32, #[[PAST]]>
// The concats become appends of the new rows, with the concat's (past + seq) type.
// CHECK:       %[[KA:.*]] = graph.kv_append %[[KC]], %[[K]] : {{.*}} -> tensor<1x2x?x4xf32, #[[TOTAL]]>
// CHECK:       %[[VA:.*]] = graph.kv_append %[[VC]], %[[V]] : {{.*}} -> tensor<1x2x?x4xf32, #[[TOTAL]]>
// CHECK-NOT:   graph.concat
// CHECK:       %[[O:.*]] = graph.attention %[[Q]], %[[KA]], %[[VA]] {causal, scale = 5.000000e-01 : f32}
// CHECK-NEXT:  return %[[O]] : tensor<1x4x?x4xf32
module attributes {graph.symbols = ["seq", "past"], graph.symbol_bounds = array<i64: 8, 32>} {
  func.func @decoder(%q: tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>> {graph.name = "q"},
                     %k: tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>> {graph.name = "k"},
                     %v: tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>> {graph.name = "v"},
                     %past_k: tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1, 4)>> {graph.name = "past_k"},
                     %past_v: tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1, 4)>> {graph.name = "past_v"})
      -> (tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>> {graph.name = "out"},
          tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>> {graph.name = "present_k"},
          tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>> {graph.name = "present_v"}) {
    %kc = graph.concat %past_k, %k {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>>) -> tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>
    %vc = graph.concat %past_v, %v {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s0, 4)>>) -> tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>
    %o = graph.attention %q, %kc, %vc {scale = 0.5 : f32, causal} : tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>> -> tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>>
    return %o, %kc, %vc : tensor<1x4x?x4xf32, affine_map<()[s0, s1] -> (1, 4, s0, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0, s1] -> (1, 2, s1 + s0, 4)>>
  }
}

// -----

// The concatenation also feeds something other than attention, so the cache would be read
// outside attention: no match, and the error names the input.
module attributes {graph.symbols = ["past"], graph.symbol_bounds = array<i64: 16>} {
  // expected-error @+1 {{no KV cache found: expected inputs [B, H, past, D] concatenated with new keys/values along axis 2 and used by attention; input 'past_k' feeds more than attention}}
  func.func @concat_feeds_more(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>,
                               %past_k: tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>> {graph.name = "past_k"})
      -> (tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>) {
    %kc = graph.concat %past_k, %k {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>, tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    %o = graph.attention %q, %kc, %kc {scale = 0.5 : f32, causal} : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>> -> tensor<1x2x1x4xf32>
    %n = graph.neg %kc : tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    return %o, %n : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
  }
}

// -----

// A past input read directly, besides the concatenation, is not a cache either.
module attributes {graph.symbols = ["past"], graph.symbol_bounds = array<i64: 16>} {
  // expected-error @+1 {{input 'past_v' has more than one use}}
  func.func @past_used_twice(%q: tensor<1x2x1x4xf32>, %v: tensor<1x2x1x4xf32>,
                             %past_v: tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>> {graph.name = "past_v"})
      -> (tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>) {
    %vc = graph.concat %past_v, %v {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>, tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    %o = graph.attention %q, %vc, %vc {scale = 0.5 : f32, causal} : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>> -> tensor<1x2x1x4xf32>
    %e = graph.exp %past_v : tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>
    return %o, %e : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>
  }
}

// -----

// past_k matches but past_v (same past length) does not: converting only half of the cache
// would leave an input whose length nobody tracks, so the whole model is refused.
module attributes {graph.symbols = ["past"], graph.symbol_bounds = array<i64: 16>} {
  // expected-error @+1 {{only part of the KV cache matches: input 'past_v' feeds more than attention}}
  func.func @half_cache(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>, %v: tensor<1x2x1x4xf32>,
                        %past_k: tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>> {graph.name = "past_k"},
                        %past_v: tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>> {graph.name = "past_v"})
      -> (tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>) {
    %kc = graph.concat %past_k, %k {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>, tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    %vc = graph.concat %past_v, %v {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>, tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    %o = graph.attention %q, %kc, %vc {scale = 0.5 : f32, causal} : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>> -> tensor<1x2x1x4xf32>
    %n = graph.neg %vc : tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    return %o, %n : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
  }
}

// -----

// Without a bound on the past length there is no capacity to size the cache for.
module {
  // expected-error @+1 {{the past length of the KV cache needs an upper bound}}
  func.func @unbounded(%q: tensor<1x2x1x4xf32>, %k: tensor<1x2x1x4xf32>,
                       %past_k: tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>> {graph.name = "past_k"})
      -> tensor<1x2x1x4xf32> {
    %kc = graph.concat %past_k, %k {axis = 2 : i64} : (tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0, 4)>>, tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>
    %o = graph.attention %q, %kc, %kc {scale = 0.5 : f32, causal} : tensor<1x2x1x4xf32>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>>, tensor<1x2x?x4xf32, affine_map<()[s0] -> (1, 2, s0 + 1, 4)>> -> tensor<1x2x1x4xf32>
    return %o : tensor<1x2x1x4xf32>
  }
}
