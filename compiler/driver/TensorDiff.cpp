#include "compiler/driver/TensorDiff.h"

#include <cmath>
#include <limits>
#include <type_traits>
#include <algorithm>

#include "runtime/kernels/dispatch.h"

namespace edgecc {

std::string shapeString(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string indexString(int64_t flat, const std::vector<int64_t>& dims) {
  std::vector<int64_t> at(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    if (dims[d] > 0) { at[d] = flat % dims[d]; flat /= dims[d]; }
  }
  return shapeString(at);
}

TensorDiff diffTensors(const ek::HostTensor& got, const ek::HostTensor& want, const Tolerance& tol) {
  TensorDiff d;
  if (got.dtype != want.dtype) {
    d.problem = std::string("dtype ") + ek::dtype_name(got.dtype) + ", expected " + ek::dtype_name(want.dtype);
    return d;
  }
  if (got.dims != want.dims) {
    d.problem = "shape " + shapeString(got.dims) + ", expected " + shapeString(want.dims);
    return d;
  }
  d.elements = want.view().numel();
  ek::dispatch_dtype(got.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* a = got.view().template as<T>();
    const T* b = want.view().template as<T>();
    double floor = 0;
    if (tol.median_floor && !std::is_integral_v<T> && d.elements > 0) {
      std::vector<double> magnitudes(size_t(d.elements));
      for (int64_t i = 0; i < d.elements; ++i) magnitudes[size_t(i)] = std::fabs(double(b[i]));
      auto mid = magnitudes.begin() + d.elements / 2;
      std::nth_element(magnitudes.begin(), mid, magnitudes.end());
      floor = std::isfinite(*mid) ? *mid : 0;
    }
    int64_t largest = -1, largestBeyond = -1;
    double worstBeyond = -1;
    for (int64_t i = 0; i < d.elements; ++i) {
      const double x = double(a[i]), y = double(b[i]);
      if (std::isfinite(y)) d.ref_max = std::max(d.ref_max, std::fabs(y));
      double err;
      bool bad;
      if constexpr (std::is_integral_v<T>) {
        // An integer or bool result is right or wrong: 1001 is not 1000 within rtol, and
        // int64 values past 2^53 differ in ways a double would hide.
        err = std::fabs(x - y);
        bad = a[i] != b[i];
      } else if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
        bad = !(x == y || (std::isnan(x) && std::isnan(y)));
        err = bad ? std::numeric_limits<double>::infinity() : 0;
        if (bad) d.max_ratio = err;
      } else {
        err = std::fabs(x - y);
        const double bound = tol.atol + tol.rtol * std::max(std::fabs(y), floor);
        bad = !(err <= bound);
        if (bound > 0) d.max_ratio = std::max(d.max_ratio, err / bound);
        else if (err > 0) d.max_ratio = std::numeric_limits<double>::infinity();
      }
      if (largest < 0 || err > d.max_abs) { d.max_abs = err; largest = i; }
      if (bad) {
        ++d.beyond;
        if (err > worstBeyond) { worstBeyond = err; largestBeyond = i; }
      }
    }
    d.worst = d.beyond > 0 ? largestBeyond : largest;
    if (d.worst >= 0) { d.got = double(a[d.worst]); d.want = double(b[d.worst]); }
  });
  return d;
}

}  // namespace edgecc
