// Portable fused attention: softmax(q k^T * scale + mask) v, with grouped-query heads
// (query head h reads kv head h / (H / Hkv)). Streams over blocks of keys with an online
// softmax, so no S x T score matrix is materialized. Keys and values are read as the cache
// stores them (kv_rows.h).
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/kv_rows.h"
#include "runtime/parallel.h"

namespace ek {
namespace {

constexpr int64_t kKeyBlock = 64;

}  // namespace

void attention(const Tensor* in, int n_in, Tensor* out, const Attrs& a) {
  const Tensor &q = in[0], &k = in[1], &v = in[2];
  // i[2], i[3]: how keys and values are stored (f32, f16, q8_0); their last dim is a row's
  // storage units, so the head sizes come from q and from the row's bytes.
  const auto kf = WeightFormat(a.i[2]), vf = WeightFormat(a.i[3]);
  const int64_t B = q.dims[0], H = q.dims[1], S = q.dims[2], D = q.dims[3];
  const int64_t Hkv = k.dims[1], C = k.dims[2];
  const int64_t vRow = v.dims[3] * int64_t(dtype_size(v.dtype)), kRow = row_bytes(kf, D);
  const int64_t Dv = vRow / block_bytes(vf) * block_values(vf);
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
  const float* Qs = q.as<float>();
  const auto* Ks = k.as<const uint8_t>();
  const auto* Vs = v.as<const uint8_t>();
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  // Query heads are independent: split them across threads. Heads that share a KV head are
  // adjacent, so a thread's heads mostly read the same cached keys and values.
  parallel_for(B * H, 1, [&](int64_t begin, int64_t end) {
    float scores[kKeyBlock];
    for (int64_t bh = begin; bh < end; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const int64_t hk = h / group;
      const uint8_t* K = Ks + (b * Hkv + hk) * C * kRow;
      const uint8_t* V = Vs + (b * Hkv + hk) * C * vRow;
      for (int64_t s = 0; s < S; ++s) {
        const float* Q = Qs + ((b * H + h) * S + s) * D;
        float* Y = y + ((b * H + h) * S + s) * Dv;
        for (int64_t d = 0; d < Dv; ++d) Y[d] = 0.f;
        float running_max = kNegInf, denom = 0.f;
        const int64_t visible = causal ? T - S + s + 1 : T;
        // Keys a block at a time: scores first, then one rescale of the accumulator per block
        // (online softmax), then the weighted values.
        for (int64_t t0 = 0; t0 < visible; t0 += kKeyBlock) {
          const int64_t n = std::min<int64_t>(kKeyBlock, visible - t0);
          float block_max = kNegInf;
          for (int64_t j = 0; j < n; ++j) {
            const int64_t t = t0 + j;
            float score = kv_row_dot(kf, K + t * kRow, Q, D) * scale;
            if (mask) score += mask[b * ms[0] + h * ms[1] + s * ms[2] + t * ms[3]];
            scores[j] = score;
            block_max = std::max(block_max, score);
          }
          if (block_max == kNegInf) continue;  // every key of the block masked out
          if (block_max > running_max) {
            const float c = running_max == kNegInf ? 0.f : std::exp(running_max - block_max);
            denom *= c;
            for (int64_t d = 0; d < Dv; ++d) Y[d] *= c;
            running_max = block_max;
          }
          for (int64_t j = 0; j < n; ++j) {
            if (scores[j] == kNegInf) continue;
            const float p = std::exp(scores[j] - running_max);
            denom += p;
            kv_row_add_scaled(vf, V + (t0 + j) * vRow, p, Y, Dv);
          }
        }
        const float inv = denom > 0.f ? 1.f / denom : 0.f;
        for (int64_t d = 0; d < Dv; ++d) Y[d] *= inv;
      }
    }
  });
}

}  // namespace ek
