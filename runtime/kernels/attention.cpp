// Portable fused attention: softmax(q k^T * scale + mask) v, with grouped-query heads
// (query head h reads kv head h / (H / Hkv)). Streams over blocks of keys with an online
// softmax, so no S x T score matrix is materialized.
//
// The query heads that share a KV head are attended together: each key and value row is read
// (and, for f16/q8_0 caches, widened: kv_rows.h) once for all of them. A decode step over a long
// context also splits the keys into spans of kAttentionSplitKeys, each span's softmax state kept
// apart and merged at the end, so that a few KV heads still keep every thread busy. The spans
// depend on the context only, never on the thread count: results are the same for any --threads.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/kv_rows.h"
#include "runtime/parallel.h"

namespace ek {
namespace {

constexpr int64_t kKeyBlock = 64;  // keys scored before the accumulators are rescaled
constexpr int64_t kMaxGroup = 8;   // query heads attended together (larger groups in slices)
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

inline void add_scaled(float* __restrict y, float p, const float* __restrict v, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += p * v[i];
}

struct Problem {
  WeightFormat kf, vf;  // how keys and values are stored
  int64_t H, S, D, Dv, Hkv, C, T, group, kRow, vRow;
  bool causal;
  float scale;
  const float* q;
  const uint8_t *k, *v;
  const float* mask;  // strides ms, right-aligned to [B, H, S, T]; broadcast dims stride 0
  int64_t ms[4];
  int64_t visible(int64_t s) const { return causal ? T - S + s + 1 : T; }
};

// The online-softmax state of one query head over a range of keys: y holds the unnormalized
// weighted values.
struct HeadState {
  float* y;
  float max = kNegInf, denom = 0.f;
};

// Query s of heads [h, h + N) (all reading kv head h / group) over keys [t0, t1). Each key and
// value row is widened 8 values at a time, once for all N heads, whose sums stay in registers.
template <int N>
void attend(const Problem& p, int64_t b, int64_t h, int64_t s, int64_t t0, int64_t t1, HeadState* heads) {
  const int64_t hk = h / p.group;
  const uint8_t* K = p.k + (b * p.Hkv + hk) * p.C * p.kRow;
  const uint8_t* V = p.v + (b * p.Hkv + hk) * p.C * p.vRow;
  const float* Q[N];
  for (int g = 0; g < N; ++g) Q[g] = p.q + ((b * p.H + h + g) * p.S + s) * p.D;
  float prob[N][kKeyBlock];
  for (int64_t tb = t0; tb < t1; tb += kKeyBlock) {
    const int64_t m = std::min(kKeyBlock, t1 - tb);
    for (int64_t j = 0; j < m; ++j) {
      const uint8_t* row = K + (tb + j) * p.kRow;
      F32x8 lanes[N] = {};
      kv_row_for_each8(p.kf, row, p.D, [&](int64_t i, F32x8 key) {
        for (int g = 0; g < N; ++g) lanes[g] += key * load_f32x8(Q[g] + i);
      });
      if (const int64_t full = p.D / 8 * 8; full < p.D) {  // f32/f16 only: q8_0 rows are whole blocks of 32
        float rest[8];
        row_values(p.kf, row + row_bytes(p.kf, full), rest, p.D - full);
        for (int64_t i = full; i < p.D; ++i)
          for (int g = 0; g < N; ++g) lanes[g][0] += rest[i - full] * Q[g][i];
      }
      for (int g = 0; g < N; ++g) {
        const F32x8 a = lanes[g];
        float x = (((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]))) * p.scale;
        if (p.mask) x += p.mask[b * p.ms[0] + (h + g) * p.ms[1] + s * p.ms[2] + (tb + j) * p.ms[3]];
        prob[g][j] = x;
      }
    }
    // Per head: one rescale of its accumulator for the block, then the keys' weights.
    for (int g = 0; g < N; ++g) {
      HeadState& st = heads[g];
      float block_max = kNegInf;
      for (int64_t j = 0; j < m; ++j) block_max = std::max(block_max, prob[g][j]);
      if (block_max > st.max) {
        const float c = st.max == kNegInf ? 0.f : std::exp(st.max - block_max);
        st.denom *= c;
        for (int64_t d = 0; d < p.Dv; ++d) st.y[d] *= c;
        st.max = block_max;
      }
      for (int64_t j = 0; j < m; ++j) {
        const float w = prob[g][j] == kNegInf ? 0.f : std::exp(prob[g][j] - st.max);
        st.denom += w;
        prob[g][j] = w;
      }
    }
    for (int64_t j = 0; j < m; ++j) {
      const uint8_t* row = V + (tb + j) * p.vRow;
      float w[N];
      bool any = false;
      for (int g = 0; g < N; ++g) any |= (w[g] = prob[g][j]) != 0.f;
      if (!any) continue;  // a key masked out for every head: its value row is never read
      kv_row_for_each8(p.vf, row, p.Dv, [&](int64_t i, F32x8 value) {
        for (int g = 0; g < N; ++g) store_f32x8(heads[g].y + i, load_f32x8(heads[g].y + i) + w[g] * value);
      });
      if (const int64_t full = p.Dv / 8 * 8; full < p.Dv) {
        float rest[8];
        row_values(p.vf, row + row_bytes(p.vf, full), rest, p.Dv - full);
        for (int64_t i = full; i < p.Dv; ++i)
          for (int g = 0; g < N; ++g) heads[g].y[i] += w[g] * rest[i - full];
      }
    }
  }
}

void attend(const Problem& p, int64_t b, int64_t h, int64_t n, int64_t s, int64_t t0, int64_t t1, HeadState* heads) {
  switch (n) {
    case 1: return attend<1>(p, b, h, s, t0, t1, heads);
    case 2: return attend<2>(p, b, h, s, t0, t1, heads);
    case 3: return attend<3>(p, b, h, s, t0, t1, heads);
    case 4: return attend<4>(p, b, h, s, t0, t1, heads);
    case 5: return attend<5>(p, b, h, s, t0, t1, heads);
    case 6: return attend<6>(p, b, h, s, t0, t1, heads);
    case 7: return attend<7>(p, b, h, s, t0, t1, heads);
    default: return attend<8>(p, b, h, s, t0, t1, heads);
  }
}

}  // namespace

void attention(const Tensor* in, int n_in, Tensor* out, const Attrs& a) {
  const Tensor &q = in[0], &k = in[1], &v = in[2];
  Problem p;
  // i[2], i[3]: how keys and values are stored (f32, f16, q8_0); their last dim is a row's
  // storage units, so the head sizes come from q and from the row's bytes.
  p.kf = WeightFormat(a.i[2]);
  p.vf = WeightFormat(a.i[3]);
  const int64_t B = q.dims[0];
  p.H = q.dims[1], p.S = q.dims[2], p.D = q.dims[3];
  p.Hkv = k.dims[1], p.C = k.dims[2];
  p.vRow = v.dims[3] * int64_t(dtype_size(v.dtype)), p.kRow = row_bytes(p.kf, p.D);
  p.Dv = p.vRow / block_bytes(p.vf) * block_values(p.vf);
  p.T = a.i[1] > 0 && a.i[1] < p.C ? a.i[1] : p.C;  // keys in use; a cache has room for C
  p.causal = a.i[0] != 0;
  p.group = p.H / p.Hkv;
  p.scale = a.f[0];
  p.q = q.as<float>();
  p.k = k.as<const uint8_t>();
  p.v = v.as<const uint8_t>();
  p.mask = n_in > 3 ? in[3].as<float>() : nullptr;
  std::fill(std::begin(p.ms), std::end(p.ms), 0);
  if (p.mask) {
    const Tensor& m = in[3];
    int64_t stride = 1;
    for (int d = 3; d >= 0; --d) {
      const int md = d - (4 - m.rank);
      if (md < 0) continue;
      p.ms[d] = m.dims[md] == 1 ? 0 : stride;
      stride *= m.dims[md];
    }
  }
  float* y = out[0].as<float>();
  // Work units: (batch, slice of a KV head's query heads, query, span of keys).
  const int64_t slices_per_kv = (p.group + kMaxGroup - 1) / kMaxGroup;
  const int64_t slice = (p.group + slices_per_kv - 1) / slices_per_kv;
  const int64_t spans = attention_key_spans(p.S, p.T);
  // A span's state lives in `partials` (Dv values, then max and denominator per head and span)
  // until the merge; sized once for the whole cache, so later steps allocate nothing. Each
  // state starts a cache line of its own: spans of one head run on different threads, and a
  // shared line would move between their cores at every key.
  static thread_local std::vector<float> partials;
  constexpr int64_t kLine = 64 / sizeof(float);
  const int64_t stride = attention_span_state_floats(p.Dv);
  float* part = nullptr;
  if (spans > 1) {
    const size_t need = size_t(B * p.H * attention_key_spans(1, p.C) * stride + kLine);
    if (partials.size() < need) partials.resize(need);
    part = partials.data() + (kLine - reinterpret_cast<uintptr_t>(partials.data()) / sizeof(float) % kLine) % kLine;
  }
  const int64_t units = B * p.Hkv * slices_per_kv * p.S * spans;
  parallel_for(units, 1, [&](int64_t begin, int64_t end) {
    HeadState heads[kMaxGroup];
    for (int64_t u = begin; u < end; ++u) {
      const int64_t span = u % spans, s = u / spans % p.S, sl = u / (spans * p.S) % slices_per_kv;
      const int64_t bk = u / (spans * p.S * slices_per_kv), b = bk / p.Hkv, hk = bk % p.Hkv;
      const int64_t h = hk * p.group + sl * slice, n = std::min(slice, (hk + 1) * p.group - h);
      const int64_t visible = p.visible(s);
      const int64_t t0 = span * kAttentionSplitKeys, t1 = spans > 1 ? std::min(visible, t0 + kAttentionSplitKeys) : visible;
      for (int64_t g = 0; g < n; ++g) {
        heads[g] = HeadState{};
        heads[g].y = spans > 1 ? part + ((b * p.H + h + g) * spans + span) * stride : y + ((b * p.H + h + g) * p.S + s) * p.Dv;
        std::fill(heads[g].y, heads[g].y + p.Dv, 0.f);
      }
      if (t0 < t1) attend(p, b, h, n, s, t0, t1, heads);
      for (int64_t g = 0; g < n; ++g) {
        HeadState& st = heads[g];
        if (spans > 1) {
          st.y[p.Dv] = st.max;
          st.y[p.Dv + 1] = st.denom;
        } else {
          const float inv = st.denom > 0.f ? 1.f / st.denom : 0.f;
          for (int64_t d = 0; d < p.Dv; ++d) st.y[d] *= inv;
        }
      }
    }
  });
  if (spans == 1) return;
  // Merge the spans of each head (one query: S == 1), in span order.
  parallel_for(B * p.H, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bh = begin; bh < end; ++bh) {
      const float* first = part + bh * spans * stride;
      float max = kNegInf;
      for (int64_t c = 0; c < spans; ++c) max = std::max(max, first[c * stride + p.Dv]);
      float* Y = y + bh * p.Dv;
      std::fill(Y, Y + p.Dv, 0.f);
      float denom = 0.f;
      if (max != kNegInf)
        for (int64_t c = 0; c < spans; ++c) {
          const float* span = first + c * stride;
          if (span[p.Dv] == kNegInf) continue;
          const float w = std::exp(span[p.Dv] - max);
          denom += w * span[p.Dv + 1];
          add_scaled(Y, w, span, p.Dv);
        }
      const float inv = denom > 0.f ? 1.f / denom : 0.f;
      for (int64_t d = 0; d < p.Dv; ++d) Y[d] *= inv;
    }
  });
}

}  // namespace ek
