// Portable reductions over an axis mask, and softmax.
#include <cmath>
#include <limits>
#include <type_traits>

#include "runtime/kernels/dispatch.h"
#include "runtime/kernels/kernels.h"

namespace ek {
namespace {

enum class Reduce { Sum, Mean, Max, Min, Prod };

// For each output element, walks the reduced sub-space of the input: no scratch memory, so
// the kernel never allocates (it may run in a decode loop).
template <class T>
void reduce_typed(const Tensor& x, Tensor& y, uint64_t mask, Reduce kind) {
  using Acc = std::conditional_t<std::is_floating_point_v<T> || is_half_v<T>, double, T>;
  int64_t stride[kMaxRank];
  for (int64_t d = x.rank - 1, s = 1; d >= 0; --d) { stride[d] = s; s *= x.dims[d]; }
  int kept[kMaxRank], red[kMaxRank], nk = 0, nr = 0;
  int64_t count = 1;
  for (int d = 0; d < x.rank; ++d) {
    if (mask >> d & 1) { red[nr++] = d; count *= x.dims[d]; }
    else kept[nk++] = d;
  }
  const T* src = x.as<T>();
  T* dst = y.as<T>();
  const int64_t n_out = y.numel();
  int64_t kidx[kMaxRank] = {}, base = 0;
  for (int64_t o = 0; o < n_out; ++o) {
    Acc a = 0;
    if (kind == Reduce::Prod) a = 1;
    // Floats start from -inf/+inf (an empty max is -inf, as ONNX says); integers from their range.
    if constexpr (std::is_floating_point_v<Acc>) {
      if (kind == Reduce::Max) a = -std::numeric_limits<Acc>::infinity();
      if (kind == Reduce::Min) a = std::numeric_limits<Acc>::infinity();
    } else {
      if (kind == Reduce::Max) a = std::numeric_limits<T>::lowest();
      if (kind == Reduce::Min) a = std::numeric_limits<T>::max();
    }
    int64_t ridx[kMaxRank] = {}, off = base;
    for (int64_t i = 0; i < count; ++i) {
      const Acc v = Acc(src[off]);
      switch (kind) {
        case Reduce::Sum: case Reduce::Mean: a += v; break;
        case Reduce::Prod: a *= v; break;
        case Reduce::Max: a = (v > a || v != v) ? v : a; break;  // v != v: NaN propagates
        case Reduce::Min: a = (v < a || v != v) ? v : a; break;
      }
      for (int r = nr - 1; r >= 0; --r) {
        const int d = red[r];
        off += stride[d];
        if (++ridx[r] < x.dims[d]) break;
        off -= stride[d] * x.dims[d];
        ridx[r] = 0;
      }
    }
    if (kind == Reduce::Mean) {
      if constexpr (std::is_floating_point_v<T> || is_half_v<T>) a = a / Acc(count);  // empty: 0/0 = NaN, as numpy
      else a = count ? a / Acc(count) : Acc(0);
    }
    dst[o] = T(a);
    for (int k = nk - 1; k >= 0; --k) {
      const int d = kept[k];
      base += stride[d];
      if (++kidx[k] < x.dims[d]) break;
      base -= stride[d] * x.dims[d];
      kidx[k] = 0;
    }
  }
}

void reduce(const Tensor* in, Tensor* out, const Attrs& a, Reduce kind) {
  dispatch_dtype(in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) reduce_typed<T>(in[0], out[0], uint64_t(a.i[0]), kind);
  });
}

}  // namespace

void reduce_sum(const Tensor* in, int, Tensor* out, const Attrs& a) { reduce(in, out, a, Reduce::Sum); }
void reduce_mean(const Tensor* in, int, Tensor* out, const Attrs& a) { reduce(in, out, a, Reduce::Mean); }
void reduce_max(const Tensor* in, int, Tensor* out, const Attrs& a) { reduce(in, out, a, Reduce::Max); }
void reduce_min(const Tensor* in, int, Tensor* out, const Attrs& a) { reduce(in, out, a, Reduce::Min); }
void reduce_prod(const Tensor* in, int, Tensor* out, const Attrs& a) { reduce(in, out, a, Reduce::Prod); }

// Running sums in the element type, in order along the axis (as ONNX Runtime adds them).
void cumsum(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const int axis = int(a.i[0]);
  const bool exclusive = a.i[1] != 0, reverse = a.i[2] != 0;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in[0].dims[d];
  for (int d = axis + 1; d < in[0].rank; ++d) inner *= in[0].dims[d];
  const int64_t len = in[0].dims[axis];
  dispatch_dtype(in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const T* x = in[0].as<T>();
      T* y = out[0].as<T>();
      using Acc = std::conditional_t<is_half_v<T>, float, T>;  // 16-bit floats add in f32
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          Acc sum = Acc(0);
          for (int64_t step = 0; step < len; ++step) {
            const int64_t k = (o * len + (reverse ? len - 1 - step : step)) * inner + i;
            const Acc v = Acc(x[k]);  // read first: y may be x
            if (exclusive) { y[k] = T(sum); sum = Acc(sum + v); }
            else { sum = Acc(sum + v); y[k] = T(sum); }
          }
        }
    }
  });
}

// The index of the largest (or smallest) element along the axis; NaN counts as neither.
template <bool kMax>
void arg_extreme(const Tensor* in, Tensor* out, const Attrs& a) {
  const int axis = int(a.i[0]);
  const bool last = a.i[1] != 0;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in[0].dims[d];
  for (int d = axis + 1; d < in[0].rank; ++d) inner *= in[0].dims[d];
  const int64_t len = in[0].dims[axis];
  int64_t* y = out[0].as<int64_t>();
  dispatch_dtype(in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in[0].as<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        int64_t best = 0;
        using V = std::conditional_t<is_half_v<T>, float, T>;  // exact for every type: 16-bit floats widen
        for (int64_t k = 1; k < len; ++k) {
          const V v = V(x[(o * len + k) * inner + i]), b = V(x[(o * len + best) * inner + i]);
          if (kMax ? (v > b || (last && v == b)) : (v < b || (last && v == b))) best = k;
        }
        y[o * inner + i] = best;
      }
  });
}

void arg_max(const Tensor* in, int, Tensor* out, const Attrs& a) { arg_extreme<true>(in, out, a); }
void arg_min(const Tensor* in, int, Tensor* out, const Attrs& a) { arg_extreme<false>(in, out, a); }

// Output j is the best element after output j - 1 in the order (value, then lower index
// first): O(k * len) selection with no scratch memory.
void top_k(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const int axis = int(a.i[0]);
  const bool largest = a.i[1] != 0;
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= in[0].dims[d];
  for (int d = axis + 1; d < in[0].rank; ++d) inner *= in[0].dims[d];
  const int64_t len = in[0].dims[axis], k = out[0].dims[axis];
  int64_t* idx = out[1].as<int64_t>();
  dispatch_dtype(in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    using V = std::conditional_t<is_half_v<T>, float, T>;
    const T* x = in[0].as<T>();
    T* values = out[0].as<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t e) { return V(x[(o * len + e) * inner + i]); };
        // Whether element e comes before element f in the output order.
        auto before = [&](int64_t e, int64_t f) {
          const V ve = at(e), vf = at(f);
          return (largest ? ve > vf : ve < vf) || (ve == vf && e < f);
        };
        int64_t prev = -1;
        for (int64_t j = 0; j < k; ++j) {
          int64_t best = -1;
          for (int64_t e = 0; e < len; ++e)
            if ((prev < 0 || before(prev, e)) && (best < 0 || before(e, best))) best = e;
          prev = best;
          idx[(o * k + j) * inner + i] = best;
          values[(o * k + j) * inner + i] = x[(o * len + best) * inner + i];
        }
      }
  });
}

void softmax(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& x = in[0];
  const int axis = int(a.i[0]);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dims[d];
  for (int d = axis + 1; d < x.rank; ++d) inner *= x.dims[d];
  const int64_t len = x.dims[axis];
  const float* src = x.as<float>();
  float* dst = out[0].as<float>();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const float* s = src + o * len * inner + i;
      float* d = dst + o * len * inner + i;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) m = s[k * inner] > m ? s[k * inner] : m;
      float sum = 0.f;
      for (int64_t k = 0; k < len; ++k) { d[k * inner] = std::exp(s[k * inner] - m); sum += d[k * inner]; }
      const float inv = 1.f / sum;
      for (int64_t k = 0; k < len; ++k) d[k * inner] *= inv;
    }
  }
}

}  // namespace ek
