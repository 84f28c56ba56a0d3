// RUN: edgecc-opt --split-input-file --edgecc-plan-memory %s | FileCheck %s
// RUN: edgecc-opt --split-input-file --edgecc-plan-memory=alignment=16 %s | FileCheck %s --check-prefix=ALIGN16
// RUN: not edgecc-opt --edgecc-plan-memory=alignment=0 %s 2>&1 | FileCheck %s --check-prefix=BADALIGN

// Live ranges are op positions in the function body (0 = first op). A buffer lives from its
// exec.alloc to its last use, inclusive. Every planner runs and the smallest arena wins; on
// these programs all three tie, so the first, greedy by size, is kept: buffers are placed
// largest first (ties in definition order) at the lowest 64-byte aligned offset free of every
// buffer live at the same time. (ArenaPlannerTest has programs where the others win.)

// A chain exp -> copy -> copy of 256-byte buffers (copy never runs in place: see @in_place).
//   %a: alloc @0, last use @3 (copy)  -> live [0, 3]
//   %b: alloc @2, last use @5 (copy)  -> live [2, 5]
//   %c: alloc @4, last use @6 (copy)  -> live [4, 6]
// CHECK-LABEL: module attributes {exec.arena_bytes = 512 : i64, exec.arena_planner = "greedy_by_size", exec.arena_planners = {best_fit_in_order = 512 : i64, greedy_by_breadth = 512 : i64, greedy_by_size = 512 : i64}}
// CHECK-LABEL: func.func @reuse_dead_buffer
// %a first: nothing placed yet, so +0.
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// %b: 256 B live with %a, so placed after it at +256.
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
// %c: %a is dead by @4, only %b (+256..+512) overlaps in time, so %c reuses +0.
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// Arena = 2 x 256 = 512 (module attribute, checked above).
func.func @reuse_dead_buffer(%in: memref<64xf32>, %out: memref<64xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %b = exec.alloc : memref<64xf32>
  exec.call "copy" ins(%a : memref<64xf32>) outs(%b : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %c = exec.alloc : memref<64xf32>
  exec.call "copy" ins(%b : memref<64xf32>) outs(%c : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "copy" ins(%c : memref<64xf32>) outs(%out : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// A view extends its source's life: %a is only read through %v, at @5.
//   %a: alloc @0, view @2, %v read @5 -> live [0, 5] (without following the view: [0, 2])
//   %b: alloc @3, last use @5         -> live [3, 5]
// CHECK-LABEL: module attributes {exec.arena_bytes = 512 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @view_keeps_source_alive
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// CHECK:         exec.view
// %b overlaps %a in time through the view, so it must not share +0: placed at +256.
// CHECK:         exec.alloc {offset = 256 : i64} : memref<8x8xf32>
func.func @view_keeps_source_alive(%in: memref<64xf32>, %out: memref<8x8xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %v = exec.view %a : memref<64xf32> -> memref<8x8xf32>
  %b = exec.alloc : memref<8x8xf32>
  exec.call "copy" ins(%in : memref<64xf32>) outs(%b : memref<8x8xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "add" ins(%v, %b : memref<8x8xf32>, memref<8x8xf32>) outs(%out : memref<8x8xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// Views of views are followed too: %a is last read through %w at @6.
//   %a: [0, 6] (view @2, view-of-view @3, %w read @6); %b: [4, 6]
// CHECK-LABEL: func.func @view_of_view
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
func.func @view_of_view(%in: memref<64xf32>, %out: memref<64xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %v = exec.view %a : memref<64xf32> -> memref<8x8xf32>
  %w = exec.view %v : memref<8x8xf32> -> memref<64xf32>
  %b = exec.alloc : memref<64xf32>
  exec.call "neg" ins(%in : memref<64xf32>) outs(%b : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "add" ins(%w, %b : memref<64xf32>, memref<64xf32>) outs(%out : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// Largest first, and a dead buffer's slot is taken over by a later buffer.
//   %a 256 B [0, 7]   %b 256 B [2, 3]   %c 256 B [4, 7]   %d 128 B [5, 7]   %e 1024 B [8, 9]
// Placement order by size: %e, %a, %b, %c, %d.
// CHECK-LABEL: module attributes {exec.arena_bytes = 1024 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @largest_first_and_holes
// %a: only %e is placed and it is not live with %a: +0.
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// %b: live with %a (+0..+256): +256.
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
// %c: live with %a but not %b (dead after @3): reuses %b's +256.
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
// %d: live with %a (+0..+256) and %c (+256..+512): first free offset is +512.
// CHECK:         exec.alloc {offset = 512 : i64} : memref<32xf32>
// %e: placed first, at +0; it is live with no other buffer, so the arena is just its 1024 B.
// CHECK:         exec.alloc {offset = 0 : i64} : memref<256xf32>
func.func @largest_first_and_holes(%in: memref<64xf32>, %out: memref<256xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %b = exec.alloc : memref<64xf32>
  exec.call "neg" ins(%in : memref<64xf32>) outs(%b : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %c = exec.alloc : memref<64xf32>
  %d = exec.alloc : memref<32xf32>
  exec.call "slice" ins(%c : memref<64xf32>) outs(%d : memref<32xf32>) {floats = array<f32>, ints = array<i64: 0, 2>}
  exec.call "concat" ins(%a, %c, %d : memref<64xf32>, memref<64xf32>, memref<32xf32>) outs(%out : memref<256xf32>) {floats = array<f32>, ints = array<i64: 0>}
  %e = exec.alloc : memref<256xf32>
  exec.call "copy" ins(%out : memref<256xf32>) outs(%e : memref<256xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// A hole that fits: once %b is dead, %d goes into its old slot +256..+512 between %a and %c
// instead of after %c.
//   %a 256 B [0, 8]   %b 256 B [1, 4]   %c 256 B [2, 8]   %d 128 B [5, 8]
// CHECK-LABEL: module attributes {exec.arena_bytes = 768 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @fill_hole
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
// CHECK:         exec.alloc {offset = 512 : i64} : memref<64xf32>
// %d: live with %a (+0..+256) and %c (+512..+768) but not %b: +256 is free.
// CHECK:         exec.alloc {offset = 256 : i64} : memref<32xf32>
func.func @fill_hole(%in: memref<64xf32>, %out: memref<64xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  %b = exec.alloc : memref<64xf32>
  %c = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%b : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "pow" ins(%b, %in : memref<64xf32>, memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %d = exec.alloc : memref<32xf32>
  exec.call "slice" ins(%in : memref<64xf32>) outs(%d : memref<32xf32>) {floats = array<f32>, ints = array<i64: 0, 2>}
  exec.call "neg" ins(%in : memref<64xf32>) outs(%c : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "concat" ins(%a, %c, %d : memref<64xf32>, memref<64xf32>, memref<32xf32>) outs(%out : memref<64xf32>) {floats = array<f32>, ints = array<i64: 0>}
  return
}

// -----

// Sizes that are no multiple of the alignment: 20 B (5 x f32) and 12 B (3 x f32), live together.
// CHECK-LABEL: module attributes {exec.arena_bytes = 128 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @alignment
// 20 B placed first at +0; 12 B goes to align(20) = +64; arena = align(64 + 12) = 128.
// CHECK:         exec.alloc {offset = 0 : i64} : memref<5xf32>
// CHECK:         exec.alloc {offset = 64 : i64} : memref<3xf32>
// With alignment=16: 12 B at align(20) = +32; arena = align(32 + 12) = 48.
// ALIGN16-LABEL: module attributes {exec.arena_bytes = 48 : i64,
// ALIGN16-LABEL: func.func @alignment
// ALIGN16:         exec.alloc {offset = 0 : i64} : memref<5xf32>
// ALIGN16:         exec.alloc {offset = 32 : i64} : memref<3xf32>
func.func @alignment(%in: memref<5xf32>, %out: memref<8xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<5xf32>
  %b = exec.alloc : memref<3xf32>
  exec.call "exp" ins(%in : memref<5xf32>) outs(%a : memref<5xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "slice" ins(%in : memref<5xf32>) outs(%b : memref<3xf32>) {floats = array<f32>, ints = array<i64: 0, 2>}
  exec.call "concat" ins(%a, %b : memref<5xf32>, memref<3xf32>) outs(%out : memref<8xf32>) {floats = array<f32>, ints = array<i64: 0>}
  return
}

// -----

// Element sizes: i64 is 8 B, i1 is stored as one byte per element.
//   %a 10 x i64 = 80 B at +0; %b 10 x i1 = 10 B, live with %a, at align(80) = +128;
//   arena = align(128 + 10) = 192.
// CHECK-LABEL: module attributes {exec.arena_bytes = 192 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @element_sizes
// CHECK:         exec.alloc {offset = 0 : i64} : memref<10xi64>
// CHECK:         exec.alloc {offset = 128 : i64} : memref<10xi1>
func.func @element_sizes(%in: memref<10xi64>, %out: memref<10xi1>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<10xi64>
  %b = exec.alloc : memref<10xi1>
  exec.call "neg" ins(%in : memref<10xi64>) outs(%a : memref<10xi64>) {floats = array<f32>, ints = array<i64>}
  exec.call "cast" ins(%a : memref<10xi64>) outs(%b : memref<10xi1>) {floats = array<f32>, ints = array<i64>}
  exec.call "logical_not" ins(%b : memref<10xi1>) outs(%out : memref<10xi1>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// Functions are planned independently; the arena is the largest of their needs:
// @small needs 256 B, @large 2 x 1024 = 2048 B.
// CHECK-LABEL: module attributes {exec.arena_bytes = 2048 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @small
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// CHECK-LABEL: func.func @large
// CHECK:         exec.alloc {offset = 0 : i64} : memref<256xf32>
// CHECK:         exec.alloc {offset = 1024 : i64} : memref<256xf32>
func.func @small(%in: memref<64xf32>, %out: memref<64xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "neg" ins(%a : memref<64xf32>) outs(%out : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  return
}
func.func @large(%in: memref<256xf32>, %out: memref<256xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<256xf32>
  exec.call "exp" ins(%in : memref<256xf32>) outs(%a : memref<256xf32>) {floats = array<f32>, ints = array<i64>}
  %b = exec.alloc : memref<256xf32>
  exec.call "copy" ins(%a : memref<256xf32>) outs(%b : memref<256xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "relu" ins(%b : memref<256xf32>) outs(%out : memref<256xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// In place: an elementwise kernel's output takes over an input buffer of its shape and type
// that dies at the call (runtime/kernels/kernels.h lists the kernels that allow it).
//   ops: 0 alloc %a, 1 exp, 2 alloc %b, 3 neg, 4 alloc %c, 5 mul, 6 alloc %d, 7 add, 8 copy
//   %a [0, 3]   %b [2, 7]   %c [4, 7]   %d [6, 8], 256 B each
// neg: %a dies there, so %b takes its slot. mul: %b is read again later (by add), so %c gets
// its own. add: %b dies there, so %d takes the slot too. One slot for %a, %b, %d over [0, 8],
// %c beside it: arena 512 (768 without sharing: %a, %b and %c are live together at @3..4).
// CHECK-LABEL: module attributes {exec.arena_bytes = 512 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @in_place
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xf32>
func.func @in_place(%in: memref<64xf32>, %out: memref<64xf32>) attributes {exec.num_inputs = 1 : i64} {
  %a = exec.alloc : memref<64xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %b = exec.alloc : memref<64xf32>
  exec.call "neg" ins(%a : memref<64xf32>) outs(%b : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %c = exec.alloc : memref<64xf32>
  exec.call "mul" ins(%b, %in : memref<64xf32>, memref<64xf32>) outs(%c : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  %d = exec.alloc : memref<64xf32>
  exec.call "add" ins(%b, %c : memref<64xf32>, memref<64xf32>) outs(%d : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "copy" ins(%d : memref<64xf32>) outs(%out : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// An input of another shape (a broadcast operand) or element type is never taken over: %b
// (4 floats) and %c (64 x i32, 256 B like %a) both die at the add, and %a takes neither.
// Largest first: %c +0, %a +256 (live with %c at @4..5), %b +512: arena 576.
// CHECK-LABEL: module attributes {exec.arena_bytes = 576 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @not_in_place
// CHECK:         exec.alloc {offset = 512 : i64} : memref<4xf32>
// CHECK:         exec.alloc {offset = 0 : i64} : memref<64xi32>
// CHECK:         exec.alloc {offset = 256 : i64} : memref<64xf32>
func.func @not_in_place(%in: memref<64xf32>, %out: memref<64xf32>) attributes {exec.num_inputs = 1 : i64} {
  %b = exec.alloc : memref<4xf32>
  exec.call "exp" ins(%in : memref<64xf32>) outs(%b : memref<4xf32>) {floats = array<f32>, ints = array<i64>}
  %c = exec.alloc : memref<64xi32>
  exec.call "cast" ins(%in : memref<64xf32>) outs(%c : memref<64xi32>) {floats = array<f32>, ints = array<i64>}
  %a = exec.alloc : memref<64xf32>
  exec.call "add" ins(%c, %b : memref<64xi32>, memref<4xf32>) outs(%a : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  exec.call "copy" ins(%a : memref<64xf32>) outs(%out : memref<64xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// -----

// No allocs at all: an empty arena.
// CHECK-LABEL: module attributes {exec.arena_bytes = 0 : i64, exec.arena_planner = "greedy_by_size"
// CHECK-LABEL: func.func @no_allocs
func.func @no_allocs(%in: memref<4xf32>, %out: memref<4xf32>) attributes {exec.num_inputs = 1 : i64} {
  exec.call "exp" ins(%in : memref<4xf32>) outs(%out : memref<4xf32>) {floats = array<f32>, ints = array<i64>}
  return
}

// An alignment of 0 is meaningless: the pass must reject it with an error, not divide by zero.
// BADALIGN: alignment
// BADALIGN-NOT: Stack dump
