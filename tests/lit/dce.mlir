// RUN: edgecc-opt --split-input-file --edgecc-dce %s | FileCheck %s

// A whole dead chain (exp -> add -> neg, and the constant only it used) goes in one run;
// the live op and the constant it uses stay.
// CHECK-LABEL: func.func @dead_chain
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[C:.*]] = graph.constant {value = dense<2.000000e+00> : tensor<f32>}
// CHECK-NEXT:    %[[M:.*]] = graph.mul %[[X]], %[[C]]
// CHECK-NEXT:    return %[[M]]
// CHECK-NOT:     graph.
func.func @dead_chain(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = graph.constant {value = dense<2.0> : tensor<f32>} : tensor<f32>
  %d = graph.constant {value = dense<3.0> : tensor<f32>} : tensor<f32>
  %0 = graph.exp %x : tensor<4xf32>
  %1 = graph.add %0, %d : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  %2 = graph.neg %1 : tensor<4xf32>
  %3 = graph.mul %x, %c : tensor<4xf32>, tensor<f32> -> tensor<4xf32>
  return %3 : tensor<4xf32>
}

// -----

// Values used by live ops are kept even when they also feed dead ones.
// CHECK-LABEL: func.func @shared_value
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>)
// CHECK-NEXT:    %[[E:.*]] = graph.exp %[[X]]
// CHECK-NEXT:    %[[N:.*]] = graph.neg %[[E]]
// CHECK-NEXT:    return %[[N]]
func.func @shared_value(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.exp %x : tensor<4xf32>
  %1 = graph.sigmoid %0 : tensor<4xf32>
  %2 = graph.neg %0 : tensor<4xf32>
  return %2 : tensor<4xf32>
}

// -----

// Nothing is dead: the function is unchanged.
// CHECK-LABEL: func.func @all_live
// CHECK-SAME:    (%[[X:.*]]: tensor<2x3xf32>)
// CHECK-NEXT:    %[[T:.*]] = graph.transpose %[[X]] {permutation = array<i64: 1, 0>}
// CHECK-NEXT:    %[[R:.*]] = graph.reshape %[[X]]
// CHECK-NEXT:    return %[[T]], %[[R]]
func.func @all_live(%x: tensor<2x3xf32>) -> (tensor<3x2xf32>, tensor<6xf32>) {
  %0 = graph.transpose %x {permutation = array<i64: 1, 0>} : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = graph.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  return %0, %1 : tensor<3x2xf32>, tensor<6xf32>
}

// -----

// Every function in the module is cleaned, and an unused function argument is no reason to
// keep anything.
// CHECK-LABEL: func.func @first
// CHECK-NEXT:    return
// CHECK-LABEL: func.func @second
// CHECK-SAME:    (%[[X:.*]]: tensor<4xf32>, %{{.*}}: tensor<4xf32>)
// CHECK-NEXT:    %[[S:.*]] = graph.sqrt %[[X]]
// CHECK-NEXT:    return %[[S]]
func.func @first(%x: tensor<4xf32>) {
  %0 = graph.abs %x : tensor<4xf32>
  return
}
func.func @second(%x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  %0 = graph.log %y : tensor<4xf32>
  %1 = graph.sqrt %x : tensor<4xf32>
  %2 = graph.max %0, %1 : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// Only graph ops are touched: an unused exec.alloc (not pure, and not ours to judge) stays.
// CHECK-LABEL: func.func @other_dialects
// CHECK-NEXT:    exec.alloc
// CHECK-NEXT:    return
func.func @other_dialects(%x: tensor<4xf32>) {
  %0 = graph.exp %x : tensor<4xf32>
  %1 = exec.alloc : memref<4xf32>
  return
}

// -----

// graph.kv_append writes the cache: it stays when its result is unused, whatever the pass
// order. An unused graph.kv_cache only reads, so it goes.
// CHECK-LABEL: func.func @cache_write_stays
// CHECK-SAME:    (%[[U:.*]]: tensor<1x2x3x8xf32>)
// CHECK-NEXT:    %[[C:.*]] = graph.kv_cache {capacity = 16 : i64, slot = 0 : i64}
// CHECK-NEXT:    %{{.*}} = graph.kv_append %[[C]], %[[U]]
// CHECK-NEXT:    return %[[U]]
func.func @cache_write_stays(%u: tensor<1x2x3x8xf32>) -> tensor<1x2x3x8xf32> {
  %c = graph.kv_cache {slot = 0 : i64, capacity = 16 : i64} : tensor<1x2x0x8xf32>
  %unused = graph.kv_cache {slot = 1 : i64, capacity = 16 : i64} : tensor<1x2x0x8xf32>
  %k = graph.kv_append %c, %u : tensor<1x2x0x8xf32>, tensor<1x2x3x8xf32> -> tensor<1x2x3x8xf32>
  return %u : tensor<1x2x3x8xf32>
}
