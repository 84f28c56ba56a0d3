// RUN: edgecc-opt --split-input-file --canonicalize %s | FileCheck %s

// No-op layout ops and casts fold away.
// CHECK-LABEL: func.func @identity_ops
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]]
func.func @identity_ops(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>) {
  %0 = graph.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %1 = graph.transpose %x {permutation = array<i64: 0, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  %2 = graph.cast %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %3 = graph.expand %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %4 = graph.slice %x {offsets = array<i64: 0, 0>, steps = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// The same ops stay when they do something.
// CHECK-LABEL: func.func @non_identity_ops
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[R:.*]] = graph.reshape %[[X]] : tensor<2x3xf32> -> tensor<6xf32>
// CHECK-DAG:     %[[T:.*]] = graph.transpose %[[X]] {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK-DAG:     %[[C:.*]] = graph.cast %[[X]] : tensor<2x3xf32> -> tensor<2x3xi32>
// CHECK-DAG:     %[[E:.*]] = graph.expand %[[X]] : tensor<2x3xf32> -> tensor<4x2x3xf32>
// CHECK-DAG:     %[[S:.*]] = graph.slice %[[X]] {offsets = array<i64: 0, 0>, steps = array<i64: 1, 2>} : tensor<2x3xf32> -> tensor<2x2xf32>
// CHECK:         return %[[R]], %[[T]], %[[C]], %[[E]], %[[S]]
func.func @non_identity_ops(%x: tensor<2x3xf32>) -> (tensor<6xf32>, tensor<3x2xf32>, tensor<2x3xi32>, tensor<4x2x3xf32>, tensor<2x2xf32>) {
  %0 = graph.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = graph.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %2 = graph.cast %x : tensor<2x3xf32> -> tensor<2x3xi32>
  %3 = graph.expand %x : tensor<2x3xf32> -> tensor<4x2x3xf32>
  %4 = graph.slice %x {offsets = array<i64: 0, 0>, steps = array<i64: 1, 2>} : tensor<2x3xf32> -> tensor<2x2xf32>
  return %0, %1, %2, %3, %4 : tensor<6xf32>, tensor<3x2xf32>, tensor<2x3xi32>, tensor<4x2x3xf32>, tensor<2x2xf32>
}

// -----

// A transpose that swaps two equal dims keeps the type but is no identity.
// CHECK-LABEL: func.func @square_transpose_stays
// CHECK:         %[[T:.*]] = graph.transpose
// CHECK-NEXT:    return %[[T]]
func.func @square_transpose_stays(%x: tensor<3x3xf32>) -> tensor<3x3xf32> {
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : tensor<3x3xf32> -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// reshape(reshape(x)) reads x directly; the inner reshape dies.
// CHECK-LABEL: func.func @reshape_of_reshape
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3x4xf32>)
// CHECK-NEXT:    %[[R:.*]] = graph.reshape %[[X]] : tensor<2x3x4xf32> -> tensor<4x6xf32>
// CHECK-NEXT:    return %[[R]]
func.func @reshape_of_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %0 = graph.reshape %x : tensor<2x3x4xf32> -> tensor<24xf32>
  %1 = graph.reshape %0 : tensor<24xf32> -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// A chain of three reshapes that ends where it started folds away entirely.
// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @reshape_round_trip(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = graph.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = graph.reshape %0 : tensor<6xf32> -> tensor<3x2xf32>
  %2 = graph.reshape %1 : tensor<3x2xf32> -> tensor<2x3xf32>
  return %2 : tensor<2x3xf32>
}

// -----

// The inner reshape has another user, so it stays; the outer one still reads x.
// CHECK-LABEL: func.func @reshape_of_shared_reshape
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[A:.*]] = graph.reshape %[[X]] : tensor<2x3xf32> -> tensor<6xf32>
// CHECK-DAG:     %[[B:.*]] = graph.reshape %[[X]] : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK:         return %[[A]], %[[B]]
func.func @reshape_of_shared_reshape(%x: tensor<2x3xf32>) -> (tensor<6xf32>, tensor<3x2xf32>) {
  %0 = graph.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = graph.reshape %0 : tensor<6xf32> -> tensor<3x2xf32>
  return %0, %1 : tensor<6xf32>, tensor<3x2xf32>
}

// -----

// Dead graph ops are erased and equal constants are deduplicated.
// CHECK-LABEL: func.func @dead_and_duplicate
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[C:.*]] = graph.constant {value = dense<2.000000e+00> : tensor<f32>} : tensor<f32>
// CHECK-NEXT:    %[[A:.*]] = graph.add %[[X]], %[[C]]
// CHECK-NEXT:    %[[M:.*]] = graph.mul %[[A]], %[[C]]
// CHECK-NEXT:    return %[[M]]
func.func @dead_and_duplicate(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c0 = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %dead = graph.exp %x : tensor<4xf32>
  %a = graph.add %x, %c0 : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %c1 = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %m = graph.mul %a, %c1 : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %m : tensor<4xf32>
}
