// Portable fused normalizations. LayerNorm statistics accumulate in float like PyTorch's CPU
// kernels; RMSNorm sums squares in double as llama.cpp does (the LLM path's reference).
#include <algorithm>
#include <cmath>

#include "runtime/kernels/kernels.h"
#include "runtime/parallel.h"

namespace ek {

void layer_norm(const Tensor* in, int n_in, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  int64_t rows = 1, cols = 1;
  for (int d = 0; d < x.rank; ++d) (d < a.i[0] ? rows : cols) *= x.dims[d];
  const float eps = a.f[0];
  const float* w = in[1].as<float>();
  const float* b = n_in > 2 ? in[2].as<float>() : nullptr;
  const float* src = x.as<float>();
  float* dst = out[0].as<float>();
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * cols;
    float* d = dst + r * cols;
    float mean = 0.f;
    for (int64_t c = 0; c < cols; ++c) mean += s[c];
    mean /= float(cols);
    float var = 0.f;
    for (int64_t c = 0; c < cols; ++c) var += (s[c] - mean) * (s[c] - mean);
    var /= float(cols);
    const float inv = 1.f / std::sqrt(var + eps);
    for (int64_t c = 0; c < cols; ++c) d[c] = (s[c] - mean) * inv * w[c] + (b ? b[c] : 0.f);
  }
}

void rms_norm(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  const int64_t cols = x.dims[x.rank - 1], rows = cols ? x.numel() / cols : 0;
  const float eps = a.f[0];
  const float* w = in[1].as<float>();
  const float* src = x.as<float>();
  float* dst = out[0].as<float>();
  // Rows are independent: a prefill's are split across threads.
  parallel_for(rows, std::max<int64_t>(1, 8192 / std::max<int64_t>(cols, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* s = src + r * cols;
      float* d = dst + r * cols;
      double ss = 0.0;
      for (int64_t c = 0; c < cols; ++c) ss += double(s[c] * s[c]);
      const float mean = float(ss / double(cols));
      const float inv = 1.f / std::sqrt(mean + eps);
      for (int64_t c = 0; c < cols; ++c) d[c] = s[c] * inv * w[c];
    }
  });
}

}  // namespace ek
