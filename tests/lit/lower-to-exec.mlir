// RUN: edgecc-opt --split-input-file --edgecc-lower-to-exec %s | FileCheck %s

// The exec function takes the inputs, then one destination buffer per result, and returns
// nothing. Constants become weights (keeping their name), reshapes become views, every other op
// one exec.alloc and one exec.call whose ints/floats carry its attributes. The returned
// softmax is computed straight into its output argument, with no alloc and no copy.
// CHECK-LABEL: func.func @mlp
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: memref<2x3xf32> {graph.name = "hidden"}, %[[W:[a-z0-9]+]]: memref<3x4xf32>,
// CHECK-SAME:     %[[OUT:[a-z0-9]+]]: memref<2x4xf32> {graph.name = "probs"})
// CHECK-SAME:    attributes {exec.num_inputs = 2 : i64}
// CHECK-NEXT:    %[[B:.*]] = exec.weight {name = "bias", value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>} : memref<3xf32>
// CHECK-NEXT:    %[[ADD:.*]] = exec.alloc : memref<2x3xf32>
// CHECK-NEXT:    exec.call "add" ins(%[[X]], %[[B]] : memref<2x3xf32>, memref<3xf32>) outs(%[[ADD]] : memref<2x3xf32>) {floats = array<f32>, ints = array<i64>, source = "Add_1"}
// CHECK-NEXT:    %[[LN:.*]] = exec.alloc : memref<2x3xf32>
// CHECK-NEXT:    exec.call "layer_norm" ins(%[[ADD]], %[[B]] : memref<2x3xf32>, memref<3xf32>) outs(%[[LN]] : memref<2x3xf32>) {floats = array<f32: 9.99999974E-6>, ints = array<i64: 1>}
// CHECK-NEXT:    %[[MM:.*]] = exec.alloc : memref<2x4xf32>
// CHECK-NEXT:    exec.call "matmul" ins(%[[LN]], %[[W]] : memref<2x3xf32>, memref<3x4xf32>) outs(%[[MM]] : memref<2x4xf32>)
// CHECK-NEXT:    exec.call "softmax" ins(%[[MM]] : memref<2x4xf32>) outs(%[[OUT]] : memref<2x4xf32>) {floats = array<f32>, ints = array<i64: 1>}
// CHECK-NEXT:    return
// CHECK-NOT:     "copy"
func.func @mlp(%x: tensor<2x3xf32> {graph.name = "hidden"}, %w: tensor<3x4xf32>) -> (tensor<2x4xf32> {graph.name = "probs"}) {
  %b = graph.constant {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>, name = "bias"} : tensor<3xf32>
  %0 = graph.add %x, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32> loc("Add_1")
  %1 = graph.layer_norm %0, %b {axis = 1 : i64, epsilon = 1.0e-5 : f32} : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %2 = graph.matmul %1, %w : tensor<2x3xf32>, tensor<3x4xf32> -> tensor<2x4xf32>
  %3 = graph.softmax %2 {axis = 1 : i64} : tensor<2x4xf32>
  return %3 : tensor<2x4xf32>
}

// -----

// A reshape is a view of its source, not a kernel call. A returned reshape has no buffer of
// its own to compute into, so it is copied out of the view.
// CHECK-LABEL: func.func @returned_reshape
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: memref<2x4xf32>, %[[OUT:[a-z0-9]+]]: memref<8xf32>)
// CHECK-NEXT:    %[[T:.*]] = exec.alloc : memref<4x2xf32>
// CHECK-NEXT:    exec.call "transpose" ins(%[[X]] : memref<2x4xf32>) outs(%[[T]] : memref<4x2xf32>) {floats = array<f32>, ints = array<i64: 1, 0>}
// CHECK-NEXT:    %[[V:.*]] = exec.view %[[T]] : memref<4x2xf32> -> memref<8xf32>
// CHECK-NEXT:    exec.call "copy" ins(%[[V]] : memref<8xf32>) outs(%[[OUT]] : memref<8xf32>) {floats = array<f32>, ints = array<i64>, source = "output copy"}
// CHECK-NEXT:    return
func.func @returned_reshape(%x: tensor<2x4xf32>) -> tensor<8xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x4xf32> -> tensor<4x2xf32>
  %1 = graph.reshape %0 : tensor<4x2xf32> -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// A view feeding a kernel: the call reads the view.
// CHECK-LABEL: func.func @view_operand
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: memref<2x3xf32>, %[[OUT:[a-z0-9]+]]: memref<6xf32>)
// CHECK-NEXT:    %[[V:.*]] = exec.view %[[X]] : memref<2x3xf32> -> memref<6xf32>
// CHECK-NEXT:    exec.call "exp" ins(%[[V]] : memref<6xf32>) outs(%[[OUT]] : memref<6xf32>)
// CHECK-NEXT:    return
func.func @view_operand(%x: tensor<2x3xf32>) -> tensor<6xf32> {
  %0 = graph.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = graph.exp %0 : tensor<6xf32>
  return %1 : tensor<6xf32>
}

// -----

// Returned constants and inputs are copied; a value returned twice is computed into the first
// output and copied into the second.
// CHECK-LABEL: func.func @copies
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: memref<3xf32>, %[[O0:[a-z0-9]+]]: memref<3xf32>, %[[O1:[a-z0-9]+]]: memref<3xf32>, %[[O2:[a-z0-9]+]]: memref<3xf32>, %[[O3:[a-z0-9]+]]: memref<3xf32>)
// CHECK-NEXT:    %[[C:.*]] = exec.weight {value = dense<5.000000e-01> : tensor<3xf32>} : memref<3xf32>
// CHECK-NEXT:    exec.call "mul" ins(%[[X]], %[[C]] : memref<3xf32>, memref<3xf32>) outs(%[[O0]] : memref<3xf32>)
// CHECK-NEXT:    exec.call "copy" ins(%[[O0]] : memref<3xf32>) outs(%[[O1]] : memref<3xf32>) {{.*}}source = "output copy"
// CHECK-NEXT:    exec.call "copy" ins(%[[C]] : memref<3xf32>) outs(%[[O2]] : memref<3xf32>) {{.*}}source = "output copy"
// CHECK-NEXT:    exec.call "copy" ins(%[[X]] : memref<3xf32>) outs(%[[O3]] : memref<3xf32>) {{.*}}source = "output copy"
// CHECK-NEXT:    return
func.func @copies(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %c = graph.constant {value = dense<0.5> : tensor<3xf32>} : tensor<3xf32>
  %0 = graph.mul %x, %c : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %0, %0, %c, %x : tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Attribute slots: slice = offsets then steps, reduce = bit mask of reduced axes (axes 0 and 2
// -> 0b101 = 5), gelu approximate -> 1, rms_norm eps, attention scale (ints: not causal, 6
// keys, keys and values f32), concat/gather axis.
// CHECK-LABEL: func.func @attribute_slots
// CHECK:         exec.call "slice" {{.*}} {floats = array<f32>, ints = array<i64: 0, 1, 2, 1, 1, 2>}
// CHECK:         exec.call "reduce_sum" {{.*}} {floats = array<f32>, ints = array<i64: 5>}
// CHECK:         exec.call "gelu" {{.*}} {floats = array<f32>, ints = array<i64: 1>}
// CHECK:         exec.call "rms_norm" {{.*}} {floats = array<f32: 9.99999997E-7>, ints = array<i64>}
// CHECK:         exec.call "attention" {{.*}} {floats = array<f32: 1.250000e-01>, ints = array<i64: 0, 6, 0, 0>}
// CHECK:         exec.call "concat" {{.*}} {floats = array<f32>, ints = array<i64: 1>}
// CHECK:         exec.call "gather" {{.*}} {floats = array<f32>, ints = array<i64: 0>}
func.func @attribute_slots(%x: tensor<3x4x5xf32>, %w: tensor<5xf32>, %q: tensor<1x2x3x4xf32>, %kv: tensor<1x1x6x4xf32>, %ids: tensor<2xi64>)
    -> (tensor<3x2x2xf32>, tensor<4xf32>, tensor<3x4x5xf32>, tensor<3x4x5xf32>, tensor<1x2x3x4xf32>, tensor<3x8x5xf32>, tensor<2x4x5xf32>) {
  %0 = graph.slice %x {offsets = array<i64: 0, 1, 2>, steps = array<i64: 1, 1, 2>} : tensor<3x4x5xf32> -> tensor<3x2x2xf32>
  %1 = graph.reduce_sum %x {axes = array<i64: 0, 2>} : tensor<3x4x5xf32> -> tensor<4xf32>
  %2 = graph.gelu %x {approximate = true} : tensor<3x4x5xf32>
  %3 = graph.rms_norm %x, %w {epsilon = 1.0e-6 : f32} : tensor<3x4x5xf32>, tensor<5xf32> -> tensor<3x4x5xf32>
  %4 = graph.attention %q, %kv, %kv {scale = 0.125 : f32} : tensor<1x2x3x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32> -> tensor<1x2x3x4xf32>
  %5 = graph.concat %x, %x {axis = 1 : i64} : (tensor<3x4x5xf32>, tensor<3x4x5xf32>) -> tensor<3x8x5xf32>
  %6 = graph.gather %x, %ids {axis = 0 : i64} : tensor<3x4x5xf32>, tensor<2xi64> -> tensor<2x4x5xf32>
  return %0, %1, %2, %3, %4, %5, %6 : tensor<3x2x2xf32>, tensor<4xf32>, tensor<3x4x5xf32>, tensor<3x4x5xf32>, tensor<1x2x3x4xf32>, tensor<3x8x5xf32>, tensor<2x4x5xf32>
}

// -----

// The source comment comes from a name location, also inside a fused location.
// CHECK-LABEL: func.func @source_names
// CHECK:         exec.call "neg" {{.*}}source = "Neg_7"
// CHECK:         exec.call "relu" {{.*}}source = "Relu_3"
func.func @source_names(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.neg %x : tensor<4xf32> loc("Neg_7")
  %1 = graph.relu %0 : tensor<4xf32> loc(fused["model.onnx":1:1, "Relu_3"])
  return %1 : tensor<4xf32>
}
