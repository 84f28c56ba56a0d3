// RUN: edgecc-opt --split-input-file --edgecc-fuse-gate-up %s | FileCheck %s

// The gate and up projections read the same x: one linear over [Wg; Wu] (rows 0-1 the gate's,
// 2-3 the up's), then swiglu halves [1, 3, 4] back to [1, 3, 2].
// CHECK-LABEL: func.func @mlp
// CHECK:         %[[W:.*]] = graph.constant {value = dense<{{\[}}[1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>}
// CHECK:         %[[Y:.*]] = graph.linear %{{.*}}, %[[W]] {format = "f32"} : tensor<1x3x2xf32>, tensor<4x2xf32> -> tensor<1x3x4xf32>
// CHECK:         %[[S:.*]] = graph.swiglu %[[Y]] : tensor<1x3x4xf32> -> tensor<1x3x2xf32>
// CHECK:         return %[[S]]
// CHECK-NOT:     graph.silu
func.func @mlp(%x: tensor<1x3x2xf32>) -> tensor<1x3x2xf32> {
  %wg = graph.constant {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %wu = graph.constant {value = dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %g = graph.linear %x, %wg {format = "f32"} : tensor<1x3x2xf32>, tensor<2x2xf32> -> tensor<1x3x2xf32>
  %u = graph.linear %x, %wu {format = "f32"} : tensor<1x3x2xf32>, tensor<2x2xf32> -> tensor<1x3x2xf32>
  %s = graph.silu %g : tensor<1x3x2xf32>
  %m = graph.mul %s, %u : tensor<1x3x2xf32>, tensor<1x3x2xf32> -> tensor<1x3x2xf32>
  return %m : tensor<1x3x2xf32>
}

// -----

// Different inputs (or the gate read elsewhere): nothing to share, nothing fused.
// CHECK-LABEL: func.func @other_inputs
// CHECK:         graph.silu
// CHECK:         graph.mul
// CHECK-NOT:     graph.swiglu
func.func @other_inputs(%x: tensor<1x2xf32>, %z: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %wg = graph.constant {value = dense<1.0> : tensor<2x2xf32>} : tensor<2x2xf32>
  %wu = graph.constant {value = dense<2.0> : tensor<2x2xf32>} : tensor<2x2xf32>
  %g = graph.linear %x, %wg {format = "f32"} : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
  %u = graph.linear %z, %wu {format = "f32"} : tensor<1x2xf32>, tensor<2x2xf32> -> tensor<1x2xf32>
  %s = graph.silu %g : tensor<1x2xf32>
  %m = graph.mul %s, %u : tensor<1x2xf32>, tensor<1x2xf32> -> tensor<1x2xf32>
  return %m : tensor<1x2xf32>
}
