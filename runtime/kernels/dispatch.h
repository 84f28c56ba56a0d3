// Helpers shared by the portable kernels: dtype dispatch and broadcast walking.
#pragma once
#include <cstdint>
#include <cstdlib>

#include "runtime/half.h"
#include "runtime/tensor.h"

namespace ek {

// Calls fn(T{}) with T the C++ type of `t`.
template <class Fn>
void dispatch_dtype(DType t, Fn&& fn) {
  switch (t) {
#define EK_DTYPE_DISPATCH(name, code, type, size, text) case DType::name: fn(type{}); break;
    EK_DTYPE_LIST(EK_DTYPE_DISPATCH)
#undef EK_DTYPE_DISPATCH
  }
}

// Row-major strides of `t` aligned to an output of rank `out_rank`; broadcast dims get 0.
inline void broadcast_strides(const Tensor& t, int out_rank, int64_t* strides) {
  int64_t s = 1;
  for (int d = out_rank - 1; d >= 0; --d) {
    int td = d - (out_rank - t.rank);
    if (td < 0) { strides[d] = 0; continue; }
    strides[d] = t.dims[td] == 1 ? 0 : s;
    s *= t.dims[td];
  }
}

// Visits every output element in row-major order with the matching offset in each of N inputs.
template <int N, class Fn>
void for_each_broadcast(const Tensor& out, const Tensor* const* ins, Fn&& fn) {
  const int r = out.rank;
  int64_t strides[N][kMaxRank] = {};
  for (int n = 0; n < N; ++n) broadcast_strides(*ins[n], r, strides[n]);
  const int64_t total = out.numel();
  if (total == 0) return;
  int64_t idx[kMaxRank] = {};
  int64_t off[N] = {};
  const int64_t inner = r ? out.dims[r - 1] : 1;
  int64_t inner_stride[N];
  for (int n = 0; n < N; ++n) inner_stride[n] = r ? strides[n][r - 1] : 0;
  for (int64_t o = 0; o < total; o += inner) {
    int64_t cur[N];
    for (int n = 0; n < N; ++n) cur[n] = off[n];
    for (int64_t i = 0; i < inner; ++i) {
      fn(o + i, cur);
      for (int n = 0; n < N; ++n) cur[n] += inner_stride[n];
    }
    // Advance the outer index (all dims but the last).
    for (int d = r - 2; d >= 0; --d) {
      ++idx[d];
      for (int n = 0; n < N; ++n) off[n] += strides[n][d];
      if (idx[d] < out.dims[d]) break;
      for (int n = 0; n < N; ++n) off[n] -= strides[n][d] * out.dims[d];
      idx[d] = 0;
    }
  }
}

}  // namespace ek
