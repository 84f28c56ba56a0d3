// RUN: edgecc-opt --split-input-file --edgecc-attach-target=target=x86-64-avx2 --edgecc-pack-weights %s | FileCheck %s
// RUN: edgecc-opt --split-input-file --edgecc-attach-target=target=x86-64 --edgecc-pack-weights %s | FileCheck %s --check-prefix=BASE
// RUN: edgecc-opt --split-input-file --edgecc-attach-target=target=x86-64-avx512-vnni --edgecc-pack-weights %s | FileCheck %s --check-prefix=VNNI

// f32 rows are packed column-major within a group of 8 rows: value k of rows 0..7 side by
// side. Rows r = [2r, 2r + 1] become [0 2 4 .. 14] then [1 3 .. 15], still a tensor<8x2xf32>.
// CHECK-LABEL: func.func @f32_rows
// CHECK:         %[[W:.*]] = graph.constant {{{.*}}value = dense<{{\[}}[0.000000e+00, 2.000000e+00], [4.000000e+00, 6.000000e+00], [8.000000e+00, 1.000000e+01], [1.200000e+01, 1.400000e+01], [1.000000e+00, 3.000000e+00], [5.000000e+00, 7.000000e+00], [9.000000e+00, 1.100000e+01], [1.300000e+01, 1.500000e+01]]> : tensor<8x2xf32>}
// CHECK:         graph.linear %{{.*}}, %[[W]] {format = "f32x8"}
// The baseline target has no packed kernel: the weight stays as stored.
// BASE-LABEL:  func.func @f32_rows
// BASE:          value = dense<{{\[}}[0.000000e+00, 1.000000e+00], [2.000000e+00, 3.000000e+00]
// BASE:          graph.linear %{{.*}}, %{{.*}} {format = "f32"}
func.func @f32_rows(%x: tensor<1x2xf32>) -> tensor<1x8xf32> {
  %w = graph.constant {value = dense<[[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0], [8.0, 9.0], [10.0, 11.0], [12.0, 13.0], [14.0, 15.0]]> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = graph.linear %x, %w {format = "f32"} : tensor<1x2xf32>, tensor<8x2xf32> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// 4 rows are not a whole group of 8: not packed.
// CHECK-LABEL: func.func @partial_group
// CHECK:         graph.linear %{{.*}}, %{{.*}} {format = "q8_0"}
func.func @partial_group(%x: tensor<1x32xf32>) -> tensor<1x4xf32> {
  %w = graph.constant {value = dense<1> : tensor<4x34xi8>} : tensor<4x34xi8>
  %y = graph.linear %x, %w {format = "q8_0"} : tensor<1x32xf32>, tensor<4x34xi8> -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// A table read by an embedding and by the output head (tied weights) is packed once, and both
// readers take the packed format.
// CHECK-LABEL: func.func @tied
// CHECK:         %[[T:.*]] = graph.constant
// CHECK:         graph.embedding %[[T]], %{{.*}} {format = "q4_0x8"}
// CHECK:         graph.linear %{{.*}}, %[[T]] {format = "q4_0x8"}
func.func @tied(%ids: tensor<1x1xi64>) -> tensor<1x1x8xf32> {
  %t = graph.constant {value = dense<3> : tensor<8x18xi8>} : tensor<8x18xi8>
  %e = graph.embedding %t, %ids {format = "q4_0"} : tensor<8x18xi8>, tensor<1x1xi64> -> tensor<1x1x32xf32>
  %y = graph.linear %e, %t {format = "q4_0"} : tensor<1x1x32xf32>, tensor<8x18xi8> -> tensor<1x1x8xf32>
  return %y : tensor<1x1x8xf32>
}

// -----

// A constant that something else reads as a tensor keeps its layout.
// CHECK-LABEL: func.func @other_reader
// CHECK:         graph.linear %{{.*}}, %{{.*}} {format = "f32"}
func.func @other_reader(%x: tensor<1x2xf32>) -> (tensor<1x8xf32>, tensor<8x2xf32>) {
  %w = graph.constant {value = dense<1.0> : tensor<8x2xf32>} : tensor<8x2xf32>
  %y = graph.linear %x, %w {format = "f32"} : tensor<1x2xf32>, tensor<8x2xf32> -> tensor<1x8xf32>
  %n = graph.neg %w : tensor<8x2xf32>
  return %y, %n : tensor<1x8xf32>, tensor<8x2xf32>
}

// -----

// On a VNNI target q8_0 becomes q8_0x8u: the 8 rows' quants (all 1) are stored as 1 + 128 =
// 0x81, then the plane of scales as stored (0x0101).
// VNNI-LABEL: func.func @q8_unsigned
// VNNI:         value = dense<"0x{{(8181){128}((01){16})}}"> : tensor<8x34xi8>
// VNNI:         graph.linear %{{.*}}, %{{.*}} {format = "q8_0x8u"}
// CHECK-LABEL:  func.func @q8_unsigned
// CHECK:        graph.linear %{{.*}}, %{{.*}} {format = "q8_0x8"}
func.func @q8_unsigned(%x: tensor<1x32xf32>) -> tensor<1x8xf32> {
  %w = graph.constant {value = dense<1> : tensor<8x34xi8>} : tensor<8x34xi8>
  %y = graph.linear %x, %w {format = "q8_0"} : tensor<1x32xf32>, tensor<8x34xi8> -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}
