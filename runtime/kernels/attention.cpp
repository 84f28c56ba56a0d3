// Portable fused attention: softmax(q k^T * scale + mask) v, with grouped-query heads
// (query head h reads kv head h / (H / Hkv)). Streams over keys with an online softmax so
// no S x T score matrix is materialized.
#include <cmath>
#include <limits>

#include "runtime/kernels/kernels.h"
#include "runtime/parallel.h"

namespace ek {

void attention(const Tensor* in, int n_in, Tensor* out, const Attrs& a) {
  const Tensor &q = in[0], &k = in[1], &v = in[2];
  const int64_t B = q.dims[0], H = q.dims[1], S = q.dims[2], D = q.dims[3];
  const int64_t Hkv = k.dims[1], C = k.dims[2], Dv = v.dims[3];
  const int64_t T = a.i[1] > 0 && a.i[1] < C ? a.i[1] : C;  // keys in use; a cache has room for C
  const bool causal = a.i[0] != 0;
  const int64_t group = H / Hkv;
  const float scale = a.f[0];
  // Mask strides, right-aligned to [B, H, S, T]; broadcast dims get stride 0.
  const float* mask = n_in > 3 ? in[3].as<float>() : nullptr;
  int64_t ms[4] = {0, 0, 0, 0};
  if (mask) {
    const Tensor& m = in[3];
    int64_t s = 1;
    for (int d = 3; d >= 0; --d) {
      int md = d - (4 - m.rank);
      if (md < 0) continue;
      ms[d] = m.dims[md] == 1 ? 0 : s;
      s *= m.dims[md];
    }
  }
  float* y = out[0].as<float>();
  // Query heads are independent: split them across threads.
  parallel_for(B * H, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const int64_t hk = h / group;
      const float* K = k.as<float>() + (b * Hkv + hk) * C * D;
      const float* V = v.as<float>() + (b * Hkv + hk) * C * Dv;
      for (int64_t s = 0; s < S; ++s) {
        const float* Q = q.as<float>() + ((b * H + h) * S + s) * D;
        float* Y = y + ((b * H + h) * S + s) * Dv;
        for (int64_t d = 0; d < Dv; ++d) Y[d] = 0.f;
        float running_max = -std::numeric_limits<float>::infinity(), denom = 0.f;
        const int64_t visible = causal ? T - S + s + 1 : T;
        for (int64_t t = 0; t < visible; ++t) {
          float score = 0.f;
          for (int64_t d = 0; d < D; ++d) score += Q[d] * K[t * D + d];
          score *= scale;
          if (mask) score += mask[b * ms[0] + h * ms[1] + s * ms[2] + t * ms[3]];
          if (score == -std::numeric_limits<float>::infinity()) continue;
          if (score > running_max) {
            const float c = std::exp(running_max - score);
            denom *= c;
            for (int64_t d = 0; d < Dv; ++d) Y[d] *= c;
            running_max = score;
          }
          const float p = std::exp(score - running_max);
          denom += p;
          for (int64_t d = 0; d < Dv; ++d) Y[d] += p * V[t * Dv + d];
        }
        const float inv = denom > 0.f ? 1.f / denom : 0.f;
        for (int64_t d = 0; d < Dv; ++d) Y[d] *= inv;
      }
    }
  });
}

}  // namespace ek
