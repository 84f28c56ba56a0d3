// RUN: edgecc-opt --split-input-file --edgecc-fold-constants %s | FileCheck %s
// RUN: edgecc-opt --split-input-file --edgecc-fold-constants --edgecc-dce %s | FileCheck %s --check-prefix=DCE
// RUN: edgecc-opt --split-input-file --edgecc-fold-constants %s | FileCheck %s --check-prefix=EXACT

// [1, 2] + [0.5, 4] = [1.5, 6]; x * 2 has a runtime operand and stays.
// CHECK-LABEL: func.func @add_of_constants
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NOT:     graph.add
// CHECK:         %[[SUM:.*]] = graph.constant {value = dense<[1.500000e+00, 6.000000e+00]> : tensor<2xf32>} : tensor<2xf32>
// CHECK-NOT:     graph.add
// CHECK:         %[[TWO:.*]] = graph.constant {value = dense<2.000000e+00> : tensor<f32>}
// CHECK-NEXT:    %[[M:.*]] = graph.mul %[[X]], %[[TWO]] : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
// CHECK-NEXT:    return %[[SUM]], %[[M]]

// After DCE only the folded constant, the multiplier and the mul are left.
// DCE-LABEL: func.func @add_of_constants
// DCE-NEXT:    %[[SUM:.*]] = graph.constant {value = dense<[1.500000e+00, 6.000000e+00]> : tensor<2xf32>}
// DCE-NEXT:    %[[TWO:.*]] = graph.constant {value = dense<2.000000e+00> : tensor<f32>}
// DCE-NEXT:    %[[M:.*]] = graph.mul %{{.*}}, %[[TWO]]
// DCE-NEXT:    return %[[SUM]], %[[M]]
func.func @add_of_constants(%x: tensor<4xf32>) -> (tensor<2xf32>, tensor<4xf32>) {
  %c0 = graph.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %c1 = graph.constant {value = dense<[0.5, 4.0]> : tensor<2xf32>} : tensor<2xf32>
  %0 = graph.add %c0, %c1 : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %c2 = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %1 = graph.mul %x, %c2 : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %0, %1 : tensor<2xf32>, tensor<4xf32>
}

// -----

// Folding runs in program order, so a chain folds completely: a broadcasting add
// [[1,2,3],[4,5,6]] + [10,20,30] then a neg.
// DCE-LABEL: func.func @chain
// DCE-NEXT:    %[[C:.*]] = graph.constant {value = dense<{{\[}}[-1.100000e+01, -2.200000e+01, -3.300000e+01], [-1.400000e+01, -2.500000e+01, -3.600000e+01]]> : tensor<2x3xf32>}
// DCE-NEXT:    return %[[C]]
func.func @chain() -> tensor<2x3xf32> {
  %c = graph.constant {value = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>} : tensor<2x3xf32>
  %b = graph.constant {value = dense<[10.0, 20.0, 30.0]> : tensor<3xf32>} : tensor<3xf32>
  %0 = graph.add %c, %b : tensor<2x3xf32>, tensor<3xf32> -> tensor<2x3xf32>
  %1 = graph.neg %0 : tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A partly constant expression folds up to the first runtime operand and no further.
// CHECK-LABEL: func.func @partly_constant
// CHECK-SAME:    (%[[X:.*]]: tensor<2xf32>)
// CHECK:         %[[C:.*]] = graph.constant {value = dense<[3.000000e+00, 5.000000e+00]> : tensor<2xf32>}
// CHECK:         %[[S:.*]] = graph.sub %[[X]], %[[C]]
// CHECK-NEXT:    %[[E:.*]] = graph.exp %[[S]]
// CHECK-NEXT:    return %[[E]]
func.func @partly_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %a = graph.constant {value = dense<[1.0, 2.0]> : tensor<2xf32>} : tensor<2xf32>
  %b = graph.constant {value = dense<[2.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %0 = graph.add %a, %b : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %1 = graph.sub %x, %0 : tensor<2xf32>, tensor<2xf32> -> tensor<2xf32>
  %2 = graph.exp %1 : tensor<2xf32>
  return %2 : tensor<2xf32>
}

// -----

// Layout ops, comparisons (i1 results), reductions and matmul on constants.
// DCE-LABEL: func.func @kernels
// transpose [[1,2,3],[4,5,6]]
// DCE-NEXT:    %[[T:.*]] = graph.constant {value = dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>}
// [1, 3] < 2
// DCE-NEXT:    %[[L:.*]] = graph.constant {value = dense<[true, false]> : tensor<2xi1>}
// column sums of [[1,2],[3,4]]
// DCE-NEXT:    %[[S:.*]] = graph.constant {value = dense<[4.000000e+00, 6.000000e+00]> : tensor<2xf32>}
// [[1,2],[3,4]] x [[5,6],[7,8]]
// DCE-NEXT:    %[[MM:.*]] = graph.constant {value = dense<{{\[}}[1.900000e+01, 2.200000e+01], [4.300000e+01, 5.000000e+01]]> : tensor<2x2xf32>}
// [[1,2,3,4]][0, 1::2]
// DCE-NEXT:    %[[SL:.*]] = graph.constant {value = dense<{{\[}}[2, 4]]> : tensor<1x2xi32>}
// [10,20,30][-1, 0]
// DCE-NEXT:    %[[G:.*]] = graph.constant {value = dense<[30, 10]> : tensor<2xi64>}
// concat(reshape([[1,2],[3,4]]), [1, 3])
// DCE-NEXT:    %[[CC:.*]] = graph.constant {value = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 1.000000e+00, 3.000000e+00]> : tensor<6xf32>}
// cast truncates toward zero
// DCE-NEXT:    %[[CI:.*]] = graph.constant {value = dense<[1, -2, 3]> : tensor<3xi32>}
// where([t, f, t], [1, 2, 3], 0)
// DCE-NEXT:    %[[W:.*]] = graph.constant {value = dense<[1.000000e+00, 0.000000e+00, 3.000000e+00]> : tensor<3xf32>}
// row means of [[1,2],[3,4]], dims kept
// DCE-NEXT:    %[[RM:.*]] = graph.constant {value = dense<{{\[}}[1.500000e+00], [3.500000e+00]]> : tensor<2x1xf32>}
// DCE-NEXT:    return %[[T]], %[[L]], %[[S]], %[[MM]], %[[SL]], %[[G]], %[[CC]], %[[CI]], %[[W]], %[[RM]]
func.func @kernels() -> (tensor<3x2xi64>, tensor<2xi1>, tensor<2xf32>, tensor<2x2xf32>, tensor<1x2xi32>, tensor<2xi64>, tensor<6xf32>, tensor<3xi32>, tensor<3xf32>, tensor<2x1xf32>) {
  %c = graph.constant {value = dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>} : tensor<2x3xi64>
  %t = graph.transpose %c {permutation = array<i64: 1, 0>} : tensor<2x3xi64> -> tensor<3x2xi64>
  %a = graph.constant {value = dense<[1.0, 3.0]> : tensor<2xf32>} : tensor<2xf32>
  %two = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %l = graph.less %a, %two : tensor<2xf32>, tensor<f32> -> tensor<2xi1>
  %r = graph.constant {value = dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %s = graph.reduce_sum %r {axes = array<i64: 0>} : tensor<2x2xf32> -> tensor<2xf32>
  %r2 = graph.constant {value = dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>} : tensor<2x2xf32>
  %mm = graph.matmul %r, %r2 : tensor<2x2xf32>, tensor<2x2xf32> -> tensor<2x2xf32>
  %i4 = graph.constant {value = dense<[[1, 2, 3, 4]]> : tensor<1x4xi32>} : tensor<1x4xi32>
  %sl = graph.slice %i4 {offsets = array<i64: 0, 1>, steps = array<i64: 1, 2>} : tensor<1x4xi32> -> tensor<1x2xi32>
  %d = graph.constant {value = dense<[10, 20, 30]> : tensor<3xi64>} : tensor<3xi64>
  %idx = graph.constant {value = dense<[-1, 0]> : tensor<2xi64>} : tensor<2xi64>
  %g = graph.gather %d, %idx {axis = 0 : i64} : tensor<3xi64>, tensor<2xi64> -> tensor<2xi64>
  %rs = graph.reshape %r : tensor<2x2xf32> -> tensor<4xf32>
  %cc = graph.concat %rs, %a {axis = 0 : i64} : (tensor<4xf32>, tensor<2xf32>) -> tensor<6xf32>
  %f = graph.constant {value = dense<[1.7, -2.5, 3.0]> : tensor<3xf32>} : tensor<3xf32>
  %ci = graph.cast %f : tensor<3xf32> -> tensor<3xi32>
  %cond = graph.constant {value = dense<[true, false, true]> : tensor<3xi1>} : tensor<3xi1>
  %x = graph.constant {value = dense<[1.0, 2.0, 3.0]> : tensor<3xf32>} : tensor<3xf32>
  %zero = graph.constant {value = dense<0.0> : tensor<f32>} : tensor<f32>
  %w = graph.where %cond, %x, %zero : tensor<3xi1>, tensor<3xf32>, tensor<f32> -> tensor<3xf32>
  %rm = graph.reduce_mean %r {axes = array<i64: 1>} : tensor<2x2xf32> -> tensor<2x1xf32>
  return %t, %l, %s, %mm, %sl, %g, %cc, %ci, %w, %rm : tensor<3x2xi64>, tensor<2xi1>, tensor<2xf32>, tensor<2x2xf32>, tensor<1x2xi32>, tensor<2xi64>, tensor<6xf32>, tensor<3xi32>, tensor<3xf32>, tensor<2x1xf32>
}

// -----

// A folded result of 1 KiB or more is stored as a dense_resource blob, not an attribute, and
// each folded blob has its own name. 16 x 16 x f32 = 1024 bytes; a blob starts with its 4-byte
// alignment (16 = 10000000), then the little-endian values: 2.0 = 00000040, -1.0 = 000080BF.
// DCE-LABEL: func.func @large_results
// DCE-NEXT:    %[[C0:.*]] = graph.constant {value = dense_resource<[[BLOB0:[a-z0-9_]+]]> : tensor<16x16xf32>} : tensor<16x16xf32>
// DCE-NEXT:    %[[C1:.*]] = graph.constant {value = dense_resource<[[BLOB1:[a-z0-9_]+]]> : tensor<16x16xf32>} : tensor<16x16xf32>
// DCE-NEXT:    return %[[C0]], %[[C1]]
// DCE-DAG:     [[BLOB0]]: "0x10000000{{(00000040)+}}"
// DCE-DAG:     [[BLOB1]]: "0x10000000{{(000080BF)+}}"
func.func @large_results() -> (tensor<16x16xf32>, tensor<16x16xf32>) {
  %a = graph.constant {value = dense<1.0> : tensor<16x16xf32>} : tensor<16x16xf32>
  %0 = graph.add %a, %a : tensor<16x16xf32>, tensor<16x16xf32> -> tensor<16x16xf32>
  %1 = graph.neg %a : tensor<16x16xf32>
  return %0, %1 : tensor<16x16xf32>, tensor<16x16xf32>
}

// -----

// Weights stored as dense_resource blobs fold like dense attributes: transposing
// [[1, 2], [3, 4]] (blob 0000803F 00000040 00004040 00008040).
// DCE-LABEL: func.func @resource_operand
// DCE-NEXT:    %[[C:.*]] = graph.constant {value = dense<{{\[}}[1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>}
// DCE-NEXT:    return %[[C]]
func.func @resource_operand() -> tensor<2x2xf32> {
  %w = graph.constant {value = dense_resource<w0> : tensor<2x2xf32>, name = "w0"} : tensor<2x2xf32>
  %0 = graph.transpose %w {permutation = array<i64: 1, 0>} : tensor<2x2xf32> -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w0: "0x040000000000803F000000400000404000008040"
    }
  }
#-}

// -----

// Nothing to fold: the add has a runtime operand, and a constant returned as is stays a
// constant.
// CHECK-LABEL: func.func @nothing_to_fold
// CHECK-SAME:    (%[[X:.*]]: tensor<3xf32>)
// CHECK-NEXT:    %[[C:.*]] = graph.constant {value = dense<1.000000e+00> : tensor<3xf32>}
// CHECK-NEXT:    %[[A:.*]] = graph.add %[[X]], %[[C]]
// CHECK-NEXT:    return %[[A]], %[[C]]
func.func @nothing_to_fold(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>) {
  %c = graph.constant {value = dense<1.0> : tensor<3xf32>} : tensor<3xf32>
  %0 = graph.add %x, %c : tensor<3xf32>, tensor<3xf32> -> tensor<3xf32>
  return %0, %c : tensor<3xf32>, tensor<3xf32>
}

// -----

// The folder must compute what the op means, or not fold. reduce_max over i1 is a logical
// "any" ([[true, false]] -> [true]) and softmax of two equal f64 values is [0.5, 0.5]; the
// folder has no i1 reduction or f64 softmax, so both ops stay with their operands untouched.
// A folder that learns them must turn this into CHECKs of [true] and [0.5, 0.5].
// EXACT-LABEL: func.func @fold_must_be_right
// EXACT-NEXT:    %[[B:.*]] = graph.constant {value = dense<{{\[}}[true, false]]> : tensor<1x2xi1>}
// EXACT-NEXT:    %[[R:.*]] = graph.reduce_max %[[B]] {axes = array<i64: 1>}
// EXACT-NEXT:    %[[D:.*]] = graph.constant {value = dense<0.000000e+00> : tensor<2xf64>}
// EXACT-NEXT:    %[[S:.*]] = graph.softmax %[[D]] {axis = 0 : i64}
// EXACT-NEXT:    return %[[R]], %[[S]]
func.func @fold_must_be_right() -> (tensor<1xi1>, tensor<2xf64>) {
  %b = graph.constant {value = dense<[[true, false]]> : tensor<1x2xi1>} : tensor<1x2xi1>
  %0 = graph.reduce_max %b {axes = array<i64: 1>} : tensor<1x2xi1> -> tensor<1xi1>
  %d = graph.constant {value = dense<[0.0, 0.0]> : tensor<2xf64>} : tensor<2xf64>
  %1 = graph.softmax %d {axis = 0 : i64} : tensor<2xf64>
  return %0, %1 : tensor<1xi1>, tensor<2xf64>
}

// -----

// Expansions are not materialized into weights: broadcasting a scalar to 128 KiB stays a
// runtime op (64 KiB limit, and 4x the 4-byte operand), a small one folds.
// CHECK-LABEL: func.func @large_expansion_stays_runtime
// CHECK:         graph.expand {{.*}} -> tensor<128x256xf32>
// CHECK-LABEL: func.func @small_expansion_folds
// CHECK-NOT:     graph.expand
// CHECK:         graph.constant {value = dense<2.500000e+00> : tensor<4x4xf32>}
func.func @large_expansion_stays_runtime() -> tensor<128x256xf32> {
  %c = graph.constant {value = dense<2.5> : tensor<f32>} : tensor<f32>
  %e = graph.expand %c : tensor<f32> -> tensor<128x256xf32>
  return %e : tensor<128x256xf32>
}
func.func @small_expansion_folds() -> tensor<4x4xf32> {
  %c = graph.constant {value = dense<2.5> : tensor<f32>} : tensor<f32>
  %e = graph.expand %c : tensor<f32> -> tensor<4x4xf32>
  return %e : tensor<4x4xf32>
}
