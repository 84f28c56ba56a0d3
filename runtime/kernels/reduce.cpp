// Portable reductions over an axis mask, and softmax.
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "runtime/kernels/dispatch.h"
#include "runtime/kernels/kernels.h"

namespace ek {
namespace {

enum class Reduce { Sum, Mean, Max, Min, Prod };

template <class T>
void reduce_typed(const Tensor& x, Tensor& y, uint64_t mask, Reduce kind) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  // Output strides in input index space: reduced axes contribute 0.
  int64_t ostride[kMaxRank];
  int64_t acc_stride = 1;
  for (int d = x.rank - 1; d >= 0; --d) {
    if (mask >> d & 1) { ostride[d] = 0; continue; }
    ostride[d] = acc_stride;
    acc_stride *= x.dims[d];
  }
  const int64_t n_out = y.numel(), n_in = x.numel();
  int64_t count = n_out ? n_in / n_out : 0;
  Acc init = 0;
  if (kind == Reduce::Prod) init = 1;
  if (kind == Reduce::Max) init = std::numeric_limits<T>::lowest();
  if (kind == Reduce::Min) init = std::numeric_limits<T>::max();
  std::vector<Acc> acc(size_t(n_out), init);
  const T* src = x.as<T>();
  int64_t idx[kMaxRank] = {};
  int64_t off = 0;
  for (int64_t i = 0; i < n_in; ++i) {
    Acc v = Acc(src[i]);
    Acc& a = acc[size_t(off)];
    switch (kind) {
      case Reduce::Sum: case Reduce::Mean: a += v; break;
      case Reduce::Prod: a *= v; break;
      case Reduce::Max: a = v > a ? v : a; break;
      case Reduce::Min: a = v < a ? v : a; break;
    }
    for (int d = x.rank - 1; d >= 0; --d) {
      ++idx[d];
      off += ostride[d];
      if (idx[d] < x.dims[d]) break;
      off -= ostride[d] * x.dims[d];
      idx[d] = 0;
    }
  }
  T* dst = y.as<T>();
  for (int64_t o = 0; o < n_out; ++o)
    dst[o] = T(kind == Reduce::Mean ? acc[size_t(o)] / Acc(count) : acc[size_t(o)]);
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
