// RUN: edgecc-opt --split-input-file --verify-diagnostics %s

func.func @matmul_k_mismatch(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'graph.matmul' op contraction dims differ: 3 vs 4}}
  %0 = graph.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @matmul_batch_mismatch(%a: tensor<2x4x3xf32>, %b: tensor<3x3x5xf32>) -> tensor<2x4x5xf32> {
  // expected-error @+1 {{batch dims are not broadcast-compatible}}
  %0 = graph.matmul %a, %b : tensor<2x4x3xf32>, tensor<3x3x5xf32> -> tensor<2x4x5xf32>
  return %0 : tensor<2x4x5xf32>
}

// -----

func.func @matmul_wrong_result(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{result shape is not the matmul shape}}
  %0 = graph.matmul %a, %b : tensor<2x3xf32>, tensor<3x5xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @bad_broadcast(%a: tensor<3x4xf32>, %b: tensor<5xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'graph.add' op operand shapes are not broadcast-compatible}}
  %0 = graph.add %a, %b : tensor<3x4xf32>, tensor<5xf32> -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @broadcast_wrong_result(%a: tensor<3x1xf32>, %b: tensor<4xf32>) -> tensor<3x1xf32> {
  // expected-error @+1 {{result shape does not match the broadcast of the operand shapes}}
  %0 = graph.mul %a, %b : tensor<3x1xf32>, tensor<4xf32> -> tensor<3x1xf32>
  return %0 : tensor<3x1xf32>
}

// -----

func.func @compare_result_not_i1(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{result element type must be 'i1'}}
  %0 = graph.less %a, %b : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @mixed_element_types(%a: tensor<4xf32>, %b: tensor<4xi32>) -> tensor<4xf32> {
  // expected-error @+1 {{operands must have the same element type}}
  %0 = graph.sub %a, %b : tensor<4xf32>, tensor<4xi32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @reshape_element_count(%a: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{'graph.reshape' op reshape changes the element count}}
  %0 = graph.reshape %a : tensor<2x3xf32> -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @transpose_not_a_permutation(%a: tensor<2x3xf32>) -> tensor<2x2xf32> {
  // expected-error @+1 {{invalid permutation}}
  %0 = graph.transpose %a {permutation = array<i64: 0, 0>} : tensor<2x3xf32> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

func.func @attention_gqa_heads(%q: tensor<1x6x3x8xf32>, %k: tensor<1x4x5x8xf32>, %v: tensor<1x4x5x8xf32>) -> tensor<1x6x3x8xf32> {
  // expected-error @+1 {{'graph.attention' op query heads (6) are not a multiple of key/value heads (4)}}
  %0 = graph.attention %q, %k, %v {scale = 1.0 : f32} : tensor<1x6x3x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32> -> tensor<1x6x3x8xf32>
  return %0 : tensor<1x6x3x8xf32>
}

// -----

func.func @attention_bad_mask(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %m: tensor<1x1x3x4xf32>) -> tensor<1x4x3x8xf32> {
  // expected-error @+1 {{mask does not broadcast to [B, H, S, T]}}
  %0 = graph.attention %q, %k, %v, %m {scale = 1.0 : f32} : tensor<1x4x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x3x4xf32> -> tensor<1x4x3x8xf32>
  return %0 : tensor<1x4x3x8xf32>
}

// -----

func.func @slice_out_of_bounds(%a: tensor<4x6xf32>) -> tensor<2x3xf32> {
  // offsets 3 + (3 - 1) * 2 = 7 >= 6 on axis 1
  // expected-error @+1 {{'graph.slice' op slice reads outside the input on axis 1}}
  %0 = graph.slice %a {offsets = array<i64: 0, 3>, steps = array<i64: 1, 2>} : tensor<4x6xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_negative_offset(%a: tensor<4xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{slice reads outside the input on axis 0}}
  %0 = graph.slice %a {offsets = array<i64: -1>, steps = array<i64: 1>} : tensor<4xf32> -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @expand_not_broadcastable(%a: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{input does not broadcast to the result shape}}
  %0 = graph.expand %a : tensor<3xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @reduce_wrong_result(%a: tensor<2x3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{result shape is not the reduced input shape}}
  %0 = graph.reduce_sum %a {axes = array<i64: 1>} : tensor<2x3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @concat_axis_sum(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{axis dim is not the sum of the inputs'}}
  %0 = graph.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @rms_norm_scale_width(%x: tensor<2x8xf32>, %w: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{scale must have the size of the last axis}}
  %0 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<2x8xf32>, tensor<4xf32> -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @constant_type_mismatch() -> tensor<3xf32> {
  // expected-error @+1 {{value type differs from result type}}
  %0 = graph.constant {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_indices_type(%a: tensor<4x2xf32>, %i: tensor<3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{indices must be i32 or i64}}
  %0 = graph.gather %a, %i {axis = 0 : i64} : tensor<4x2xf32>, tensor<3xf32> -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @where_condition_type(%c: tensor<4xf32>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{condition must be i1}}
  %0 = graph.where %c, %a, %b : tensor<4xf32>, tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Layout ops move elements, they never convert them: the result element type must be the
// input's. (exec.view, which a reshape lowers to, rejects this too.)
func.func @reshape_changes_element_type(%a: tensor<2x3xf32>) -> tensor<6xi32> {
  // expected-error @+1 {{element type}}
  %0 = graph.reshape %a : tensor<2x3xf32> -> tensor<6xi32>
  return %0 : tensor<6xi32>
}

// -----

func.func @transpose_changes_element_type(%a: tensor<2x3xf32>) -> tensor<3x2xi64> {
  // expected-error @+1 {{element type}}
  %0 = graph.transpose %a {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xi64>
  return %0 : tensor<3x2xi64>
}

// -----

func.func @concat_mixed_element_types(%a: tensor<2x3xf32>, %b: tensor<2x3xi32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{element type}}
  %0 = graph.concat %a, %b {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x3xi32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @matmul_mixed_element_types(%a: tensor<2x3xf32>, %b: tensor<3x4xi32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{element type}}
  %0 = graph.matmul %a, %b : tensor<2x3xf32>, tensor<3x4xi32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @reduce_changes_element_type(%a: tensor<2x3xf32>) -> tensor<3xi32> {
  // expected-error @+1 {{element type}}
  %0 = graph.reduce_sum %a {axes = array<i64: 0>} : tensor<2x3xf32> -> tensor<3xi32>
  return %0 : tensor<3xi32>
}

// -----

// Valid ops produce no diagnostics: broadcasting binary op, batched matmul with a broadcast
// batch dim, grouped-query attention (4 query heads over 2 kv heads), strided slice.
func.func @valid(%a: tensor<2x1x3xf32>, %b: tensor<4x3xf32>, %m: tensor<5x3x4xf32>,
                 %q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x6xf32>) -> (tensor<2x4x3xf32>, tensor<5x2x4xf32>, tensor<1x4x3x6xf32>, tensor<2x2xf32>) {
  %0 = graph.add %a, %b : tensor<2x1x3xf32>, tensor<4x3xf32> -> tensor<2x4x3xf32>
  %l = graph.reshape %a : tensor<2x1x3xf32> -> tensor<2x3xf32>
  %1 = graph.matmul %l, %m : tensor<2x3xf32>, tensor<5x3x4xf32> -> tensor<5x2x4xf32>
  %2 = graph.attention %q, %k, %v {scale = 0.125 : f32} : tensor<1x4x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x6xf32> -> tensor<1x4x3x6xf32>
  %3 = graph.slice %b {offsets = array<i64: 1, 0>, steps = array<i64: 2, 2>} : tensor<4x3xf32> -> tensor<2x2xf32>
  return %0, %1, %2, %3 : tensor<2x4x3xf32>, tensor<5x2x4xf32>, tensor<1x4x3x6xf32>, tensor<2x2xf32>
}
