// Portable data-movement kernels: transpose, concat, slice, gather.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "runtime/kernels/dispatch.h"
#include "runtime/kernels/kernels.h"
#include "runtime/parallel.h"

namespace ek {
namespace {

void row_major_strides(const Tensor& t, int64_t* s) {
  int64_t acc = 1;
  for (int d = t.rank - 1; d >= 0; --d) { s[d] = acc; acc *= t.dims[d]; }
}

// Copies out[idx] = in[sum(idx[d] * in_stride[d]) + base] for every output index. Rows of
// the innermost dim are one memcpy where they are contiguous in the input (a transpose that
// keeps the last axis, a slice of whole rows); large copies are split across threads.
void strided_copy(const Tensor& out, const char* src, const int64_t* in_strides, int64_t base) {
  const size_t es = dtype_size(out.dtype);
  char* dst = static_cast<char*>(out.data);
  const int64_t total = out.numel();
  if (total == 0) return;
  const int r = out.rank;
  const int64_t inner = r ? out.dims[r - 1] : 1, rows = total / inner;
  const bool contiguous = r == 0 || in_strides[r - 1] == 1;
  const int64_t grain = std::max<int64_t>(1, (int64_t(64) << 10) / std::max<int64_t>(1, inner * int64_t(es)));
  parallel_for(rows, grain, [&](int64_t begin, int64_t end) {
    // The input offset of row `begin`, from its index over the outer dims.
    int64_t idx[kMaxRank] = {}, off = base;
    for (int64_t rest = begin, d = r - 2; d >= 0; --d) {
      idx[d] = rest % out.dims[d];
      rest /= out.dims[d];
      off += idx[d] * in_strides[d];
    }
    for (int64_t row = begin; row < end; ++row) {
      char* to = dst + row * inner * int64_t(es);
      if (contiguous) {
        std::memcpy(to, src + off * int64_t(es), size_t(inner) * es);
      } else {
        for (int64_t i = 0; i < inner; ++i) std::memcpy(to + i * int64_t(es), src + (off + i * in_strides[r - 1]) * int64_t(es), es);
      }
      for (int d = r - 2; d >= 0; --d) {
        ++idx[d];
        off += in_strides[d];
        if (idx[d] < out.dims[d]) break;
        off -= in_strides[d] * out.dims[d];
        idx[d] = 0;
      }
    }
  });
}

}  // namespace

void transpose(const Tensor* in, int, Tensor* out, const Attrs& a) {
  int64_t s[kMaxRank], perm_s[kMaxRank];
  row_major_strides(in[0], s);
  for (int d = 0; d < out[0].rank; ++d) perm_s[d] = s[a.i[d]];
  strided_copy(out[0], static_cast<const char*>(in[0].data), perm_s, 0);
}

void slice(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const int r = in[0].rank;
  int64_t s[kMaxRank], step_s[kMaxRank], base = 0;
  row_major_strides(in[0], s);
  for (int d = 0; d < r; ++d) {
    base += a.i[d] * s[d];
    step_s[d] = a.i[r + d] * s[d];
  }
  strided_copy(out[0], static_cast<const char*>(in[0].data), step_s, base);
}

void concat(const Tensor* in, int n_in, Tensor* out, const Attrs& a) {
  const int axis = int(a.i[0]);
  const size_t es = dtype_size(out[0].dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= out[0].dims[d];
  for (int d = axis + 1; d < out[0].rank; ++d) inner *= out[0].dims[d];
  const int64_t out_row = out[0].dims[axis] * inner * es;
  char* dst = static_cast<char*>(out[0].data);
  int64_t col = 0;
  for (int t = 0; t < n_in; ++t) {
    const int64_t row = in[t].dims[axis] * inner * es;
    if (row == 0) continue;  // an empty input (an empty KV cache) may have no data pointer at all
    const char* src = static_cast<const char*>(in[t].data);
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + o * out_row + col, src + o * row, row);
    col += row;
  }
}

void gather(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& data = in[0];
  const Tensor& idx = in[1];
  const int axis = int(a.i[0]);
  const size_t es = dtype_size(data.dtype);
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= data.dims[d];
  for (int d = axis + 1; d < data.rank; ++d) inner *= data.dims[d];
  const int64_t axis_len = data.dims[axis], n_idx = idx.numel();
  const char* src = static_cast<const char*>(data.data);
  char* dst = static_cast<char*>(out[0].data);
  if (axis_len == 0) {  // nothing to read: defined output instead of reading past the input
    if (out[0].bytes()) std::memset(dst, 0, out[0].bytes());
    return;
  }
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n_idx; ++j) {
      int64_t k = idx.dtype == DType::I64 ? idx.as<int64_t>()[j] : idx.as<int32_t>()[j];
      if (k < 0) k += axis_len;
      if (k < 0 || k >= axis_len) k = 0;  // out of range: defined behaviour instead of a crash
      std::memcpy(dst + (o * n_idx + j) * inner * es, src + (o * axis_len + k) * inner * es, inner * es);
    }
  }
}

// output[i] = data[i with coordinate `axis` replaced by indices[i]]; negative indices count
// from the end, out-of-range ones read element 0 of the axis (defined, never outside).
void gather_elements(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const Tensor& data = in[0];
  const Tensor& idx = in[1];
  const int axis = int(a.i[0]);
  const size_t es = dtype_size(data.dtype);
  int64_t data_stride[kMaxRank], coord[kMaxRank] = {};
  for (int64_t d = data.rank - 1, s = 1; d >= 0; --d) { data_stride[d] = s; s *= data.dims[d]; }
  const char* src = static_cast<const char*>(data.data);
  char* dst = static_cast<char*>(out[0].data);
  const int64_t axis_len = data.dims[axis];
  if (axis_len == 0) {  // nothing to read: defined output instead of reading past the input
    if (out[0].bytes()) std::memset(dst, 0, out[0].bytes());
    return;
  }
  for (int64_t j = 0, n = idx.numel(); j < n; ++j) {
    int64_t k = idx.dtype == DType::I64 ? idx.as<int64_t>()[j] : idx.as<int32_t>()[j];
    if (k < 0) k += axis_len;
    if (k < 0 || k >= axis_len) k = 0;
    int64_t at = 0;
    for (int d = 0; d < idx.rank; ++d) at += (d == axis ? k : coord[d]) * data_stride[d];
    std::memcpy(dst + j * es, src + at * es, es);
    for (int d = idx.rank - 1; d >= 0 && ++coord[d] == idx.dims[d]; --d) coord[d] = 0;  // next index, row-major
  }
}

void fill_ints(const Tensor*, int, Tensor* out, const Attrs& a) {
  int64_t* y = out[0].as<int64_t>();
  for (int64_t k = 0, n = out[0].numel(); k < n && k < kMaxAttrInts; ++k) y[k] = a.i[k];
}

void range(const Tensor* in, int, Tensor* out, const Attrs&) {
  dispatch_dtype(out[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const double start = double(*in[0].as<T>()), delta = double(*in[1].as<T>());
      T* y = out[0].as<T>();
      for (int64_t i = 0, n = out[0].numel(); i < n; ++i) y[i] = T(start + double(i) * delta);
    }
  });
}

}  // namespace ek
