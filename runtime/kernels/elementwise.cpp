// Portable elementwise kernels: unary math, casts and broadcasting binary/ternary ops.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "runtime/kernels/binary.h"
#include "runtime/kernels/dispatch.h"
#include "runtime/kernels/kernels.h"
#include "runtime/parallel.h"

namespace ek {
namespace {

constexpr int64_t kParallelGrain = kElementwiseGrain;

// y[i] = f(x[i]) in the element type of x.
template <class F>
void unary_map(const Tensor& x, Tensor& y, F f) {
  const int64_t n = x.numel();
  dispatch_dtype(x.dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* s = x.as<T>();
    T* d = y.as<T>();
    for (int64_t i = 0; i < n; ++i) d[i] = f(s[i]);
  });
}

// float math done in float for F32 (matches PyTorch's float32 rounding), in double otherwise.
// Large f32 maps are split across threads.
#define EK_UNARY(name, expr)                                                        \
  void name(const Tensor* in, int, Tensor* out, const Attrs&) {                     \
    if (in[0].dtype == DType::F32) {                                                \
      const float* s = in[0].as<float>();                                           \
      float* d = out[0].as<float>();                                                \
      parallel_for(in[0].numel(), kParallelGrain, [&](int64_t begin, int64_t end) { \
        for (int64_t i = begin; i < end; ++i) { const float v = s[i]; d[i] = (expr); } \
      });                                                                           \
    } else {                                                                        \
      unary_map(in[0], out[0], [](auto x) { const double v = double(x); return decltype(x)(expr); }); \
    }                                                                               \
  }

}  // namespace

EK_UNARY(sqrt, std::sqrt(v))
EK_UNARY(reciprocal, decltype(v)(1) / v)
EK_UNARY(exp, std::exp(v))
EK_UNARY(log, std::log(v))
EK_UNARY(sigmoid, decltype(v)(1) / (decltype(v)(1) + std::exp(-v)))
EK_UNARY(tanh, std::tanh(v))
EK_UNARY(erf, std::erf(v))
EK_UNARY(cos, std::cos(v))
EK_UNARY(sin, std::sin(v))
EK_UNARY(silu, v / (decltype(v)(1) + std::exp(-v)))
#undef EK_UNARY

// The gate (first half of each row) through silu, times the up projection (second half): the
// same float operations as silu then mul, in one pass.
void swiglu(const Tensor* in, int, Tensor* out, const Attrs&) {
  const int64_t F = out[0].dims[out[0].rank - 1], rows = F ? out[0].numel() / F : 0;
  const float* x = in[0].as<float>();
  float* y = out[0].as<float>();
  parallel_for(rows, std::max<int64_t>(1, kParallelGrain / std::max<int64_t>(F, 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* g = x + r * 2 * F;
      const float* u = g + F;
      for (int64_t i = 0; i < F; ++i) {
        const float v = g[i];
        y[r * F + i] = (v / (1.f + std::exp(-v))) * u[i];
      }
    }
  });
}

// neg, abs, relu, floor and ceil are exact on integers: computed in the element type itself,
// never through double (which would round int64 values above 2^53). Unsigned negation wraps.
void neg(const Tensor* in, int, Tensor* out, const Attrs&) {
  unary_map(in[0], out[0], [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return T(-v);
    else if constexpr (is_half_v<T>) return T(-float(v));
    else if constexpr (std::is_same_v<T, bool>) return v;
    else return T(-static_cast<std::make_unsigned_t<T>>(v));
  });
}
void abs(const Tensor* in, int, Tensor* out, const Attrs&) {
  unary_map(in[0], out[0], [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return T(std::fabs(v));
    else if constexpr (is_half_v<T>) return T(std::fabs(float(v)));
    else if constexpr (std::is_signed_v<T>) return v < 0 ? T(-static_cast<std::make_unsigned_t<T>>(v)) : v;
    else return v;
  });
}
void relu(const Tensor* in, int, Tensor* out, const Attrs&) {
  unary_map(in[0], out[0], [](auto v) {
    using T = decltype(v);
    if constexpr (is_half_v<T>) return float(v) > 0.f ? v : T(0.f);
    else return v > T(0) ? v : T(0);
  });
}
void floor(const Tensor* in, int, Tensor* out, const Attrs&) {
  unary_map(in[0], out[0], [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return T(std::floor(v));
    else if constexpr (is_half_v<T>) return T(std::floor(float(v)));
    else return v;
  });
}
void ceil(const Tensor* in, int, Tensor* out, const Attrs&) {
  unary_map(in[0], out[0], [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return T(std::ceil(v));
    else if constexpr (is_half_v<T>) return T(std::ceil(float(v)));
    else return v;
  });
}

void gelu(const Tensor* in, int, Tensor* out, const Attrs& a) {
  const float* x = in[0].as<float>();
  float* y = out[0].as<float>();
  const int64_t n = in[0].numel();
  if (a.i[0] == 1) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
    for (int64_t i = 0; i < n; ++i)
      y[i] = 0.5f * x[i] * (1.f + std::tanh(k * (x[i] + 0.044715f * x[i] * x[i] * x[i])));
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.f + std::erf(x[i] * 0.70710678118654752f));
  }
}

void logical_not(const Tensor* in, int, Tensor* out, const Attrs&) {
  const bool* x = in[0].as<bool>();
  bool* y = out[0].as<bool>();
  for (int64_t i = 0, n = in[0].numel(); i < n; ++i) y[i] = !x[i];
}

void copy(const Tensor* in, int, Tensor* out, const Attrs&) {
  if (out[0].data != in[0].data) std::memmove(out[0].data, in[0].data, in[0].bytes());
}

namespace {

// One element converted. Float to integer truncates toward zero, saturates at the type's
// range and takes NaN to 0: C++ leaves out-of-range conversions undefined, and ONNX leaves them
// unspecified. The bounds are powers of two, exact in double.
template <class D, class S>
D convert(S v) {
  if constexpr (std::is_same_v<D, bool>) {
    return v != S(0);
  } else if constexpr (std::is_integral_v<D> && !std::is_integral_v<S>) {
    const double x = static_cast<double>(v);
    if (x != x) return D(0);
    const double end = std::ldexp(1.0, std::numeric_limits<D>::digits);  // one past the largest
    const double low = std::is_signed_v<D> ? -end : 0.0;
    if (x >= end) return std::numeric_limits<D>::max();
    if (x <= low) return std::numeric_limits<D>::min();
    return D(x);
  } else {
    return D(v);
  }
}

}  // namespace

void cast(const Tensor* in, int, Tensor* out, const Attrs&) {
  const int64_t n = in[0].numel();
  dispatch_dtype(in[0].dtype, [&](auto stag) {
    using S = decltype(stag);
    dispatch_dtype(out[0].dtype, [&](auto dtag) {
      using D = decltype(dtag);
      const S* s = in[0].as<S>();
      D* d = out[0].as<D>();
      for (int64_t i = 0; i < n; ++i) d[i] = convert<D>(s[i]);
    });
  });
}

namespace {

template <class Op>
void binary_same(const Tensor* in, Tensor* out, Op op) {
  dispatch_dtype(in[0].dtype, [&](auto tag) { binary_of<decltype(tag)>(in, out, op); });
}

template <class Op>
void compare(const Tensor* in, Tensor* out, Op op) {
  const Tensor* ins[2] = {&in[0], &in[1]};
  dispatch_dtype(in[0].dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* a = in[0].as<T>();
    const T* b = in[1].as<T>();
    bool* y = out[0].as<bool>();
    for_each_broadcast<2>(out[0], ins, [&](int64_t o, const int64_t* off) {
      y[o] = op(a[off[0]], b[off[1]]);
    });
  });
}

template <class T> T ek_pow(T a, T b) {
  if constexpr (std::is_integral_v<T> || is_half_v<T>) return T(std::pow(double(a), double(b)));
  else return std::pow(a, b);
}

}  // namespace

#define EK_BINARY(name, expr) \
  void name(const Tensor* in, int, Tensor* out, const Attrs&) { binary_same(in, out, [](auto x, auto y) { return (expr); }); }
EK_TYPED_BINARY_KERNEL_LIST(EK_BINARY)
EK_BINARY(logical_and, x && y)
EK_BINARY(logical_or, x || y)
EK_BINARY(logical_xor, bool(x) != bool(y))
#undef EK_BINARY

void div(const Tensor* in, int, Tensor* out, const Attrs&) {
  binary_same(in, out, [](auto x, auto y) {
    using T = decltype(x);
    // Integer division by zero is defined as 0, and MIN / -1 wraps instead of trapping.
    if constexpr (std::is_same_v<T, bool>) return T(x);
    else if constexpr (std::is_integral_v<T>) {
      if (y == 0) return T(0);
      if constexpr (std::is_signed_v<T>)
        if (y == T(-1)) return T(-static_cast<std::make_unsigned_t<T>>(x));
      return T(x / y);
    }
    else return x / y;
  });
}

void pow(const Tensor* in, int, Tensor* out, const Attrs&) {
  // The exponent may have another dtype (ONNX allows it); route through double then.
  if (in[0].dtype != in[1].dtype) {
    const Tensor* ins[2] = {&in[0], &in[1]};
    dispatch_dtype(in[0].dtype, [&](auto ta) {
      using A = decltype(ta);
      dispatch_dtype(in[1].dtype, [&](auto tb) {
        using B = decltype(tb);
        const A* a = in[0].as<A>();
        const B* b = in[1].as<B>();
        A* y = out[0].as<A>();
        for_each_broadcast<2>(out[0], ins, [&](int64_t o, const int64_t* off) {
          y[o] = A(std::pow(double(a[off[0]]), double(b[off[1]])));
        });
      });
    });
    return;
  }
  binary_same(in, out, [](auto x, auto y) { return ek_pow(x, y); });
}

#define EK_COMPARE(name, expr) \
  void name(const Tensor* in, int, Tensor* out, const Attrs&) { compare(in, out, [](auto x, auto y) { return bool(expr); }); }
EK_COMPARE(equal, x == y)
EK_COMPARE(less, x < y)
EK_COMPARE(less_equal, x <= y)
EK_COMPARE(greater, x > y)
EK_COMPARE(greater_equal, x >= y)
#undef EK_COMPARE

void where(const Tensor* in, int, Tensor* out, const Attrs&) {
  const Tensor* ins[3] = {&in[0], &in[1], &in[2]};
  const bool* c = in[0].as<bool>();
  dispatch_dtype(in[1].dtype, [&](auto tag) {
    using T = decltype(tag);
    const T* x = in[1].as<T>();
    const T* y = in[2].as<T>();
    T* d = out[0].as<T>();
    for_each_broadcast<3>(out[0], ins, [&](int64_t o, const int64_t* off) {
      d[o] = c[off[0]] ? x[off[1]] : y[off[2]];
    });
  });
}

void expand(const Tensor* in, int, Tensor* out, const Attrs&) {
  const Tensor* ins[1] = {&in[0]};
  const size_t es = dtype_size(in[0].dtype);
  const char* s = static_cast<const char*>(in[0].data);
  char* d = static_cast<char*>(out[0].data);
  for_each_broadcast<1>(out[0], ins, [&](int64_t o, const int64_t* off) {
    std::memcpy(d + o * es, s + off[0] * es, es);
  });
}

}  // namespace ek
