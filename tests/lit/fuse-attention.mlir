// RUN: edgecc-opt --split-input-file --edgecc-fuse-attention %s | FileCheck %s

// softmax(q k^T / sqrt(8) + mask) v with a [1, 1, S, T] mask: scale = 1 / 2.828427.
// CHECK-LABEL: func.func @mha_div_scale_mask
// CHECK-SAME:    (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x4x5x8xf32>, %[[V:.*]]: tensor<1x4x5x8xf32>, %[[M:.*]]: tensor<1x1x3x5xf32>)
// CHECK-NEXT:    %[[O:.*]] = graph.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 0.353553385 : f32} : tensor<1x4x3x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32>, tensor<1x1x3x5xf32> -> tensor<1x4x3x8xf32>
// CHECK-NEXT:    return %[[O]]
func.func @mha_div_scale_mask(%q: tensor<1x4x3x8xf32>, %k: tensor<1x4x5x8xf32>, %v: tensor<1x4x5x8xf32>, %m: tensor<1x1x3x5xf32>) -> tensor<1x4x3x8xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x4x5x8xf32> -> tensor<1x4x8x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x4x3x8xf32>, tensor<1x4x8x5xf32> -> tensor<1x4x3x5xf32>
  %d = graph.constant {value = dense<2.82842708> : tensor<f32>} : tensor<f32>
  %sd = graph.div %s, %d : tensor<1x4x3x5xf32>, tensor<f32> -> tensor<1x4x3x5xf32>
  %sm = graph.add %sd, %m : tensor<1x4x3x5xf32>, tensor<1x1x3x5xf32> -> tensor<1x4x3x5xf32>
  %p = graph.softmax %sm {axis = 3 : i64} : tensor<1x4x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x4x3x5xf32>, tensor<1x4x5x8xf32> -> tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// Mask on the left of the add, scale by multiplication, rank-2 mask.
// CHECK-LABEL: func.func @mha_mul_scale_mask_lhs
// CHECK-SAME:    (%[[Q:.*]]: tensor<2x2x3x4xf32>, %[[K:.*]]: tensor<2x2x3x4xf32>, %[[V:.*]]: tensor<2x2x3x6xf32>, %[[M:.*]]: tensor<3x3xf32>)
// CHECK-NEXT:    %[[O:.*]] = graph.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 5.000000e-01 : f32} : tensor<2x2x3x4xf32>, tensor<2x2x3x4xf32>, tensor<2x2x3x6xf32>, tensor<3x3xf32> -> tensor<2x2x3x6xf32>
// CHECK-NEXT:    return %[[O]]
func.func @mha_mul_scale_mask_lhs(%q: tensor<2x2x3x4xf32>, %k: tensor<2x2x3x4xf32>, %v: tensor<2x2x3x6xf32>, %m: tensor<3x3xf32>) -> tensor<2x2x3x6xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<2x2x3x4xf32> -> tensor<2x2x4x3xf32>
  %s = graph.matmul %q, %kt : tensor<2x2x3x4xf32>, tensor<2x2x4x3xf32> -> tensor<2x2x3x3xf32>
  %c = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %sc = graph.mul %c, %s : tensor<f32>, tensor<2x2x3x3xf32> -> tensor<2x2x3x3xf32>
  %sm = graph.add %m, %sc : tensor<3x3xf32>, tensor<2x2x3x3xf32> -> tensor<2x2x3x3xf32>
  %p = graph.softmax %sm {axis = 3 : i64} : tensor<2x2x3x3xf32>
  %o = graph.matmul %p, %v : tensor<2x2x3x3xf32>, tensor<2x2x3x6xf32> -> tensor<2x2x3x6xf32>
  return %o : tensor<2x2x3x6xf32>
}

// -----

// No mask, no scale: scale = 1.
// CHECK-LABEL: func.func @no_mask_no_scale
// CHECK-SAME:    (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x2x5x4xf32>, %[[V:.*]]: tensor<1x2x5x4xf32>)
// CHECK-NEXT:    %[[O:.*]] = graph.attention %[[Q]], %[[K]], %[[V]] {scale = 1.000000e+00 : f32} : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
// CHECK-NEXT:    return %[[O]]
func.func @no_mask_no_scale(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x2x5x4xf32> -> tensor<1x2x4x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32> -> tensor<1x2x3x5xf32>
  %p = graph.softmax %s {axis = 3 : i64} : tensor<1x2x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Grouped-query attention, 4 query heads over 2 kv heads, with HF's repeat_kv on both key and
// value: reshape [1,2,5,8] -> [1,2,1,5,8], expand -> [1,2,2,5,8], reshape -> [1,4,5,8]. The
// fused op reads the 2-head tensors directly and the repeats are gone.
// CHECK-LABEL: func.func @gqa_repeat_kv
// CHECK-SAME:    (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x5x8xf32>, %[[V:.*]]: tensor<1x2x5x8xf32>, %[[M:.*]]: tensor<1x1x3x5xf32>)
// CHECK-NOT:     graph.expand
// CHECK:         %[[O:.*]] = graph.attention %[[Q]], %[[K]], %[[V]], %[[M]] {scale = 0.353553385 : f32} : tensor<1x4x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x1x3x5xf32> -> tensor<1x4x3x8xf32>
// CHECK-NEXT:    return %[[O]]
func.func @gqa_repeat_kv(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %m: tensor<1x1x3x5xf32>) -> tensor<1x4x3x8xf32> {
  %k1 = graph.reshape %k : tensor<1x2x5x8xf32> -> tensor<1x2x1x5x8xf32>
  %k2 = graph.expand %k1 : tensor<1x2x1x5x8xf32> -> tensor<1x2x2x5x8xf32>
  %k3 = graph.reshape %k2 : tensor<1x2x2x5x8xf32> -> tensor<1x4x5x8xf32>
  %v1 = graph.reshape %v : tensor<1x2x5x8xf32> -> tensor<1x2x1x5x8xf32>
  %v2 = graph.expand %v1 : tensor<1x2x1x5x8xf32> -> tensor<1x2x2x5x8xf32>
  %v3 = graph.reshape %v2 : tensor<1x2x2x5x8xf32> -> tensor<1x4x5x8xf32>
  %kt = graph.transpose %k3 {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x4x5x8xf32> -> tensor<1x4x8x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x4x3x8xf32>, tensor<1x4x8x5xf32> -> tensor<1x4x3x5xf32>
  %c = graph.constant {value = dense<0.353553385> : tensor<f32>} : tensor<f32>
  %sc = graph.mul %s, %c : tensor<1x4x3x5xf32>, tensor<f32> -> tensor<1x4x3x5xf32>
  %sm = graph.add %sc, %m : tensor<1x4x3x5xf32>, tensor<1x1x3x5xf32> -> tensor<1x4x3x5xf32>
  %p = graph.softmax %sm {axis = 3 : i64} : tensor<1x4x3x5xf32>
  %o = graph.matmul %p, %v3 : tensor<1x4x3x5xf32>, tensor<1x4x5x8xf32> -> tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// "Tile" order: [1,2,5,8] -> [1,1,2,5,8] -> expand [1,2,2,5,8] -> [1,4,5,8] makes query head h
// read kv head h % 2, not h / 2 as graph.attention does: the repeat must not be absorbed. The
// attention still fuses, reading the repeated 4-head tensors.
// CHECK-LABEL: func.func @tiled_heads_not_absorbed
// CHECK-SAME:    (%[[Q:.*]]: tensor<1x4x3x8xf32>, %[[K:.*]]: tensor<1x2x5x8xf32>, %[[V:.*]]: tensor<1x4x5x8xf32>)
// CHECK:         %[[K1:.*]] = graph.reshape %[[K]] : tensor<1x2x5x8xf32> -> tensor<1x1x2x5x8xf32>
// CHECK-NEXT:    %[[K2:.*]] = graph.expand %[[K1]]
// CHECK-NEXT:    %[[K3:.*]] = graph.reshape %[[K2]] : tensor<1x2x2x5x8xf32> -> tensor<1x4x5x8xf32>
// CHECK-NEXT:    %[[O:.*]] = graph.attention %[[Q]], %[[K3]], %[[V]] {scale = 1.000000e+00 : f32} : tensor<1x4x3x8xf32>, tensor<1x4x5x8xf32>, tensor<1x4x5x8xf32> -> tensor<1x4x3x8xf32>
// CHECK-NEXT:    return %[[O]]
func.func @tiled_heads_not_absorbed(%q: tensor<1x4x3x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x4x5x8xf32>) -> tensor<1x4x3x8xf32> {
  %k1 = graph.reshape %k : tensor<1x2x5x8xf32> -> tensor<1x1x2x5x8xf32>
  %k2 = graph.expand %k1 : tensor<1x1x2x5x8xf32> -> tensor<1x2x2x5x8xf32>
  %k3 = graph.reshape %k2 : tensor<1x2x2x5x8xf32> -> tensor<1x4x5x8xf32>
  %kt = graph.transpose %k3 {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x4x5x8xf32> -> tensor<1x4x8x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x4x3x8xf32>, tensor<1x4x8x5xf32> -> tensor<1x4x3x5xf32>
  %p = graph.softmax %s {axis = 3 : i64} : tensor<1x4x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x4x3x5xf32>, tensor<1x4x5x8xf32> -> tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// Negative: softmax over the query axis (2) is not attention.
// CHECK-LABEL: func.func @softmax_wrong_axis
// CHECK-NOT:     graph.attention
// CHECK:         graph.softmax
func.func @softmax_wrong_axis(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x4x4xf32>, %v: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %s = graph.matmul %q, %kt : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %p = graph.softmax %s {axis = 2 : i64} : tensor<1x2x4x4xf32>
  %o = graph.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}

// -----

// Negative: q k without the transpose of k (here k is square so the IR is valid).
// CHECK-LABEL: func.func @key_not_transposed
// CHECK-NOT:     graph.attention
// CHECK:         graph.softmax
func.func @key_not_transposed(%q: tensor<1x2x4x4xf32>, %k: tensor<1x2x4x4xf32>, %v: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %s = graph.matmul %q, %k : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  %p = graph.softmax %s {axis = 3 : i64} : tensor<1x2x4x4xf32>
  %o = graph.matmul %p, %v : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32> -> tensor<1x2x4x4xf32>
  return %o : tensor<1x2x4x4xf32>
}

// -----

// Negative: the scale is a runtime value, not a constant.
// CHECK-LABEL: func.func @dynamic_scale
// CHECK-NOT:     graph.attention
// CHECK:         graph.div
// CHECK:         graph.softmax
func.func @dynamic_scale(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %t: tensor<f32>) -> tensor<1x2x3x4xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x2x5x4xf32> -> tensor<1x2x4x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32> -> tensor<1x2x3x5xf32>
  %sd = graph.div %s, %t : tensor<1x2x3x5xf32>, tensor<f32> -> tensor<1x2x3x5xf32>
  %p = graph.softmax %sd {axis = 3 : i64} : tensor<1x2x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}

// -----

// Negative: the probabilities are also returned, so they must be materialized.
// CHECK-LABEL: func.func @probs_escape
// CHECK-NOT:     graph.attention
// CHECK:         graph.softmax
func.func @probs_escape(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>) -> (tensor<1x2x3x4xf32>, tensor<1x2x3x5xf32>) {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x2x5x4xf32> -> tensor<1x2x4x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32> -> tensor<1x2x3x5xf32>
  %p = graph.softmax %s {axis = 3 : i64} : tensor<1x2x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
  return %o, %p : tensor<1x2x3x4xf32>, tensor<1x2x3x5xf32>
}

// -----

// Negative: the mask broadcasts the single-head scores q k^T [1,1,3,5] to 4 heads, so the
// result has 4 heads while q has 1. graph.attention's result is [B, Hq, S, Dv] and cannot
// express this: the pattern must not fire (and must never build an op that fails to verify).
// CHECK-LABEL: func.func @mask_broadcasts_score_heads
// CHECK-NOT:     graph.attention
// CHECK:         graph.softmax
func.func @mask_broadcasts_score_heads(%q: tensor<1x1x3x8xf32>, %k: tensor<1x1x5x8xf32>, %v: tensor<1x1x5x8xf32>, %m: tensor<1x4x3x5xf32>) -> tensor<1x4x3x8xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x1x5x8xf32> -> tensor<1x1x8x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x1x3x8xf32>, tensor<1x1x8x5xf32> -> tensor<1x1x3x5xf32>
  %sm = graph.add %s, %m : tensor<1x1x3x5xf32>, tensor<1x4x3x5xf32> -> tensor<1x4x3x5xf32>
  %p = graph.softmax %sm {axis = 3 : i64} : tensor<1x4x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x4x3x5xf32>, tensor<1x1x5x8xf32> -> tensor<1x4x3x8xf32>
  return %o : tensor<1x4x3x8xf32>
}

// -----

// The add is commutative: a mask that is itself a product ((mask * -10000), as BERT-style
// exports compute it) on the left of the add must still be taken as the mask, with the scaled
// scores on the right.
// CHECK-LABEL: func.func @mul_mask_on_lhs
// CHECK-SAME:    (%[[Q:.*]]: tensor<1x2x3x4xf32>, %[[K:.*]]: tensor<1x2x5x4xf32>, %[[V:.*]]: tensor<1x2x5x4xf32>, %[[M:.*]]: tensor<1x1x1x5xf32>)
// CHECK:         %[[MM:.*]] = graph.mul %[[M]]
// CHECK-NEXT:    %[[O:.*]] = graph.attention %[[Q]], %[[K]], %[[V]], %[[MM]] {scale = 5.000000e-01 : f32}
// CHECK-NEXT:    return %[[O]]
func.func @mul_mask_on_lhs(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>, %v: tensor<1x2x5x4xf32>, %m: tensor<1x1x1x5xf32>) -> tensor<1x2x3x4xf32> {
  %kt = graph.transpose %k {permutation = array<i64: 0, 1, 3, 2>} : tensor<1x2x5x4xf32> -> tensor<1x2x4x5xf32>
  %s = graph.matmul %q, %kt : tensor<1x2x3x4xf32>, tensor<1x2x4x5xf32> -> tensor<1x2x3x5xf32>
  %c = graph.constant {value = dense<0.5> : tensor<f32>} : tensor<f32>
  %sc = graph.mul %s, %c : tensor<1x2x3x5xf32>, tensor<f32> -> tensor<1x2x3x5xf32>
  %big = graph.constant {value = dense<-10000.0> : tensor<f32>} : tensor<f32>
  %mm = graph.mul %m, %big : tensor<1x1x1x5xf32>, tensor<f32> -> tensor<1x1x1x5xf32>
  %sm = graph.add %mm, %sc : tensor<1x1x1x5xf32>, tensor<1x2x3x5xf32> -> tensor<1x2x3x5xf32>
  %p = graph.softmax %sm {axis = 3 : i64} : tensor<1x2x3x5xf32>
  %o = graph.matmul %p, %v : tensor<1x2x3x5xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}
