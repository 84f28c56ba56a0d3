// RUN: edgecc-opt --split-input-file --verify-diagnostics %s

// Valid LLM ops parse and verify: K = 64 is 2 blocks, 68 bytes per Q8_0 row and 36 per Q4_0
// row; f16/f32 rows are [N, K] of their type.
func.func @valid_linear(%x: tensor<2x3x64xf32>, %w8: tensor<5x68xi8>, %w4: tensor<5x36xi8>, %wh: tensor<5x64xf16>, %wf: tensor<5x64xf32>)
    -> (tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>) {
  %0 = graph.linear %x, %w8 {format = "q8_0"} : tensor<2x3x64xf32>, tensor<5x68xi8> -> tensor<2x3x5xf32>
  %1 = graph.linear %x, %w4 {format = "q4_0"} : tensor<2x3x64xf32>, tensor<5x36xi8> -> tensor<2x3x5xf32>
  %2 = graph.linear %x, %wh {format = "f16"} : tensor<2x3x64xf32>, tensor<5x64xf16> -> tensor<2x3x5xf32>
  %3 = graph.linear %x, %wf {format = "f32"} : tensor<2x3x64xf32>, tensor<5x64xf32> -> tensor<2x3x5xf32>
  return %0, %1, %2, %3 : tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>, tensor<2x3x5xf32>
}

// -----

func.func @valid_embedding(%t: tensor<100x36xi8>, %ids: tensor<1x7xi32>, %t16: tensor<100x64xf16>, %ids64: tensor<7xi64>)
    -> (tensor<1x7x64xf32>, tensor<7x64xf32>) {
  %0 = graph.embedding %t, %ids {format = "q4_0"} : tensor<100x36xi8>, tensor<1x7xi32> -> tensor<1x7x64xf32>
  %1 = graph.embedding %t16, %ids64 {format = "f16"} : tensor<100x64xf16>, tensor<7xi64> -> tensor<7x64xf32>
  return %0, %1 : tensor<1x7x64xf32>, tensor<7x64xf32>
}

// -----

func.func @valid_rope_and_cache(%x: tensor<1x2x3x8xf32>, %pos: tensor<3xi64>, %u: tensor<1x2x3x8xf32>)
    -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = true} : tensor<1x2x3x8xf32>, tensor<3xi64> -> tensor<1x2x3x8xf32>
  %c = graph.kv_cache {slot = 0 : i64, capacity = 16 : i64} : tensor<1x2x0x8xf32>
  %k = graph.kv_append %c, %u : tensor<1x2x0x8xf32>, tensor<1x2x3x8xf32> -> tensor<1x2x3x8xf32>
  %1 = graph.attention %0, %k, %k {scale = 0.5 : f32, causal} : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32> -> tensor<1x2x3x8xf32>
  return %0, %1 : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

func.func @linear_format_vs_type(%x: tensor<2x64xf32>, %w: tensor<5x64xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{'graph.linear' op weight format 'q8_0' does not match element type 'f32'}}
  %0 = graph.linear %x, %w {format = "q8_0"} : tensor<2x64xf32>, tensor<5x64xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_f16_format_f32_weight(%x: tensor<2x64xf32>, %w: tensor<5x64xf32>) -> tensor<2x5xf32> {
  // expected-error @+1 {{weight format 'f16' does not match element type 'f32'}}
  %0 = graph.linear %x, %w {format = "f16"} : tensor<2x64xf32>, tensor<5x64xf32> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_unknown_format(%x: tensor<2x64xf32>, %w: tensor<5x40xi8>) -> tensor<2x5xf32> {
  // expected-error @+1 {{weight format 'q5_0' does not match element type 'i8'}}
  %0 = graph.linear %x, %w {format = "q5_0"} : tensor<2x64xf32>, tensor<5x40xi8> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// K = 48 is not a whole number of 32-value blocks.
func.func @linear_k_not_blocks(%x: tensor<2x48xf32>, %w: tensor<5x27xi8>) -> tensor<2x5xf32> {
  // expected-error @+1 {{row of 48 values cannot be stored as q4_0}}
  %0 = graph.linear %x, %w {format = "q4_0"} : tensor<2x48xf32>, tensor<5x27xi8> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_q8_k_not_blocks(%x: tensor<2x40xf32>, %w: tensor<5x42xi8>) -> tensor<2x5xf32> {
  // expected-error @+1 {{row of 40 values cannot be stored as q8_0}}
  %0 = graph.linear %x, %w {format = "q8_0"} : tensor<2x40xf32>, tensor<5x42xi8> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Q8_0 rows of 64 values take 2 x 34 = 68 bytes, not 64.
func.func @linear_q8_row_bytes(%x: tensor<2x64xf32>, %w: tensor<5x64xi8>) -> tensor<2x5xf32> {
  // expected-error @+1 {{weight rows hold 64 bytes, q8_0 rows of 64 need 68}}
  %0 = graph.linear %x, %w {format = "q8_0"} : tensor<2x64xf32>, tensor<5x64xi8> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_f16_row_bytes(%x: tensor<2x64xf32>, %w: tensor<5x32xf16>) -> tensor<2x5xf32> {
  // expected-error @+1 {{weight rows hold 64 bytes, f16 rows of 64 need 128}}
  %0 = graph.linear %x, %w {format = "f16"} : tensor<2x64xf32>, tensor<5x32xf16> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_weight_rank(%x: tensor<2x64xf32>, %w: tensor<5x2x34xi8>) -> tensor<2x5xf32> {
  // expected-error @+1 {{weight must be rank 2}}
  %0 = graph.linear %x, %w {format = "q8_0"} : tensor<2x64xf32>, tensor<5x2x34xi8> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @linear_wrong_n(%x: tensor<2x64xf32>, %w: tensor<5x68xi8>) -> tensor<2x6xf32> {
  // expected-error @+1 {{result's last dim must be the weight's rows}}
  %0 = graph.linear %x, %w {format = "q8_0"} : tensor<2x64xf32>, tensor<5x68xi8> -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @linear_leading_dims(%x: tensor<2x64xf32>, %w: tensor<5x68xi8>) -> tensor<3x5xf32> {
  // expected-error @+1 {{leading dims differ}}
  %0 = graph.linear %x, %w {format = "q8_0"} : tensor<2x64xf32>, tensor<5x68xi8> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @linear_f16_input(%x: tensor<2x64xf16>, %w: tensor<5x64xf16>) -> tensor<2x5xf32> {
  // expected-error @+1 {{input and result must be f32}}
  %0 = graph.linear %x, %w {format = "f16"} : tensor<2x64xf16>, tensor<5x64xf16> -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

func.func @embedding_float_ids(%t: tensor<10x64xf32>, %ids: tensor<3xf32>) -> tensor<3x64xf32> {
  // expected-error @+1 {{'graph.embedding' op indices must be i32 or i64}}
  %0 = graph.embedding %t, %ids {format = "f32"} : tensor<10x64xf32>, tensor<3xf32> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// -----

// Q4_0 rows of 64 values take 2 x 18 = 36 bytes.
func.func @embedding_q4_row_bytes(%t: tensor<10x34xi8>, %ids: tensor<3xi64>) -> tensor<3x64xf32> {
  // expected-error @+1 {{weight rows hold 34 bytes, q4_0 rows of 64 need 36}}
  %0 = graph.embedding %t, %ids {format = "q4_0"} : tensor<10x34xi8>, tensor<3xi64> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// -----

func.func @embedding_format_vs_type(%t: tensor<10x64xf16>, %ids: tensor<3xi64>) -> tensor<3x64xf32> {
  // expected-error @+1 {{weight format 'f32' does not match element type 'f16'}}
  %0 = graph.embedding %t, %ids {format = "f32"} : tensor<10x64xf16>, tensor<3xi64> -> tensor<3x64xf32>
  return %0 : tensor<3x64xf32>
}

// -----

func.func @embedding_result_shape(%t: tensor<10x64xf32>, %ids: tensor<3xi64>) -> tensor<4x64xf32> {
  // expected-error @+1 {{result must be [indices..., D]}}
  %0 = graph.embedding %t, %ids {format = "f32"} : tensor<10x64xf32>, tensor<3xi64> -> tensor<4x64xf32>
  return %0 : tensor<4x64xf32>
}

// -----

func.func @embedding_q8_d_not_blocks(%t: tensor<10x34xi8>, %ids: tensor<3xi64>) -> tensor<3x48xf32> {
  // expected-error @+1 {{row of 48 values cannot be stored as q8_0}}
  %0 = graph.embedding %t, %ids {format = "q8_0"} : tensor<10x34xi8>, tensor<3xi64> -> tensor<3x48xf32>
  return %0 : tensor<3x48xf32>
}

// -----

func.func @rope_odd_head_dim(%x: tensor<1x2x3x7xf32>, %pos: tensor<3xi64>) -> tensor<1x2x3x7xf32> {
  // expected-error @+1 {{'graph.rope' op head dim must be static, even and at most 1024}}
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = false} : tensor<1x2x3x7xf32>, tensor<3xi64> -> tensor<1x2x3x7xf32>
  return %0 : tensor<1x2x3x7xf32>
}

// -----

// The kernel keeps cos/sin for at most 512 pairs on the stack.
func.func @rope_head_dim_too_large(%x: tensor<1x1x1x1026xf32>, %pos: tensor<1xi64>) -> tensor<1x1x1x1026xf32> {
  // expected-error @+1 {{head dim must be static, even and at most 1024}}
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = false} : tensor<1x1x1x1026xf32>, tensor<1xi64> -> tensor<1x1x1x1026xf32>
  return %0 : tensor<1x1x1x1026xf32>
}

// -----

func.func @rope_i32_positions(%x: tensor<1x2x3x8xf32>, %pos: tensor<3xi32>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{positions must be i64 [S]}}
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = false} : tensor<1x2x3x8xf32>, tensor<3xi32> -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

func.func @rope_positions_rank(%x: tensor<1x2x3x8xf32>, %pos: tensor<1x3xi64>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{positions must be i64 [S]}}
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = false} : tensor<1x2x3x8xf32>, tensor<1x3xi64> -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

func.func @rope_positions_count(%x: tensor<1x2x3x8xf32>, %pos: tensor<4xi64>) -> tensor<1x2x3x8xf32> {
  // expected-error @+1 {{positions must have one entry per row}}
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = false} : tensor<1x2x3x8xf32>, tensor<4xi64> -> tensor<1x2x3x8xf32>
  return %0 : tensor<1x2x3x8xf32>
}

// -----

func.func @rope_rank(%x: tensor<2x3x8xf32>, %pos: tensor<3xi64>) -> tensor<2x3x8xf32> {
  // expected-error @+1 {{input must be [B, H, S, D]}}
  %0 = graph.rope %x, %pos {theta = 10000.0 : f32, interleaved = false} : tensor<2x3x8xf32>, tensor<3xi64> -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// The cache must be the bundle's own (graph.kv_cache), not any tensor.
func.func @append_to_input(%c: tensor<1x2x4x8xf32>, %u: tensor<1x2x1x8xf32>) -> tensor<1x2x5x8xf32> {
  // expected-error @+1 {{'graph.kv_append' op cache must come from graph.kv_cache}}
  %0 = graph.kv_append %c, %u : tensor<1x2x4x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x5x8xf32>
}

// -----

func.func @append_heads_differ(%u: tensor<1x3x1x8xf32>) -> tensor<1x2x5x8xf32> {
  %c = graph.kv_cache {slot = 0 : i64, capacity = 16 : i64} : tensor<1x2x4x8xf32>
  // expected-error @+1 {{cache, update and result differ in dim 1}}
  %0 = graph.kv_append %c, %u : tensor<1x2x4x8xf32>, tensor<1x3x1x8xf32> -> tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x5x8xf32>
}

// -----

func.func @append_element_type(%u: tensor<1x2x1x8xf16>) -> tensor<1x2x5x8xf32> {
  %c = graph.kv_cache {slot = 0 : i64, capacity = 16 : i64} : tensor<1x2x4x8xf32>
  // expected-error @+1 {{element type 'f16' differs from 'f32'}}
  %0 = graph.kv_append %c, %u : tensor<1x2x4x8xf32>, tensor<1x2x1x8xf16> -> tensor<1x2x5x8xf32>
  return %0 : tensor<1x2x5x8xf32>
}

// -----

func.func @append_rows_do_not_add_up(%u: tensor<1x2x1x8xf32>) -> tensor<1x2x9x8xf32> {
  %c = graph.kv_cache {slot = 0 : i64, capacity = 16 : i64} : tensor<1x2x4x8xf32>
  // expected-error @+1 {{result rows must be the cache's plus the update's}}
  %0 = graph.kv_append %c, %u : tensor<1x2x4x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x9x8xf32>
  return %0 : tensor<1x2x9x8xf32>
}

// -----

func.func @cache_negative_slot() -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{slot must be >= 0}}
  %c = graph.kv_cache {slot = -1 : i64, capacity = 16 : i64} : tensor<1x2x4x8xf32>
  return %c : tensor<1x2x4x8xf32>
}

// -----

func.func @cache_no_capacity() -> tensor<1x2x4x8xf32> {
  // expected-error @+1 {{capacity must be >= 1}}
  %c = graph.kv_cache {slot = 0 : i64, capacity = 0 : i64} : tensor<1x2x4x8xf32>
  return %c : tensor<1x2x4x8xf32>
}

// -----

func.func @cache_over_capacity() -> tensor<1x2x20x8xf32> {
  // expected-error @+1 {{holds more rows than its capacity}}
  %c = graph.kv_cache {slot = 0 : i64, capacity = 16 : i64} : tensor<1x2x20x8xf32>
  return %c : tensor<1x2x20x8xf32>
}
