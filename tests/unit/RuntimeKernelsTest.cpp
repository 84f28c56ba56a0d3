// Runtime kernels against naive double-precision references written independently here.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "runtime/half.h"
#include "runtime/kernels/kernels.h"
#include "runtime/parallel.h"

namespace {

using ek::Attrs;
using ek::DType;
using ek::Tensor;

Tensor view(std::vector<float>& v, std::vector<int64_t> dims) {
  Tensor t;
  t.data = v.data();
  t.dtype = DType::F32;
  t.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) t.dims[i] = dims[i];
  return t;
}

std::vector<float> randomVector(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

void expectNear(const std::vector<float>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], tol) << "at " << i;
}

TEST(RuntimeKernels, MatmulBroadcastsBatchDims) {
  // a: [2, 1, 3, 4], b: [3, 4, 5] -> y: [2, 3, 3, 5]
  auto a = randomVector(2 * 3 * 4, 1), b = randomVector(3 * 4 * 5, 2);
  std::vector<float> y(2 * 3 * 3 * 5);
  Tensor in[2] = {view(a, {2, 1, 3, 4}), view(b, {3, 4, 5})};
  Tensor out[1] = {view(y, {2, 3, 3, 5})};
  ek::matmul(in, 2, out, Attrs{});
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 3; ++m)
        for (int n = 0; n < 5; ++n) {
          double s = 0;
          for (int k = 0; k < 4; ++k) s += double(a[(i * 3 + m) * 4 + k]) * b[(j * 4 + k) * 5 + n];
          want.push_back(s);
        }
  expectNear(y, want, 1e-5);
}

// swiglu gates the first half of each row by the second: against double precision, and
// bit-exact with the silu and mul kernels it replaces (the gate/up fusion must not change a
// model's numbers). 3 x 4000 rows: large enough to be split across threads.
TEST(RuntimeKernels, SwigluIsSiluTimesUp) {
  const int64_t rows = 3, F = 4000;
  auto x = randomVector(size_t(rows * 2 * F), 9);
  for (float& v : x) v *= 8.f;  // through the saturated ends of silu too
  std::vector<float> y(size_t(rows * F)), gate(size_t(rows * F)), up(size_t(rows * F)), s(size_t(rows * F)), m(size_t(rows * F));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < F; ++i) {
      gate[size_t(r * F + i)] = x[size_t(r * 2 * F + i)];
      up[size_t(r * F + i)] = x[size_t(r * 2 * F + F + i)];
    }
  for (int threads : {1, 2}) {
    ek::set_num_threads(threads);
    Tensor in[1] = {view(x, {rows, 2 * F})};
    Tensor out[1] = {view(y, {rows, F})};
    ek::swiglu(in, 1, out, Attrs{});
    Tensor g[1] = {view(gate, {rows, F})}, so[1] = {view(s, {rows, F})};
    ek::silu(g, 1, so, Attrs{});
    Tensor mi[2] = {view(s, {rows, F}), view(up, {rows, F})}, mo[1] = {view(m, {rows, F})};
    ek::mul(mi, 2, mo, Attrs{});
    for (size_t i = 0; i < y.size(); ++i) {
      const double g0 = gate[i], want = g0 / (1 + std::exp(-g0)) * up[i];
      ASSERT_NEAR(y[i], want, 1e-6 * std::fabs(want) + 1e-6) << "at " << i;
      ASSERT_EQ(std::memcmp(&y[i], &m[i], 4), 0) << "silu then mul differs at " << i;
    }
  }
  ek::set_num_threads(1);
}

TEST(RuntimeKernels, AddBroadcastsLikeNumpy) {
  auto a = randomVector(2 * 3, 3), b = randomVector(3, 4);
  std::vector<float> y(6);
  Tensor in[2] = {view(a, {2, 3}), view(b, {3})};
  Tensor out[1] = {view(y, {2, 3})};
  ek::add(in, 2, out, Attrs{});
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) want.push_back(double(a[i * 3 + j]) + b[j]);
  expectNear(y, want, 1e-6);
}

TEST(RuntimeKernels, SoftmaxOverMiddleAxis) {
  auto x = randomVector(2 * 4 * 3, 5);
  std::vector<float> y(x.size());
  Tensor in[1] = {view(x, {2, 4, 3})};
  Tensor out[1] = {view(y, {2, 4, 3})};
  Attrs a;
  a.i[0] = 1;
  ek::softmax(in, 1, out, a);
  std::vector<double> want(x.size());
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 3; ++k) {
      double sum = 0;
      for (int j = 0; j < 4; ++j) sum += std::exp(double(x[(i * 4 + j) * 3 + k]));
      for (int j = 0; j < 4; ++j) want[size_t((i * 4 + j) * 3 + k)] = std::exp(double(x[(i * 4 + j) * 3 + k])) / sum;
    }
  expectNear(y, want, 1e-6);
}

TEST(RuntimeKernels, RmsNormAndLayerNorm) {
  const int rows = 3, cols = 16;
  auto x = randomVector(rows * cols, 6), w = randomVector(cols, 7), b = randomVector(cols, 8);
  std::vector<float> y(x.size()), z(x.size());
  Attrs a;
  a.f[0] = 1e-5f;
  Tensor rin[2] = {view(x, {rows, cols}), view(w, {cols})};
  Tensor rout[1] = {view(y, {rows, cols})};
  ek::rms_norm(rin, 2, rout, a);
  a.i[0] = 1;
  Tensor lin[3] = {view(x, {rows, cols}), view(w, {cols}), view(b, {cols})};
  Tensor lout[1] = {view(z, {rows, cols})};
  ek::layer_norm(lin, 3, lout, a);
  std::vector<double> want_rms, want_ln;
  for (int r = 0; r < rows; ++r) {
    double ss = 0, mean = 0, var = 0;
    for (int c = 0; c < cols; ++c) { ss += double(x[r * cols + c]) * x[r * cols + c]; mean += x[r * cols + c]; }
    mean /= cols;
    for (int c = 0; c < cols; ++c) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
    var /= cols;
    for (int c = 0; c < cols; ++c) {
      want_rms.push_back(x[r * cols + c] / std::sqrt(ss / cols + 1e-5) * w[c]);
      want_ln.push_back((x[r * cols + c] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c]);
    }
  }
  expectNear(y, want_rms, 1e-5);
  expectNear(z, want_ln, 1e-5);
}

TEST(RuntimeKernels, AttentionWithGroupedHeadsAndMask) {
  const int B = 1, H = 4, Hkv = 2, S = 3, T = 5, D = 8;
  auto q = randomVector(B * H * S * D, 9), k = randomVector(B * Hkv * T * D, 10), v = randomVector(B * Hkv * T * D, 11);
  std::vector<float> mask(S * T);
  for (int s = 0; s < S; ++s)
    for (int t = 0; t < T; ++t) mask[size_t(s * T + t)] = t <= s + 2 ? 0.f : -1e30f;  // causal over a past of 2
  std::vector<float> y(size_t(B * H * S * D));
  Tensor in[4] = {view(q, {B, H, S, D}), view(k, {B, Hkv, T, D}), view(v, {B, Hkv, T, D}), view(mask, {S, T})};
  Tensor out[1] = {view(y, {B, H, S, D})};
  Attrs a;
  a.f[0] = 1.f / std::sqrt(float(D));
  ek::attention(in, 4, out, a);
  std::vector<double> want;
  for (int h = 0; h < H; ++h) {
    const int hk = h / (H / Hkv);
    for (int s = 0; s < S; ++s) {
      std::vector<double> p(T);
      double mx = -1e300, sum = 0;
      for (int t = 0; t < T; ++t) {
        double dot = 0;
        for (int d = 0; d < D; ++d) dot += double(q[size_t((h * S + s) * D + d)]) * k[size_t((hk * T + t) * D + d)];
        p[size_t(t)] = dot / std::sqrt(double(D)) + mask[size_t(s * T + t)];
        mx = std::max(mx, p[size_t(t)]);
      }
      for (double& x : p) { x = std::exp(x - mx); sum += x; }
      for (int d = 0; d < D; ++d) {
        double acc = 0;
        for (int t = 0; t < T; ++t) acc += p[size_t(t)] / sum * v[size_t((hk * T + t) * D + d)];
        want.push_back(acc);
      }
    }
  }
  expectNear(y, want, 1e-5);
}

TEST(RuntimeKernels, TransposeSliceConcatGather) {
  std::vector<float> x(2 * 3 * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  // transpose [2,3,4] -> perm (2,0,1) -> [4,2,3]
  std::vector<float> t(x.size());
  Attrs perm;
  perm.i[0] = 2; perm.i[1] = 0; perm.i[2] = 1;
  Tensor tin[1] = {view(x, {2, 3, 4})};
  Tensor tout[1] = {view(t, {4, 2, 3})};
  ek::transpose(tin, 1, tout, perm);
  for (int a = 0; a < 4; ++a)
    for (int b = 0; b < 2; ++b)
      for (int c = 0; c < 3; ++c) ASSERT_EQ(t[size_t((a * 2 + b) * 3 + c)], x[size_t((b * 3 + c) * 4 + a)]);
  // slice: axis 2 from 3 down with step -2 -> indices 3, 1
  std::vector<float> s(2 * 3 * 2);
  Attrs sl;
  sl.i[0] = 0; sl.i[1] = 0; sl.i[2] = 3; sl.i[3] = 1; sl.i[4] = 1; sl.i[5] = -2;
  Tensor sout[1] = {view(s, {2, 3, 2})};
  ek::slice(tin, 1, sout, sl);
  for (int b = 0; b < 2; ++b)
    for (int c = 0; c < 3; ++c) {
      ASSERT_EQ(s[size_t((b * 3 + c) * 2 + 0)], x[size_t((b * 3 + c) * 4 + 3)]);
      ASSERT_EQ(s[size_t((b * 3 + c) * 2 + 1)], x[size_t((b * 3 + c) * 4 + 1)]);
    }
  // concat along axis 1 of [2,3,4] and [2,3,4] -> [2,6,4]
  std::vector<float> c(2 * 6 * 4);
  Attrs ax;
  ax.i[0] = 1;
  Tensor cin[2] = {view(x, {2, 3, 4}), view(x, {2, 3, 4})};
  Tensor cout[1] = {view(c, {2, 6, 4})};
  ek::concat(cin, 2, cout, ax);
  for (int b = 0; b < 2; ++b)
    for (int r = 0; r < 6; ++r)
      for (int k = 0; k < 4; ++k) ASSERT_EQ(c[size_t((b * 6 + r) * 4 + k)], x[size_t((b * 3 + r % 3) * 4 + k)]);
  // gather rows (axis 1) with a negative index
  std::vector<int64_t> idx = {2, -3};
  std::vector<float> g(2 * 2 * 4);
  Tensor gin[2] = {view(x, {2, 3, 4}), Tensor{idx.data(), DType::I64, 1, {2}}};
  Tensor gout[1] = {view(g, {2, 2, 4})};
  ek::gather(gin, 2, gout, ax);
  for (int b = 0; b < 2; ++b)
    for (int k = 0; k < 4; ++k) {
      ASSERT_EQ(g[size_t((b * 2 + 0) * 4 + k)], x[size_t((b * 3 + 2) * 4 + k)]);
      ASSERT_EQ(g[size_t((b * 2 + 1) * 4 + k)], x[size_t((b * 3 + 0) * 4 + k)]);
    }
}

TEST(RuntimeKernels, ReduceMeanOverAxisMaskAndCast) {
  std::vector<float> x(2 * 3 * 4);
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) * 0.5f;
  std::vector<float> y(3);
  Attrs a;
  a.i[0] = 0b101;  // reduce axes 0 and 2
  Tensor in[1] = {view(x, {2, 3, 4})};
  Tensor out[1] = {view(y, {3})};
  ek::reduce_mean(in, 1, out, a);
  for (int j = 0; j < 3; ++j) {
    double s = 0;
    for (int i = 0; i < 2; ++i)
      for (int k = 0; k < 4; ++k) s += x[size_t((i * 3 + j) * 4 + k)];
    ASSERT_NEAR(y[size_t(j)], s / 8, 1e-6);
  }
  // The means are 0.5 * (7.5 + 4j) = 3.75, 5.75, 7.75; cast to int64 truncates them.
  std::vector<int64_t> ints(3);
  Tensor cin[1] = {view(y, {3})};
  Tensor cout[1] = {Tensor{ints.data(), DType::I64, 1, {3}}};
  ek::cast(cin, 1, cout, Attrs{});
  EXPECT_EQ(ints, (std::vector<int64_t>{3, 5, 7}));
}

// Cast against values worked out by hand (numpy's astype gives the same), never against
// the kernel's own conversion.
TEST(RuntimeKernels, CastTruncatesRoundsAndTestsNonzero) {
  std::vector<float> x = {-2.7f, -0.5f, 0.5f, 2.7f, 3.f, 0.f, -0.f, std::nanf("")};
  Tensor in[1] = {view(x, {8})};
  Tensor first_five[1] = {view(x, {5})};
  std::vector<int64_t> ints(5);
  Tensor to_int[1] = {Tensor{ints.data(), DType::I64, 1, {5}}};
  ek::cast(first_five, 1, to_int, Attrs{});  // toward zero
  EXPECT_EQ(ints, (std::vector<int64_t>{-2, 0, 0, 2, 3}));
  bool flags[8] = {};
  Tensor to_bool[1] = {Tensor{flags, DType::Bool, 1, {8}}};
  ek::cast(in, 1, to_bool, Attrs{});  // nonzero (NaN included) is true, +-0 false
  const bool want_flags[8] = {true, true, true, true, true, false, false, true};
  for (int i = 0; i < 8; ++i) EXPECT_EQ(flags[i], want_flags[i]) << "element " << i;
  // int64 -> f32 rounds to nearest even: 2^24 + 1 is not a float.
  std::vector<int64_t> big = {-3, 16777217, 16777219};
  std::vector<float> as_float(3);
  Tensor ints_in[1] = {Tensor{big.data(), DType::I64, 1, {3}}};
  Tensor floats_out[1] = {view(as_float, {3})};
  ek::cast(ints_in, 1, floats_out, Attrs{});
  EXPECT_EQ(as_float, (std::vector<float>{-3.f, 16777216.f, 16777220.f}));
  // f32 -> f16 bit patterns: 1, the tie 1 + 2^-11 to even (1), 65520 overflows to inf.
  std::vector<float> h = {1.f, 1.f + 1.f / 2048, 65520.f};
  uint16_t bits[3] = {};
  Tensor h_in[1] = {view(h, {3})};
  Tensor h_out[1] = {Tensor{bits, DType::F16, 1, {3}}};
  ek::cast(h_in, 1, h_out, Attrs{});
  EXPECT_EQ(bits[0], 0x3C00);
  EXPECT_EQ(bits[1], 0x3C00);
  EXPECT_EQ(bits[2], 0x7C00);
  // Out of range saturates and NaN is 0 (found by fuzzing: a folded Cast of 7e22 was undefined).
  std::vector<float> wide = {7.18e22f, -7.18e22f, std::nanf(""), 300.f, -1.f, 9.3e18f};
  std::vector<int64_t> sat64(6);
  Tensor wide_in[1] = {view(wide, {6})};
  Tensor to_i64[1] = {Tensor{sat64.data(), DType::I64, 1, {6}}};
  ek::cast(wide_in, 1, to_i64, Attrs{});
  EXPECT_EQ(sat64, (std::vector<int64_t>{INT64_MAX, INT64_MIN, 0, 300, -1, INT64_MAX}));
  uint8_t sat8[6] = {};
  Tensor to_u8[1] = {Tensor{sat8, DType::U8, 1, {6}}};
  ek::cast(wide_in, 1, to_u8, Attrs{});
  const uint8_t want8[6] = {255, 0, 0, 255, 0, 255};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(sat8[i], want8[i]) << "element " << i;
}

TEST(RuntimeKernels, GeluTanhAndErfForms) {
  auto x = randomVector(64, 12);
  std::vector<float> y(x.size()), z(x.size());
  Tensor in[1] = {view(x, {64})};
  Tensor out_t[1] = {view(y, {64})}, out_e[1] = {view(z, {64})};
  Attrs tanh_form;
  tanh_form.i[0] = 1;
  ek::gelu(in, 1, out_t, tanh_form);
  ek::gelu(in, 1, out_e, Attrs{});
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    ASSERT_NEAR(y[i], 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))), 1e-6);
    ASSERT_NEAR(z[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-6);
  }
}

TEST(RuntimeKernels, RegistryFindsEveryKernelByName) {
  // Every kernel of the one list, by its own name, to its own function.
  int kernels = 0;
#define EK_CHECK_FOUND(n)                                 \
  EXPECT_EQ(ek::find_kernel(#n), &ek::n) << "kernel " #n; \
  ++kernels;
  EK_KERNEL_LIST(EK_CHECK_FOUND)
#undef EK_CHECK_FOUND
  EXPECT_GE(kernels, 55);
  EXPECT_EQ(ek::find_kernel("no_such_kernel"), nullptr);
  EXPECT_EQ(ek::find_kernel("line"), nullptr);     // a prefix of "linear" is no name
  EXPECT_EQ(ek::find_kernel("linear "), nullptr);  // nor is a longer string
  EXPECT_EQ(ek::find_kernel(""), nullptr);
}

}  // namespace

namespace {

TEST(HalfFloats, KnownBitPatternsAndRounding) {
  EXPECT_EQ(ek::f32_to_f16_bits(1.f), 0x3C00);
  EXPECT_EQ(ek::f32_to_f16_bits(-2.f), 0xC000);
  EXPECT_EQ(ek::f32_to_f16_bits(65504.f), 0x7BFF);            // largest finite
  EXPECT_EQ(ek::f32_to_f16_bits(65520.f), 0x7C00);            // rounds up to inf
  EXPECT_EQ(ek::f32_to_f16_bits(std::ldexp(1.f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(ek::f32_to_f16_bits(1.f + std::ldexp(1.f, -11)), 0x3C00);      // tie -> even
  EXPECT_EQ(ek::f32_to_f16_bits(1.f + 3 * std::ldexp(1.f, -11)), 0x3C02);  // tie -> even (up)
  EXPECT_EQ(ek::f32_to_bf16_bits(1.f), 0x3F80);
  EXPECT_EQ(ek::f32_to_bf16_bits(1.f + std::ldexp(1.f, -8)), 0x3F80);      // tie -> even
  EXPECT_EQ(ek::f32_to_bf16_bits(1.f + 3 * std::ldexp(1.f, -8)), 0x3F82);
}

TEST(HalfFloats, EveryF16ValueRoundTripsThroughF32) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const float f = ek::f16_bits_to_f32(uint16_t(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(ek::f32_to_f16_bits(f), b) << std::hex << b;
  }
}

}  // namespace
