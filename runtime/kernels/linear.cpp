// y = x W^T with W kept as stored (f32, f16, Q8_0, Q4_0 rows, k-quant super-blocks): the
// matmul of LLM weights. Rows of W are split across threads; each output is one contiguous
// dot product. For quantized weights the activations are quantized to 8 bits first, as
// llama.cpp does.
#include <algorithm>
#include <vector>

#include "runtime/kernels/ggml_blocks.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/kquant_blocks.h"
#include "runtime/kernels/linear_packed.h"
#include "runtime/parallel.h"

namespace ek {

// k-quant rows: each super-block is decoded once and meets every row of x while it is hot.
static void linear_k_quant(WeightFormat f, const float* X, int64_t M, int64_t K, const uint8_t* W, int64_t N, float* Y) {
  const int64_t blocks = K / kSuperBlockValues, stride = row_bytes(f, K), bytes = block_bytes(f);
  static thread_local std::vector<int8_t> q_scratch;  // as in linear(): per-thread reuse
  static thread_local std::vector<float> d_scratch;
  static thread_local std::vector<int16_t> sums_scratch;
  q_scratch.resize(size_t(M * K));
  d_scratch.resize(size_t(M * blocks));
  sums_scratch.resize(size_t(M * blocks * kGroups));
  int8_t* q = q_scratch.data();
  float* d = d_scratch.data();
  int16_t* sums = sums_scratch.data();
  for (int64_t m = 0; m < M; ++m) quantize_row_q8_k(X + m * K, K, q + m * K, d + m * blocks, sums + m * blocks * kGroups);
  parallel_for(N, 16, [&](int64_t begin, int64_t end) {
    static thread_local std::vector<float> acc;
    acc.resize(size_t(M));
    KQuantBlock w;
    for (int64_t n = begin; n < end; ++n) {
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int64_t b = 0; b < blocks; ++b) {
        decode_k_block(f, W + n * stride + b * bytes, &w);
        for (int64_t m = 0; m < M; ++m)
          acc[size_t(m)] += k_block_dot(w, q + m * K + b * kSuperBlockValues, d[m * blocks + b], sums + (m * blocks + b) * kGroups);
      }
      for (int64_t m = 0; m < M; ++m) Y[m * N + n] = acc[size_t(m)];
    }
  });
}

// in: x [..., K] f32, w [N, row bytes]; i[0] = WeightFormat (packed formats: see
// linear_packed.h for the other slots).
void linear(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const WeightFormat f = WeightFormat(a.i[0]);
  if (is_packed(f)) return linear_packed(in, out, a, reference_tile);
  const Tensor &x = in[0], &w = in[1];
  const int64_t K = x.dims[x.rank - 1], N = w.dims[0], M = K ? x.numel() / K : 0;
  const int64_t stride = row_bytes(f, K);
  const float* X = x.as<float>();
  const uint8_t* W = static_cast<const uint8_t*>(w.data);
  float* Y = out[0].as<float>();
  if (is_k_quant(f)) return linear_k_quant(f, X, M, K, W, N, Y);
  if (f == WeightFormat::Q8_0 || f == WeightFormat::Q4_0) {
    // Scratch reused across calls (a decode step makes hundreds of them); the workers see it
    // through these pointers, not by name: each thread has its own thread_local.
    static thread_local std::vector<int8_t> q_scratch;
    static thread_local std::vector<float> d_scratch;
    q_scratch.resize(size_t(M * K));
    d_scratch.resize(size_t(M * K / kBlockValues));
    int8_t* q = q_scratch.data();
    float* d = d_scratch.data();
    for (int64_t m = 0; m < M; ++m) quantize_row_q8(X + m * K, K, q + m * K, d + m * K / kBlockValues);
    parallel_for(N, 16, [&](int64_t begin, int64_t end) {
      for (int64_t n = begin; n < end; ++n)  // each weight row is read once, for every row of x
        for (int64_t m = 0; m < M; ++m)
          Y[m * N + n] = row_dot_q8(f, W + n * stride, q + m * K, d + m * K / kBlockValues, K);
    });
    return;
  }
  parallel_for(N, 16, [&](int64_t begin, int64_t end) {
    for (int64_t n = begin; n < end; ++n)
      for (int64_t m = 0; m < M; ++m) Y[m * N + n] = row_dot(f, W + n * stride, X + m * K, K);
  });
}

// in: table [V, row bytes], ids (i32 or i64) [...]; out f32 [..., D]; i[0] = WeightFormat.
// An id outside the table yields a zero row: callers check ids (the LLM API reports them).
void embedding(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const WeightFormat f = WeightFormat(a.i[0]);
  const Tensor &table = in[0], &ids = in[1];
  const int64_t D = out[0].dims[out[0].rank - 1], V = table.dims[0], n = ids.numel();
  float* Y = out[0].as<float>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t id = ids.dtype == DType::I32 ? int64_t(ids.as<int32_t>()[i]) : ids.as<int64_t>()[i];
    if (id < 0 || id >= V) {
      for (int64_t d = 0; d < D; ++d) Y[i * D + d] = 0.f;
      continue;
    }
    row_values_at(f, static_cast<const uint8_t*>(table.data), id, Y + i * D, D);
  }
}

}  // namespace ek
