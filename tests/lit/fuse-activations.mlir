// RUN: edgecc-opt --split-input-file --edgecc-fuse-activations %s | FileCheck %s

// CHECK-LABEL: func.func @silu
// CHECK-SAME:    (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT:    %[[Y:.*]] = graph.silu %[[X]] : tensor<2x4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @silu(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %s = graph.sigmoid %x : tensor<2x4xf32>
  %y = graph.mul %x, %s : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// sigmoid on the left-hand side.
// CHECK-LABEL: func.func @silu_commuted
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[Y:.*]] = graph.silu %[[X]] : tensor<4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @silu_commuted(%x: tensor<4xf32>) -> tensor<4xf32> {
  %s = graph.sigmoid %x : tensor<4xf32>
  %y = graph.mul %s, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Negative: x * sigmoid(y) with y != x is a gate (SwiGLU-like), not SiLU.
// CHECK-LABEL: func.func @not_silu
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %[[G:.*]]: tensor<4xf32>)
// CHECK-NOT:     graph.silu
// CHECK:         %[[S:.*]] = graph.sigmoid %[[G]]
// CHECK-NEXT:    %[[Y:.*]] = graph.mul %[[X]], %[[S]]
// CHECK-NEXT:    return %[[Y]]
func.func @not_silu(%x: tensor<4xf32>, %g: tensor<4xf32>) -> tensor<4xf32> {
  %s = graph.sigmoid %g : tensor<4xf32>
  %y = graph.mul %x, %s : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// GELU, erf form as exported by torch: (x * (1 + erf(x / sqrt(2)))) * 0.5.
// CHECK-LABEL: func.func @gelu_erf_div
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[Y:.*]] = graph.gelu %[[X]] : tensor<4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @gelu_erf_div(%x: tensor<4xf32>) -> tensor<4xf32> {
  %r2 = graph.constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %d = graph.div %x, %r2 : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %e = graph.erf %d : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %e, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %xu = graph.mul %x, %u : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %half = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %y = graph.mul %xu, %half : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// erf form with x * (1 / sqrt(2)) and the (x * 0.5) * (1 + erf) association.
// CHECK-LABEL: func.func @gelu_erf_mul
// CHECK-SAME:    (%[[X:.*]]: tensor<2x4xf32>)
// CHECK-NEXT:    %[[Y:.*]] = graph.gelu %[[X]] : tensor<2x4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @gelu_erf_mul(%x: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %k = graph.constant {value = dense<0.707106769> : tensor<f32>} : tensor<f32>
  %d = graph.mul %k, %x : tensor<f32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %e = graph.erf %d : tensor<2x4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %one, %e : tensor<f32>, tensor<2x4xf32> -> tensor<2x4xf32>
  %half = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %hx = graph.mul %x, %half : tensor<2x4xf32>, tensor<f32> -> tensor<2x4xf32>
  %y = graph.mul %u, %hx : tensor<2x4xf32>, tensor<2x4xf32> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// GELU, tanh form: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * pow(x, 3)))).
// CHECK-LABEL: func.func @gelu_tanh_pow
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[Y:.*]] = graph.gelu %[[X]] {approximate = true} : tensor<4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @gelu_tanh_pow(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = graph.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %x3 = graph.pow %x, %three : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %k = graph.constant {value = dense<0.044715> : tensor<f32>} : tensor<f32>
  %kx3 = graph.mul %k, %x3 : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %in = graph.add %x, %kx3 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %c = graph.constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %t0 = graph.mul %in, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %t = graph.tanh %t0 : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %one, %t : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %half = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %hx = graph.mul %x, %half : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %y = graph.mul %hx, %u : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// tanh form with x^3 spelled (x * x) * x and 0.5 * (x * u) (GPT-2's NewGELU).
// CHECK-LABEL: func.func @gelu_tanh_cube_by_muls
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[Y:.*]] = graph.gelu %[[X]] {approximate = true} : tensor<4xf32>
// CHECK-NEXT:    return %[[Y]]
func.func @gelu_tanh_cube_by_muls(%x: tensor<4xf32>) -> tensor<4xf32> {
  %xx = graph.mul %x, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %x3 = graph.mul %xx, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %k = graph.constant {value = dense<0.044715> : tensor<f32>} : tensor<f32>
  %kx3 = graph.mul %x3, %k : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %in = graph.add %kx3, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %c = graph.constant {value = dense<0.797884583> : tensor<f32>} : tensor<f32>
  %t0 = graph.mul %c, %in : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %t = graph.tanh %t0 : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %t, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %xu = graph.mul %u, %x : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %half = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %y = graph.mul %half, %xu : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Negative: the outer product is with %z, not with the erf's input %x.
// CHECK-LABEL: func.func @not_gelu_other_outer
// CHECK-NOT:     graph.gelu
// CHECK:         graph.erf
func.func @not_gelu_other_outer(%x: tensor<4xf32>, %z: tensor<4xf32>) -> tensor<4xf32> {
  %r2 = graph.constant {value = dense<1.41421354> : tensor<f32>} : tensor<f32>
  %d = graph.div %x, %r2 : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %e = graph.erf %d : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %e, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %zu = graph.mul %z, %u : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %half = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %y = graph.mul %zu, %half : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Negative: erf(x / 2) is not the GELU argument.
// CHECK-LABEL: func.func @not_gelu_wrong_divisor
// CHECK-NOT:     graph.gelu
// CHECK:         graph.erf
func.func @not_gelu_wrong_divisor(%x: tensor<4xf32>) -> tensor<4xf32> {
  %two = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %d = graph.div %x, %two : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %e = graph.erf %d : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %e, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %xu = graph.mul %x, %u : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %half = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %y = graph.mul %xu, %half : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Negative: 0.5 * c * (1 + erf(x * c)) with c = splat 0.5 is no GELU of anything; in
// particular it must not become gelu(c), which drops %x. (The erf matcher must not fall back
// to the constant operand of x * c when the 1/sqrt(2) check fails on both operand orders.)
// CHECK-LABEL: func.func @not_gelu_erf_scaled_by_constant
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     graph.gelu
// CHECK:         graph.mul %[[X]]
// CHECK:         graph.erf
func.func @not_gelu_erf_scaled_by_constant(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = graph.constant {value = dense<0.5> : tensor<4xf32>} : tensor<4xf32>
  %d = graph.mul %x, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %e = graph.erf %d : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %e, %one : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %cu = graph.mul %c, %u : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %y = graph.mul %cu, %c : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// Negative: the tanh argument uses 0.5 instead of sqrt(2/pi).
// CHECK-LABEL: func.func @not_gelu_tanh_wrong_constant
// CHECK-NOT:     graph.gelu
// CHECK:         graph.tanh
func.func @not_gelu_tanh_wrong_constant(%x: tensor<4xf32>) -> tensor<4xf32> {
  %three = graph.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %x3 = graph.pow %x, %three : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %k = graph.constant {value = dense<0.044715> : tensor<f32>} : tensor<f32>
  %kx3 = graph.mul %k, %x3 : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %in = graph.add %x, %kx3 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  %c = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %t0 = graph.mul %in, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %t = graph.tanh %t0 : tensor<4xf32>
  %one = graph.constant {value = dense<1.0> : tensor<f32>} : tensor<f32>
  %u = graph.add %one, %t : tensor<f32>, tensor<4xf32> -> tensor<4xf32>
  %hx = graph.mul %x, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %y = graph.mul %hx, %u : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
