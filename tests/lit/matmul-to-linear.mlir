// RUN: edgecc-opt --split-input-file --edgecc-matmul-to-linear %s | FileCheck %s

// x [1, 5, 2] @ W [2, 3] becomes linear over W^T's rows [3, 2].
// CHECK-LABEL: func.func @constant_rhs
// CHECK:         %[[WT:.*]] = graph.constant {name = "w", value = dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>}
// CHECK:         graph.linear %{{.*}}, %[[WT]] {format = "f32"} : tensor<1x5x2xf32>, tensor<3x2xf32> -> tensor<1x5x3xf32>
// CHECK-NOT:     graph.matmul
func.func @constant_rhs(%x: tensor<1x5x2xf32>) -> tensor<1x5x3xf32> {
  %w = graph.constant {name = "w", value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : tensor<2x3xf32>
  %y = graph.matmul %x, %w : tensor<1x5x2xf32>, tensor<2x3xf32> -> tensor<1x5x3xf32>
  return %y : tensor<1x5x3xf32>
}

// -----

// A right-hand side computed at run time stays a matmul.
// CHECK-LABEL: func.func @runtime_rhs
// CHECK:         graph.matmul
func.func @runtime_rhs(%x: tensor<1x5x2xf32>, %w: tensor<2x3xf32>) -> tensor<1x5x3xf32> {
  %y = graph.matmul %x, %w : tensor<1x5x2xf32>, tensor<2x3xf32> -> tensor<1x5x3xf32>
  return %y : tensor<1x5x3xf32>
}
