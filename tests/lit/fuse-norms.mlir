// RUN: edgecc-opt --split-input-file --edgecc-fuse-norms %s | FileCheck %s

// RMSNorm as exported by HF Llama: x * (1 / sqrt(mean(pow(x, 2)) + eps)) * w, weight on the left.
// CHECK-LABEL: func.func @rms_pow_rsqrt_weight
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8xf32>, %[[W:.*]]: tensor<8xf32>)
// CHECK-NEXT:    %[[N:.*]] = graph.rms_norm %[[X]], %[[W]] {epsilon = 9.99999997E-7 : f32} : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    return %[[N]]
func.func @rms_pow_rsqrt_weight(%x: tensor<2x8xf32>, %w: tensor<8xf32>) -> tensor<2x8xf32> {
  %two = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = graph.pow %x, %two : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %a = graph.add %m, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %r = graph.div %one, %s : tensor<f32>, tensor<2x1xf32> -> tensor<2x1xf32>
  %n = graph.mul %x, %r : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %y = graph.mul %w, %n : tensor<8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// x / sqrt(eps + mean(x * x)) with no weight: the fused op gets a ones scale.
// CHECK-LABEL: func.func @rms_div_square_no_weight
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8xf32>)
// CHECK-NOT:     graph.sqrt
// CHECK:         %[[ONES:.*]] = graph.constant {value = dense<1.000000e+00> : tensor<8xf32>} : tensor<8xf32>
// CHECK-NOT:     graph.sqrt
// CHECK:         %[[N:.*]] = graph.rms_norm %[[X]], %[[ONES]] {epsilon = 9.99999974E-6 : f32}
// CHECK-NEXT:    return %[[N]]
func.func @rms_div_square_no_weight(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sq = graph.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %eps, %m : tensor<f32>, tensor<2x1xf32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %x, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

// reciprocal(sqrt) form on a rank-3 input; the [1, 1, 8] weight is flattened to [8].
// CHECK-LABEL: func.func @rms_reciprocal_3d
// CHECK-SAME:    (%[[X:.*]]: tensor<1x4x8xf32>, %[[W:.*]]: tensor<1x1x8xf32>)
// CHECK:         %[[FLAT:.*]] = graph.reshape %[[W]] : tensor<1x1x8xf32> -> tensor<8xf32>
// CHECK-NEXT:    %[[N:.*]] = graph.rms_norm %[[X]], %[[FLAT]] {epsilon = 9.99999997E-7 : f32} : tensor<1x4x8xf32>, tensor<8xf32> -> tensor<1x4x8xf32>
// CHECK-NEXT:    return %[[N]]
func.func @rms_reciprocal_3d(%x: tensor<1x4x8xf32>, %w: tensor<1x1x8xf32>) -> tensor<1x4x8xf32> {
  %sq = graph.mul %x, %x : tensor<1x4x8xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 2>} : tensor<1x4x8xf32> -> tensor<1x4x1xf32>
  %eps = graph.constant {value = dense<1.0e-6> : tensor<f32>} : tensor<f32>
  %a = graph.add %m, %eps : tensor<1x4x1xf32>, tensor<f32> -> tensor<1x4x1xf32>
  %s = graph.sqrt %a : tensor<1x4x1xf32>
  %r = graph.reciprocal %s : tensor<1x4x1xf32>
  %n = graph.mul %r, %x : tensor<1x4x1xf32>, tensor<1x4x8xf32> -> tensor<1x4x8xf32>
  %y = graph.mul %n, %w : tensor<1x4x8xf32>, tensor<1x1x8xf32> -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// A per-element [2, 8] multiplier is no last-axis scale: the norm fuses with a ones scale and
// the multiply stays.
// CHECK-LABEL: func.func @rms_full_tensor_multiplier
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8xf32>, %[[G:.*]]: tensor<2x8xf32>)
// CHECK:         %[[ONES:.*]] = graph.constant {value = dense<1.000000e+00> : tensor<8xf32>}
// CHECK:         %[[N:.*]] = graph.rms_norm %[[X]], %[[ONES]]
// CHECK-NEXT:    %[[Y:.*]] = graph.mul %[[N]], %[[G]]
// CHECK-NEXT:    return %[[Y]]
func.func @rms_full_tensor_multiplier(%x: tensor<2x8xf32>, %g: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sq = graph.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %m, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %x, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %y = graph.mul %n, %g : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// Negative: the statistics are of %x but %z is normalized.
// CHECK-LABEL: func.func @rms_other_numerator
// CHECK-NOT:     graph.rms_norm
// CHECK:         graph.sqrt
// CHECK:         graph.div
func.func @rms_other_numerator(%x: tensor<2x8xf32>, %z: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sq = graph.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %m, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %z, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

// Negative: the mean is over axis 0, not the last axis.
// CHECK-LABEL: func.func @rms_wrong_axis
// CHECK-NOT:     graph.rms_norm
// CHECK:         graph.reduce_mean
func.func @rms_wrong_axis(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sq = graph.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 0>} : tensor<2x8xf32> -> tensor<1x8xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %m, %eps : tensor<1x8xf32>, tensor<f32> -> tensor<1x8xf32>
  %s = graph.sqrt %a : tensor<1x8xf32>
  %n = graph.div %x, %s : tensor<2x8xf32>, tensor<1x8xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

// Negative: pow(x, 3) is not a square.
// CHECK-LABEL: func.func @rms_not_a_square
// CHECK-NOT:     graph.rms_norm
// CHECK:         graph.pow
func.func @rms_not_a_square(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %three = graph.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %sq = graph.pow %x, %three : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %m, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %x, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

// Negative: epsilon is not a constant.
// CHECK-LABEL: func.func @rms_dynamic_eps
// CHECK-NOT:     graph.rms_norm
// CHECK:         graph.sqrt
func.func @rms_dynamic_eps(%x: tensor<2x8xf32>, %e: tensor<f32>) -> tensor<2x8xf32> {
  %sq = graph.mul %x, %x : tensor<2x8xf32>, tensor<2x8xf32> -> tensor<2x8xf32>
  %m = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %a = graph.add %m, %e : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %x, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

// Decomposed LayerNorm with weight and bias. Its variance half, mean(c^2) with c = x - mean(x),
// also looks like an RMSNorm of c: LayerNorm must win and leave no rms_norm behind.
// CHECK-LABEL: func.func @layer_norm_weight_bias
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8xf32>, %[[W:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK-NEXT:    %[[N:.*]] = graph.layer_norm %[[X]], %[[W]], %[[B]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    return %[[N]]
// CHECK-NOT:     graph.rms_norm
func.func @layer_norm_weight_bias(%x: tensor<2x8xf32>, %w: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x8xf32> {
  %mu = graph.reduce_mean %x {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %c = graph.sub %x, %mu : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %two = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = graph.pow %c, %two : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %v = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %v, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %c, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %y = graph.mul %n, %w : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  %z = graph.add %y, %b : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
  return %z : tensor<2x8xf32>
}

// -----

// LayerNorm with c * c, a weight and no bias, on a rank-3 input: axis is the last one.
// CHECK-LABEL: func.func @layer_norm_no_bias
// CHECK-SAME:    (%[[X:.*]]: tensor<1x3x4xf32>, %[[W:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[N:.*]] = graph.layer_norm %[[X]], %[[W]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : tensor<1x3x4xf32>, tensor<4xf32> -> tensor<1x3x4xf32>
// CHECK-NEXT:    return %[[N]]
func.func @layer_norm_no_bias(%x: tensor<1x3x4xf32>, %w: tensor<4xf32>) -> tensor<1x3x4xf32> {
  %mu = graph.reduce_mean %x {axes = array<i64: 2>} : tensor<1x3x4xf32> -> tensor<1x3x1xf32>
  %c = graph.sub %x, %mu : tensor<1x3x4xf32>, tensor<1x3x1xf32> -> tensor<1x3x4xf32>
  %sq = graph.mul %c, %c : tensor<1x3x4xf32>, tensor<1x3x4xf32> -> tensor<1x3x4xf32>
  %v = graph.reduce_mean %sq {axes = array<i64: 2>} : tensor<1x3x4xf32> -> tensor<1x3x1xf32>
  %eps = graph.constant {value = dense<1.0e-12> : tensor<f32>} : tensor<f32>
  %a = graph.add %eps, %v : tensor<f32>, tensor<1x3x1xf32> -> tensor<1x3x1xf32>
  %s = graph.sqrt %a : tensor<1x3x1xf32>
  %n = graph.div %c, %s : tensor<1x3x4xf32>, tensor<1x3x1xf32> -> tensor<1x3x4xf32>
  %y = graph.mul %w, %n : tensor<4xf32>, tensor<1x3x4xf32> -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// -----

// LayerNorm without weight or bias: a ones scale and no bias operand.
// CHECK-LABEL: func.func @layer_norm_plain
// CHECK-SAME:    (%[[X:.*]]: tensor<2x8xf32>)
// CHECK:         %[[ONES:.*]] = graph.constant {value = dense<1.000000e+00> : tensor<8xf32>} : tensor<8xf32>
// CHECK:         %[[N:.*]] = graph.layer_norm %[[X]], %[[ONES]] {axis = 1 : i64, epsilon = 9.99999974E-6 : f32} : tensor<2x8xf32>, tensor<8xf32> -> tensor<2x8xf32>
// CHECK-NEXT:    return %[[N]]
// CHECK-NOT:     graph.rms_norm
func.func @layer_norm_plain(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %mu = graph.reduce_mean %x {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %c = graph.sub %x, %mu : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %two = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = graph.pow %c, %two : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %v = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %v, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %c, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}

// -----

// Negative for LayerNorm: the centered value subtracts the mean of another tensor, so this is
// no LayerNorm of %x. (It still is an RMSNorm of %c, which is a valid fusion.)
// CHECK-LABEL: func.func @not_layer_norm
// CHECK-NOT:     graph.layer_norm
// CHECK:         %[[C:.*]] = graph.sub
// CHECK:         graph.rms_norm %[[C]]
// CHECK-NOT:     graph.layer_norm
func.func @not_layer_norm(%x: tensor<2x8xf32>, %y: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %mu = graph.reduce_mean %y {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %c = graph.sub %x, %mu : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  %two = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %sq = graph.pow %c, %two : tensor<2x8xf32>, tensor<f32> -> tensor<2x8xf32>
  %v = graph.reduce_mean %sq {axes = array<i64: 1>} : tensor<2x8xf32> -> tensor<2x1xf32>
  %eps = graph.constant {value = dense<1.0e-5> : tensor<f32>} : tensor<f32>
  %a = graph.add %v, %eps : tensor<2x1xf32>, tensor<f32> -> tensor<2x1xf32>
  %s = graph.sqrt %a : tensor<2x1xf32>
  %n = graph.div %c, %s : tensor<2x8xf32>, tensor<2x1xf32> -> tensor<2x8xf32>
  return %n : tensor<2x8xf32>
}
