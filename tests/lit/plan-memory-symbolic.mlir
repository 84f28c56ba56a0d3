// RUN: edgecc-opt --edgecc-plan-memory %s | FileCheck %s

// Symbolic dims are planned at their bounds: seq <= 16, so memref<?x4xf32> with dims
// (seq, 4) takes 16 x 4 x 4 B = 256 B, and (seq + 1, 4) takes 17 x 16 B = 272 B.
// CHECK-LABEL: module attributes {exec.arena_bytes = 576 : i64
// %b (272 B, larger) is placed first at +0; %a (256 B) is live with it, so it goes to
// align64(272) = +320. Arena = 320 + 256 = 576.
// CHECK:         exec.alloc {dims = {{.*}}, offset = 320 : i64} : memref<?x4xf32>
// CHECK:         exec.alloc {dims = {{.*}}, offset = 0 : i64} : memref<?x4xf32>
module attributes {graph.symbols = ["seq"], graph.symbol_bounds = array<i64: 16>} {
  func.func @main(%in: memref<?x4xf32> {exec.dims = affine_map<()[s0] -> (s0, 4)>},
                  %out: memref<?x4xf32> {exec.dims = affine_map<()[s0] -> (s0 + 1, 4)>}) attributes {exec.num_inputs = 1 : i64} {
    %a = exec.alloc {dims = affine_map<()[s0] -> (s0, 4)>} : memref<?x4xf32>
    exec.call "exp" ins(%in : memref<?x4xf32>) outs(%a : memref<?x4xf32>) {floats = array<f32>, ints = array<i64>}
    %b = exec.alloc {dims = affine_map<()[s0] -> (s0 + 1, 4)>} : memref<?x4xf32>
    exec.call "neg" ins(%a : memref<?x4xf32>) outs(%b : memref<?x4xf32>) {floats = array<f32>, ints = array<i64>}
    exec.call "copy" ins(%b : memref<?x4xf32>) outs(%out : memref<?x4xf32>) {floats = array<f32>, ints = array<i64>}
    return
  }
}
