// The LLM runtime pieces (linear/embedding on ggml blocks, rope, kv_append, causal attention
// over a cache, the sampler, parallel_for) against naive double-precision references written
// here. Block encoding and decoding (including the f16 scales) are written independently of
// runtime/kernels/ggml_blocks.h and runtime/half.h, from llama.cpp's documented layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "runtime/kernels/kernels.h"
#include "runtime/kernels/kquant_blocks.h"
#include "runtime/llm/sampler.h"
#include "runtime/parallel.h"

namespace {

using ek::Attrs;
using ek::DType;
using ek::Tensor;

// Values of the format slot, spelled here rather than taken from ek::WeightFormat so a
// renumbering there is caught.
enum Format : int64_t { kF32 = 0, kF16 = 1, kQ8_0 = 2, kQ4_0 = 3 };
const char* formatName(int64_t f) {
  static const char* names[] = {"f32", "f16", "q8_0", "q4_0"};
  return names[f];
}

Tensor view(void* data, DType t, std::vector<int64_t> dims) {
  Tensor v;
  v.data = data;
  v.dtype = t;
  v.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) v.dims[i] = dims[i];
  return v;
}

std::vector<float> randomVector(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(g);
  return v;
}

// IEEE half <-> double, finite values (random f16 weights include subnormals).
double halfToDouble(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 31, mant = h & 1023;
  double v = exp == 0 ? std::ldexp(double(mant), -24) : std::ldexp(1.0 + mant / 1024.0, exp - 15);
  return sign ? -v : v;
}
uint16_t doubleToHalf(double x) {
  const uint16_t sign = x < 0 ? 0x8000 : 0;
  if (std::fabs(x) < std::ldexp(1.0, -14))  // subnormal (or zero): multiples of 2^-24
    return uint16_t(sign | uint16_t(std::lround(std::fabs(x) * std::ldexp(1.0, 24))));
  int e;
  const double m = std::frexp(std::fabs(x), &e);  // |x| = m * 2^e, m in [0.5, 1)
  int exp = e - 1;
  long mant = std::lround((2 * m - 1) * 1024);
  if (mant == 1024) mant = 0, ++exp;
  EXPECT_TRUE(exp >= -14 && exp <= 15) << "value " << x << " outside the half range";
  return uint16_t(sign | uint16_t((exp + 15) << 10) | uint16_t(mant));
}

void putHalf(uint8_t* p, uint16_t h) {  // little endian, as GGUF files store it
  p[0] = uint8_t(h & 0xff);
  p[1] = uint8_t(h >> 8);
}
uint16_t getHalf(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }

int64_t rowBytes(int64_t f, int64_t k) {
  switch (f) {
    case kF32: return 4 * k;
    case kF16: return 2 * k;
    case kQ8_0: return k / 32 * 34;
    case 10: return k / 256 * 84;  // the k-quants q2_k .. q6_k
    case 11: return k / 256 * 110;
    case 12: return k / 256 * 144;
    case 13: return k / 256 * 176;
    case 14: return k / 256 * 210;
    default: return k / 32 * 18;
  }
}

// Stores rows x cols values (cols a multiple of 32 for the block formats) in format f, byte
// by byte. Q8_0: d = amax / 127, q = round(x / d). Q4_0 as ggml: d = (signed max by
// magnitude) / -8, q = clamp(floor(x / d + 8.5), 0, 15).
std::vector<uint8_t> encodeRows(int64_t f, const std::vector<float>& w, int64_t rows, int64_t cols) {
  std::vector<uint8_t> out(size_t(rows * rowBytes(f, cols)));
  uint8_t* p = out.data();
  for (int64_t r = 0; r < rows; ++r) {
    const float* x = w.data() + r * cols;
    if (f == kF32) {
      std::memcpy(p, x, size_t(cols) * 4);
      p += cols * 4;
    } else if (f == kF16) {
      for (int64_t c = 0; c < cols; ++c, p += 2) putHalf(p, doubleToHalf(x[c]));
    } else {
      for (int64_t b = 0; b < cols / 32; ++b, x += 32) {
        if (f == kQ8_0) {
          double amax = 0;
          for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(double(x[j])));
          const uint16_t dh = doubleToHalf(amax / 127);
          const double d = halfToDouble(dh);
          putHalf(p, dh);
          for (int j = 0; j < 32; ++j) {
            const long q = std::clamp(std::lround(x[j] / d), -128l, 127l);
            p[2 + j] = uint8_t(int8_t(q));
          }
          p += 34;
        } else {
          double max = 0;
          for (int j = 0; j < 32; ++j)
            if (std::fabs(double(x[j])) > std::fabs(max)) max = x[j];
          const uint16_t dh = doubleToHalf(max / -8);
          const double d = halfToDouble(dh);
          putHalf(p, dh);
          int q[32];
          for (int j = 0; j < 32; ++j) q[j] = int(std::clamp(std::floor(x[j] / d + 8.5), 0.0, 15.0));
          for (int j = 0; j < 16; ++j) p[2 + j] = uint8_t(q[j] | (q[j + 16] << 4));
          p += 18;
        }
      }
    }
  }
  return out;
}

// The reference: the values the stored rows represent, decoded from the bytes.
std::vector<double> decodeRows(int64_t f, const std::vector<uint8_t>& bytes, int64_t rows, int64_t cols) {
  std::vector<double> out;
  const uint8_t* p = bytes.data();
  for (int64_t r = 0; r < rows; ++r) {
    if (f == kF32) {
      for (int64_t c = 0; c < cols; ++c, p += 4) {
        float v;
        std::memcpy(&v, p, 4);
        out.push_back(v);
      }
    } else if (f == kF16) {
      for (int64_t c = 0; c < cols; ++c, p += 2) out.push_back(halfToDouble(getHalf(p)));
    } else if (f == kQ8_0) {
      for (int64_t b = 0; b < cols / 32; ++b, p += 34) {
        const double d = halfToDouble(getHalf(p));
        for (int j = 0; j < 32; ++j) out.push_back(d * double(int8_t(p[2 + j])));
      }
    } else {
      for (int64_t b = 0; b < cols / 32; ++b, p += 18) {
        const double d = halfToDouble(getHalf(p));
        double block[32];
        for (int j = 0; j < 16; ++j) {
          block[j] = d * ((p[2 + j] & 15) - 8);
          block[j + 16] = d * ((p[2 + j] >> 4) - 8);
        }
        out.insert(out.end(), block, block + 32);
      }
    }
  }
  return out;
}

// Random weights whose blocks have different magnitudes, so a scale applied to the wrong block
// shows.
std::vector<float> randomWeights(int64_t rows, int64_t cols, uint32_t seed) {
  std::vector<float> w = randomVector(size_t(rows * cols), seed);
  for (size_t i = 0; i < w.size(); ++i) w[i] *= float(1 + (i / 32) % 5) * 0.25f;
  return w;
}

// The weight element type the compiler gives each format (the kernel only reads bytes).
DType storageType(int64_t f) { return f == kF32 ? DType::F32 : f == kF16 ? DType::F16 : DType::I8; }
int64_t storageCols(int64_t f, int64_t k) { return rowBytes(f, k) / int64_t(ek::dtype_size(storageType(f))); }

// The encoder is the reference's own input, so check it decodes near the weights it was given
// (a broken encoder would otherwise only weaken the linear tests, not fail them).
TEST(LlmKernels, TestEncodersRoundTrip) {
  const int64_t rows = 3, cols = 64;
  const auto w = randomWeights(rows, cols, 7);
  for (int64_t f : {kF32, kF16, kQ8_0, kQ4_0}) {
    const auto back = decodeRows(f, encodeRows(f, w, rows, cols), rows, cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t b = 0; b < cols / 32; ++b) {
        double amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(double(w[size_t(r * cols + b * 32 + j)])));
        // Q8_0: half a step (plus the scale's f16 rounding). Q4_0's levels are -8..7 steps
        // with -8 at the signed max, so the opposite extreme may be off by a full step.
        const double tol = f == kF32 ? 0
                           : f == kF16 ? amax * 1e-3
                           : f == kQ8_0 ? amax / 127 * 0.5 + amax * 2e-3
                                        : amax / 8 + amax * 2e-3;
        for (int j = 0; j < 32; ++j) {
          const size_t i = size_t(r * cols + b * 32 + j);
          ASSERT_NEAR(back[i], w[i], tol) << formatName(f) << " at " << i;
        }
      }
  }
}

std::vector<float> runLinear(int64_t f, std::vector<float>& x, const std::vector<int64_t>& xDims,
                             std::vector<uint8_t>& w, int64_t n, int64_t k) {
  int64_t m = 1;
  for (size_t i = 0; i + 1 < xDims.size(); ++i) m *= xDims[i];
  std::vector<float> y(size_t(m * n), std::numeric_limits<float>::quiet_NaN());
  std::vector<int64_t> yDims = xDims;
  yDims.back() = n;
  Tensor in[2] = {view(x.data(), DType::F32, xDims), view(w.data(), storageType(f), {n, storageCols(f, k)})};
  Tensor out[1] = {view(y.data(), DType::F32, yDims)};
  Attrs a;
  a.i[0] = f;
  ek::linear(in, 2, out, a);
  return y;
}

// Activations whose 32-blocks are exactly 8-bit: integers in [-127, 127] (each block holding
// a +-127) times a power of two. Any max/127 quantization of them is lossless, so the
// quantized-weight paths must then match the exact reference to rounding.
std::vector<float> gridActivations(size_t n, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_int_distribution<int> q(-127, 127);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = float(i % 32 == 5 ? (i / 32 % 2 ? 127 : -127) : q(g)) * std::ldexp(1.f, -7 - int(i / 32 % 3));
  return x;
}

TEST(LlmKernels, LinearMatchesDequantizedReference) {
  struct Case {
    std::vector<int64_t> xDims;
    int64_t n;
  };
  // M (rows of x) 1 (decode), 3, 5, and 2 x 3 with a batch dim; N below and above the
  // parallel_for grain (16) so the rows are split across threads.
  const std::vector<Case> cases = {{{1, 32}, 1}, {{3, 96}, 17}, {{2, 3, 64}, 40}, {{5, 128}, 70}};
  uint32_t seed = 100;
  for (int64_t f : {kF32, kF16, kQ8_0, kQ4_0})
    for (bool grid : {false, true})
      for (const Case& c : cases) {
        const bool quantized = f == kQ8_0 || f == kQ4_0;
        const int64_t k = c.xDims.back(), n = c.n;
        int64_t m = 1;
        for (size_t i = 0; i + 1 < c.xDims.size(); ++i) m *= c.xDims[i];
        auto x = grid ? gridActivations(size_t(m * k), ++seed) : randomVector(size_t(m * k), ++seed);
        auto w = encodeRows(f, randomWeights(n, k, ++seed), n, k);
        const auto wd = decodeRows(f, w, n, k);

        ek::set_num_threads(1);
        const auto y1 = runLinear(f, x, c.xDims, w, n, k);
        ek::set_num_threads(2);
        const auto y2 = runLinear(f, x, c.xDims, w, n, k);
        ek::set_num_threads(3);
        const auto y3 = runLinear(f, x, c.xDims, w, n, k);
        ek::set_num_threads(1);

        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double want = 0, mag = 0, actBound = 0;
            for (int64_t b = 0; b < k / 32; ++b) {
              double amax = 0, wsum = 0;
              for (int64_t kk = b * 32; kk < b * 32 + 32; ++kk) {
                const double xv = x[size_t(i * k + kk)], wv = wd[size_t(j * k + kk)];
                want += xv * wv;
                mag += std::fabs(xv * wv);
                amax = std::max(amax, std::fabs(xv));
                wsum += std::fabs(wv);
              }
              // Quantized weights take 8-bit activations (llama.cpp's scheme): each element is
              // off by at most half a step (amax / 254) plus the f16 rounding of the block
              // scale (127 steps x 2^-11 relative = amax / 2048).
              actBound += amax * (1.0 / 254 + 1.0 / 2048) * wsum;
            }
            for (int64_t kk = k / 32 * 32; kk < k; ++kk) {  // a partial block (f32/f16 only)
              want += double(x[size_t(i * k + kk)]) * wd[size_t(j * k + kk)];
              mag += std::fabs(double(x[size_t(i * k + kk)]) * wd[size_t(j * k + kk)]);
            }
            // f32 accumulation over k <= 128 terms: well under 1e-5 of the sum of magnitudes.
            const double tol = 1e-5 * mag + 1e-6 + (quantized && !grid ? actBound : 0.0);
            const size_t at = size_t(i * n + j);
            ASSERT_NEAR(y1[at], want, tol) << formatName(f) << (grid ? " grid" : " random") << " m=" << i << " n=" << j
                                           << " K=" << k;
            // Each output is one dot product whichever thread computes it: the same bits.
            ASSERT_EQ(std::memcmp(&y1[at], &y2[at], 4), 0) << formatName(f) << " 2 threads differ at " << at;
            ASSERT_EQ(std::memcmp(&y1[at], &y3[at], 4), 0) << formatName(f) << " 3 threads differ at " << at;
          }
      }
}

// The k-quants: random super-blocks (every byte pattern is a valid block once the f16 scales
// are sane), weights read back by ek::k_row_values (checked against llama.cpp's own decoder in
// tests/e2e/test_kquants.py), activations quantized as llama.cpp's Q8_K does: the kernel's
// integer sums times scales against a double dot product. Built portable and with each x86
// target's flags, this covers the scalar and the AVX2 dot product.
TEST(LlmKernels, LinearKQuantsMatchDequantizedReference) {
  struct KFormat {
    int64_t code, block_bytes;
    std::vector<int> half_at;  // byte offsets of the f16 scales
  };
  const KFormat formats[] = {{10, 84, {80, 82}}, {11, 110, {108}}, {12, 144, {0, 2}}, {13, 176, {0, 2}}, {14, 210, {208}}};
  uint32_t seed = 500;
  for (const KFormat& f : formats)
    for (const std::vector<int64_t>& xDims : std::vector<std::vector<int64_t>>{{1, 256}, {3, 512}}) {
      const int64_t k = xDims.back(), n = 19, m = xDims[0], blocks = k / 256;
      std::mt19937 rng(++seed);
      std::vector<uint8_t> w(size_t(n * blocks * f.block_bytes));
      for (uint8_t& b : w) b = uint8_t(rng());
      for (int64_t b = 0; b < n * blocks; ++b)
        for (int at : f.half_at) {
          const uint16_t h = uint16_t(0x1C00 + (rng() & 0x3FF));  // 2^-8 .. 2^-7
          std::memcpy(&w[size_t(b * f.block_bytes + at)], &h, 2);
        }
      std::vector<float> wd(size_t(n * k));
      for (int64_t j = 0; j < n; ++j)
        ek::k_row_values(ek::WeightFormat(f.code), w.data() + j * blocks * f.block_bytes, wd.data() + j * k, k);
      auto x = randomVector(size_t(m * k), ++seed);
      ek::set_num_threads(2);
      const auto y = runLinear(f.code, x, xDims, w, n, k);
      ek::set_num_threads(1);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double want = 0, mag = 0;
          for (int64_t b = 0; b < blocks; ++b) {  // Q8_K: q = min(127, round(-127 / x_max * x))
            const float* xb = x.data() + i * k + b * 256;
            float amax = 0, max = 0;
            for (int l = 0; l < 256; ++l)
              if (std::fabs(xb[l]) > amax) amax = std::fabs(xb[l]), max = xb[l];
            const float iscale = -127.f / max;
            for (int l = 0; l < 256; ++l) {
              const double a = double(std::min(127.f, std::nearbyint(iscale * xb[l]))) / double(iscale);
              want += a * wd[size_t(j * k + b * 256 + l)];
              mag += std::fabs(a * wd[size_t(j * k + b * 256 + l)]);
            }
          }
          // Exact integer sums; float products of the two scales and the sums: ~1e-6 relative.
          ASSERT_NEAR(y[size_t(i * n + j)], want, 1e-5 * mag + 1e-6) << "format " << f.code << " m=" << i << " n=" << j << " K=" << k;
        }
    }
}

TEST(LlmKernels, LinearFloatFormatsAcceptAnyK) {
  // f32/f16 rows are not blocked: K = 40 is fine there.
  for (int64_t f : {kF32, kF16}) {
    const int64_t m = 2, n = 5, k = 40;
    auto x = randomVector(size_t(m * k), 11);
    auto w = encodeRows(f, randomWeights(n, k, 12), n, k);
    const auto wd = decodeRows(f, w, n, k);
    const auto y = runLinear(f, x, {m, k}, w, n, k);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        for (int64_t kk = 0; kk < k; ++kk) want += double(x[size_t(i * k + kk)]) * wd[size_t(j * k + kk)];
        ASSERT_NEAR(y[size_t(i * n + j)], want, 1e-5) << formatName(f);
      }
  }
}

template <class Id>
void checkEmbedding(int64_t f, DType idType) {
  const int64_t V = 5, D = 64;
  auto table = encodeRows(f, randomWeights(V, D, 21 + uint32_t(f)), V, D);
  const auto td = decodeRows(f, table, V, D);
  // 5 and -1 are outside the table; 2 appears twice.
  std::vector<Id> ids = {3, 0, 5, 2, 4, -1, 2, 1};
  std::vector<float> y(ids.size() * size_t(D), 123.f);  // anything not written stays 123
  Tensor in[2] = {view(table.data(), storageType(f), {V, storageCols(f, D)}),
                  view(ids.data(), idType, {2, int64_t(ids.size()) / 2})};
  Tensor out[1] = {view(y.data(), DType::F32, {2, int64_t(ids.size()) / 2, D})};
  Attrs a;
  a.i[0] = f;
  ek::embedding(in, 2, out, a);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t d = 0; d < D; ++d) {
      const float got = y[i * size_t(D) + size_t(d)];
      if (ids[i] < 0 || ids[i] >= V) {
        ASSERT_EQ(got, 0.f) << formatName(f) << " id " << int64_t(ids[i]) << " must give a zero row";
      } else {
        // One float product d * q at most: a rounding of the value.
        const double want = td[size_t(int64_t(ids[i]) * D + d)];
        ASSERT_NEAR(got, want, 1e-7 * std::fabs(want)) << formatName(f) << " id " << int64_t(ids[i]) << " col " << d;
      }
    }
}

TEST(LlmKernels, EmbeddingRowsMatchDecodedTable) {
  for (int64_t f : {kF32, kF16, kQ8_0, kQ4_0}) {
    checkEmbedding<int64_t>(f, DType::I64);
    checkEmbedding<int32_t>(f, DType::I32);
  }
}

void checkRope(bool interleaved, int64_t D, float theta) {
  const int64_t B = 2, H = 3, S = 3;
  std::vector<int64_t> pos = {0, 7, 100};
  auto x = randomVector(size_t(B * H * S * D), uint32_t(D) + (interleaved ? 1 : 0));
  std::vector<float> y(x.size(), std::numeric_limits<float>::quiet_NaN());
  Tensor in[2] = {view(x.data(), DType::F32, {B, H, S, D}), view(pos.data(), DType::I64, {S})};
  Tensor out[1] = {view(y.data(), DType::F32, {B, H, S, D})};
  Attrs a;
  a.f[0] = theta;
  a.i[0] = interleaved ? 1 : 0;
  ek::rope(in, 2, out, a);
  const char* mode = interleaved ? "interleaved" : "halves";
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t s = 0; s < S; ++s) {
      const size_t row = size_t((bh * S + s) * D);
      for (int64_t i = 0; i < D / 2; ++i) {
        const double angle = double(pos[size_t(s)]) * std::pow(double(theta), -2.0 * double(i) / double(D));
        const size_t i0 = row + size_t(interleaved ? 2 * i : i), i1 = row + size_t(interleaved ? 2 * i + 1 : i + D / 2);
        const double x0 = x[i0], x1 = x[i1];
        const double w0 = x0 * std::cos(angle) - x1 * std::sin(angle), w1 = x0 * std::sin(angle) + x1 * std::cos(angle);
        // Relative to the pair's magnitude: the kernel's float angles (llama.cpp's repeated
        // multiplication) drift by ~1e-5 at position 100.
        const double tol = 1e-4 * (std::fabs(x0) + std::fabs(x1)) + 1e-7;
        ASSERT_NEAR(y[i0], w0, tol) << mode << " D=" << D << " pos=" << pos[size_t(s)] << " pair " << i;
        ASSERT_NEAR(y[i1], w1, tol) << mode << " D=" << D << " pos=" << pos[size_t(s)] << " pair " << i;
      }
    }
}

TEST(LlmKernels, RopeInterleavedPairs) {
  checkRope(true, 8, 10000.f);
  checkRope(true, 64, 10000.f);
}

TEST(LlmKernels, RopeHalves) {
  checkRope(false, 8, 10000.f);
  checkRope(false, 64, 1000000.f);
}

template <class T>
void checkKvAppend(DType dtype, int64_t past, int64_t S) {
  const int64_t B = 2, H = 3, cap = 10, D = 4;
  std::vector<T> cache(size_t(B * H * cap * D)), update(size_t(B * H * S * D));
  for (size_t i = 0; i < cache.size(); ++i) cache[i] = T(1000 + i);  // distinct old contents
  for (size_t i = 0; i < update.size(); ++i) update[i] = T(5000 + i);
  const std::vector<T> before = cache;
  Tensor in[1] = {view(update.data(), dtype, {B, H, S, D})};
  Tensor out[1] = {view(cache.data(), dtype, {B, H, cap, D})};
  Attrs a;
  a.i[0] = past;
  ek::kv_append(in, 1, out, a);
  for (int64_t bh = 0; bh < B * H; ++bh)
    for (int64_t r = 0; r < cap; ++r)
      for (int64_t d = 0; d < D; ++d) {
        const size_t at = size_t((bh * cap + r) * D + d);
        const T want = r >= past && r < past + S ? update[size_t((bh * S + r - past) * D + d)] : before[at];
        ASSERT_EQ(cache[at], want) << "bh " << bh << " row " << r << " past " << past << " S " << S;
      }
}

TEST(LlmKernels, KvAppendWritesOnlyNewRows) {
  checkKvAppend<float>(DType::F32, 0, 3);     // prefill into an empty cache
  checkKvAppend<float>(DType::F32, 4, 1);     // a decode step
  checkKvAppend<float>(DType::F32, 7, 3);     // the last rows of the capacity
  checkKvAppend<uint16_t>(DType::F16, 5, 2);  // element size from the dtype
}

// Naive attention: query s of S sees keys 0 .. T - S + s when causal, all T otherwise.
std::vector<double> referenceAttention(const std::vector<float>& q, const std::vector<float>& k,
                                       const std::vector<float>& v, int64_t B, int64_t H, int64_t Hkv, int64_t S,
                                       int64_t C, int64_t T, int64_t D, int64_t Dv, double scale, bool causal) {
  std::vector<double> y(size_t(B * H * S * Dv));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      const int64_t hk = h / (H / Hkv);
      for (int64_t s = 0; s < S; ++s) {
        const int64_t last = causal ? T - S + s : T - 1;
        std::vector<double> p;
        double max = -INFINITY;
        for (int64_t t = 0; t <= last; ++t) {
          double dot = 0;
          for (int64_t d = 0; d < D; ++d)
            dot += double(q[size_t(((b * H + h) * S + s) * D + d)]) * k[size_t(((b * Hkv + hk) * C + t) * D + d)];
          p.push_back(dot * scale);
          max = std::max(max, p.back());
        }
        double sum = 0;
        for (double& x : p) sum += x = std::exp(x - max);
        for (int64_t e = 0; e < Dv; ++e) {
          double acc = 0;
          for (int64_t t = 0; t <= last; ++t) acc += p[size_t(t)] / sum * v[size_t(((b * Hkv + hk) * C + t) * Dv + e)];
          y[size_t(((b * H + h) * S + s) * Dv + e)] = acc;
        }
      }
    }
  return y;
}

struct AttentionShape {
  int64_t B = 2, H = 4, Hkv = 2, C = 12, D = 8, Dv = 6;
};

void checkCachedAttention(bool causal, int64_t S, int64_t T, AttentionShape shape = {}) {
  const auto [B, H, Hkv, C, D, Dv] = shape;
  const float scale = 1.f / std::sqrt(float(D));
  auto q = randomVector(size_t(B * H * S * D), 31, -2.f, 2.f);
  auto k = randomVector(size_t(B * Hkv * C * D), 32, -2.f, 2.f);
  auto v = randomVector(size_t(B * Hkv * C * Dv), 33);
  // Rows past T are unused capacity: NaN there poisons the output if the kernel reads them.
  for (int64_t bh = 0; bh < B * Hkv; ++bh)
    for (int64_t t = T; t < C; ++t) {
      for (int64_t d = 0; d < D; ++d) k[size_t((bh * C + t) * D + d)] = std::numeric_limits<float>::quiet_NaN();
      for (int64_t d = 0; d < Dv; ++d) v[size_t((bh * C + t) * Dv + d)] = std::numeric_limits<float>::quiet_NaN();
    }
  std::vector<float> y(size_t(B * H * S * Dv), std::numeric_limits<float>::quiet_NaN());
  Tensor in[3] = {view(q.data(), DType::F32, {B, H, S, D}), view(k.data(), DType::F32, {B, Hkv, C, D}),
                  view(v.data(), DType::F32, {B, Hkv, C, Dv})};
  Tensor out[1] = {view(y.data(), DType::F32, {B, H, S, Dv})};
  Attrs a;
  a.f[0] = scale;
  a.i[0] = causal ? 1 : 0;
  a.i[1] = T;
  ek::attention(in, 3, out, a);
  const auto want = referenceAttention(q, k, v, B, H, Hkv, S, C, T, D, Dv, scale, causal);
  // An output is a convex combination of values in [-1, 1]: float rounding of its T-term sums
  // (and of the softmax weights) stays within a few T ulps of 1.
  const double bound = std::max(1e-5, 4.0 * double(T) * std::ldexp(1.0, -24));
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_NEAR(y[i], want[i], bound) << "causal=" << causal << " S=" << S << " T=" << T << " at " << i;
  // Any thread count gives the same bits (the key spans depend on T only).
  std::vector<float> again(y.size(), std::numeric_limits<float>::quiet_NaN());
  out[0] = view(again.data(), DType::F32, {B, H, S, Dv});
  ek::set_num_threads(2);
  ek::attention(in, 3, out, a);
  ek::set_num_threads(1);
  ASSERT_EQ(std::memcmp(again.data(), y.data(), y.size() * sizeof(float)), 0) << "2 threads differ, S=" << S << " T=" << T;
}

TEST(LlmKernels, CausalAttentionOverCachePrefix) {
  checkCachedAttention(true, 3, 7);  // 4 cached keys + 3 new ones, capacity 12
  checkCachedAttention(true, 1, 9);  // a decode step sees every key in use
  checkCachedAttention(true, 5, 5);  // prefill of an empty cache: the plain causal mask
}

TEST(LlmKernels, NonCausalAttentionUsesFirstTKeys) { checkCachedAttention(false, 3, 7); }

// A decode step over a long context splits the keys into spans (kAttentionSplitKeys) merged at
// the end; a KV head shared by more query heads than one pass takes is attended in slices.
TEST(LlmKernels, LongDecodeAttentionSplitsKeysAndSlicesLargeGroups) {
  ASSERT_EQ(ek::attention_key_spans(1, 700), 3);
  checkCachedAttention(true, 1, 700, {1, 40, 2, 800, 64, 48});  // 3 spans, groups of 20 in two slices
  checkCachedAttention(true, 1, 513, {2, 6, 3, 520, 32, 32});   // a last span of one key
  checkCachedAttention(true, 4, 600, {1, 40, 2, 640, 64, 64});  // several queries: no split
}

// A KV cache stored as f16 or q8_0 (--kv-type): kv_append rounds each row into the stored
// form; attention reads those bytes. Both against this file's own decoder.
TEST(LlmKernels, KvAppendStoresRowsInTheCacheFormat) {
  const int64_t BH = 3, S = 2, cap = 5, past = 2, D = 64;
  const auto update = randomWeights(BH * S, D, 41);
  for (int64_t f : {kF16, kQ8_0}) {
    const int64_t row = rowBytes(f, D);
    std::vector<uint8_t> cache(size_t(BH * cap * row), 0xA5);  // old contents: a marker byte
    Tensor in[1] = {view(const_cast<float*>(update.data()), DType::F32, {1, BH, S, D})};
    Tensor out[1] = {view(cache.data(), storageType(f), {1, BH, cap, storageCols(f, D)})};
    Attrs a;
    a.i[0] = past;
    a.i[1] = f;
    ek::kv_append(in, 1, out, a);
    for (int64_t bh = 0; bh < BH; ++bh)
      for (int64_t r = 0; r < cap; ++r) {
        const uint8_t* at = cache.data() + (bh * cap + r) * row;
        if (r < past || r >= past + S) {
          ASSERT_TRUE(std::all_of(at, at + row, [](uint8_t b) { return b == 0xA5; })) << formatName(f) << " row " << r;
          continue;
        }
        const float* x = update.data() + (bh * S + r - past) * D;
        const auto got = decodeRows(f, std::vector<uint8_t>(at, at + row), 1, D);
        for (int64_t c = 0; c < D; ++c) {
          // Round to nearest: f16 within half an ulp (2^-11 relative); q8_0 within half a step
          // of d = max|block| / 127, plus what storing d at f16 precision moves a quant of at
          // most 127 (ggml scales by the unrounded 127 / max), and d as that formula gives it.
          double amax = 0;
          for (int64_t j = c / 32 * 32; j < c / 32 * 32 + 32; ++j) amax = std::max(amax, std::fabs(double(x[j])));
          const double d = halfToDouble(doubleToHalf(amax / 127));
          const double step = f == kF16 ? std::fabs(x[c]) * std::ldexp(1.0, -11) : d / 2 + 127 * std::fabs(d - amax / 127);
          ASSERT_LE(std::fabs(got[size_t(c)] - x[c]), step * (1 + 1e-6)) << formatName(f) << " value " << c;
        }
        if (f == kQ8_0)
          for (int64_t b = 0; b < D / 32; ++b) {
            double amax = 0;
            for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(double(x[b * 32 + j])));
            ASSERT_EQ(getHalf(at + b * 34), doubleToHalf(amax / 127)) << "block " << b << " scale";
          }
      }
  }
}

TEST(LlmKernels, AttentionReadsF16AndQ8_0Caches) {
  const int64_t B = 1, H = 4, Hkv = 2, C = 40, T = 37, S = 3, D = 64;
  const float scale = 1.f / 8.f;
  const auto q = randomVector(size_t(B * H * S * D), 51, -2.f, 2.f);
  for (int64_t kf : {kF32, kF16, kQ8_0})
    for (int64_t vf : {kF32, kF16, kQ8_0}) {
      auto kBytes = encodeRows(kf, randomWeights(B * Hkv * C, D, 52), B * Hkv * C, D);
      auto vBytes = encodeRows(vf, randomWeights(B * Hkv * C, D, 53), B * Hkv * C, D);
      const auto kd = decodeRows(kf, kBytes, B * Hkv * C, D), vd = decodeRows(vf, vBytes, B * Hkv * C, D);
      const std::vector<float> kv(kd.begin(), kd.end()), vv(vd.begin(), vd.end());  // exact: each decoded value is a float
      std::vector<float> y(size_t(B * H * S * D), std::numeric_limits<float>::quiet_NaN());
      Tensor in[3] = {view(const_cast<float*>(q.data()), DType::F32, {B, H, S, D}),
                      view(kBytes.data(), storageType(kf), {B, Hkv, C, storageCols(kf, D)}),
                      view(vBytes.data(), storageType(vf), {B, Hkv, C, storageCols(vf, D)})};
      Tensor out[1] = {view(y.data(), DType::F32, {B, H, S, D})};
      Attrs a;
      a.f[0] = scale;
      a.i[0] = 1;
      a.i[1] = T;
      a.i[2] = kf;
      a.i[3] = vf;
      ek::attention(in, 3, out, a);
      const auto want = referenceAttention(q, kv, vv, B, H, Hkv, S, C, T, D, D, scale, true);
      for (size_t i = 0; i < y.size(); ++i)
        ASSERT_NEAR(y[i], want[i], 1e-5) << "k " << formatName(kf) << ", v " << formatName(vf) << " at " << i;
    }
}

// Sampler ---------------------------------------------------------------------------------

TEST(LlmSampler, GreedyIsArgmaxLowestIdOnTies) {
  ek::Sampler s{ek::SamplerOptions{}};
  const std::vector<float> logits = {0.5f, 3.f, -1.f, 3.f, 2.f};
  EXPECT_EQ(s.sample(logits.data(), int32_t(logits.size()), {}), 1);
  const std::vector<float> negative = {-4.f, -2.f, -3.f, -2.f};
  EXPECT_EQ(s.sample(negative.data(), int32_t(negative.size()), {}), 1);
}

std::vector<int32_t> draws(ek::SamplerOptions o, const std::vector<float>& logits, int n) {
  ek::Sampler s(o);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) out.push_back(s.sample(logits.data(), int32_t(logits.size()), {}));
  return out;
}

TEST(LlmSampler, SeedDeterminesSequence) {
  const auto logits = randomVector(50, 41);
  ek::SamplerOptions o;
  o.temperature = 1.f;
  o.seed = 42;
  const auto a = draws(o, logits, 200), b = draws(o, logits, 200);
  EXPECT_EQ(a, b);
  o.seed = 43;
  // 200 draws over ~50 tokens: equal sequences from two seeds would be astronomically unlikely.
  EXPECT_NE(a, draws(o, logits, 200));
}

TEST(LlmSampler, TopKOneAndTinyTopPAreGreedy) {
  // A tie at the top: greedy takes the lower id, and so must the truncated samplers.
  const std::vector<float> logits = {0.1f, 2.f, 1.9f, 2.f, -1.f, 1.99f};
  for (float temperature : {0.5f, 1.f, 10.f}) {
    ek::SamplerOptions k1;
    k1.temperature = temperature;
    k1.top_k = 1;
    k1.seed = 7;
    for (int32_t t : draws(k1, logits, 500)) ASSERT_EQ(t, 1) << "top_k=1 at temperature " << temperature;
    ek::SamplerOptions p;
    p.temperature = temperature;
    p.top_p = 1e-6f;
    p.seed = 8;
    for (int32_t t : draws(p, logits, 500)) ASSERT_EQ(t, 1) << "top_p tiny at temperature " << temperature;
  }
}

std::vector<double> frequencies(const std::vector<int32_t>& tokens, size_t vocab) {
  std::vector<double> f(vocab);
  for (int32_t t : tokens) f[size_t(t)] += 1.0 / double(tokens.size());
  return f;
}

// softmax(logits / temperature) over the tokens in `keep`, zero elsewhere.
std::vector<double> softmaxOver(const std::vector<float>& logits, double temperature, const std::vector<int>& keep) {
  std::vector<double> p(logits.size());
  double sum = 0;
  for (int i : keep) sum += p[size_t(i)] = std::exp(double(logits[size_t(i)]) / temperature);
  for (double& x : p) x /= sum;
  return p;
}

TEST(LlmSampler, FrequenciesFollowSoftmax) {
  // Probabilities 0.5 / 0.3 / 0.2 at temperature 1, offset by a constant the softmax ignores.
  const std::vector<float> logits = {float(std::log(0.5) + 3), float(std::log(0.3) + 3), float(std::log(0.2) + 3)};
  const int n = 20000;  // one standard deviation of a frequency is <= 0.0036
  struct Case {
    float temperature;
    int32_t top_k;
    float top_p;
    std::vector<int> keep;
  };
  const std::vector<Case> cases = {
      {1.f, 0, 1.f, {0, 1, 2}},
      {0.5f, 0, 1.f, {0, 1, 2}},  // sharper: 0.25 : 0.09 : 0.04
      {2.f, 0, 1.f, {0, 1, 2}},   // flatter
      {1.f, 2, 1.f, {0, 1}},      // top_k renormalizes over the two kept
      {1.f, 0, 0.7f, {0, 1}},     // 0.5 < 0.7 <= 0.8: the two most likely
  };
  uint64_t seed = 1;
  for (const Case& c : cases) {
    ek::SamplerOptions o;
    o.temperature = c.temperature;
    o.top_k = c.top_k;
    o.top_p = c.top_p;
    o.seed = seed++;
    const auto got = frequencies(draws(o, logits, n), logits.size());
    const auto want = softmaxOver(logits, c.temperature, c.keep);
    for (size_t i = 0; i < logits.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 0.02) << "token " << i << " temperature " << c.temperature << " top_k " << c.top_k
                                         << " top_p " << c.top_p;
  }
}

TEST(LlmSampler, RepetitionPenaltyFollowsLlamaCppRule) {
  ek::SamplerOptions o;
  o.repeat_penalty = 1.5f;
  o.repeat_last_n = 4;
  {
    // Positive logit divided: 2.0 / 1.5 = 1.33 < 1.5, so token 1 wins once 0 is penalized.
    ek::Sampler s(o);
    const std::vector<float> logits = {2.f, 1.5f, 0.f};
    EXPECT_EQ(s.sample(logits.data(), 3, {}), 0);
    EXPECT_EQ(s.sample(logits.data(), 3, {0}), 1);
  }
  {
    // Negative logit multiplied: -1 * 1.5 = -1.5 < -1.2 (dividing would give -0.67 and keep 0).
    ek::Sampler s(o);
    const std::vector<float> logits = {-1.f, -1.2f, -5.f};
    EXPECT_EQ(s.sample(logits.data(), 3, {}), 0);
    EXPECT_EQ(s.sample(logits.data(), 3, {0}), 1);
  }
  {
    // Once per distinct token however often it repeats: 2.0 / 1.5 = 1.33 > 1.3 (twice would
    // give 0.89 < 1.3); ids outside the vocabulary are ignored.
    ek::Sampler s(o);
    const std::vector<float> logits = {2.f, 1.3f, 0.f};
    EXPECT_EQ(s.sample(logits.data(), 3, {0, 0, 7, -3}), 0);
  }
  {
    // Only the last repeat_last_n (4) tokens count: a 0 before them is forgotten.
    ek::Sampler s(o);
    const std::vector<float> logits = {2.f, 1.f, 1.9f};
    EXPECT_EQ(s.sample(logits.data(), 3, {0, 1, 1, 1, 1}), 0);
    EXPECT_EQ(s.sample(logits.data(), 3, {1, 1, 1, 0}), 2);  // 0 inside the window: 1.33 < 1.9
  }
}

// parallel_for ----------------------------------------------------------------------------

TEST(Parallel, ForCoversRangeExactlyOnce) {
  for (int threads : {1, 2, 3, 4}) {
    ek::set_num_threads(threads);
    EXPECT_EQ(ek::num_threads(), threads);
    for (int64_t n : {0, 1, 2, 5, 16, 17, 100, 1001})
      for (int64_t grain : {0, 1, 4, 16, 1000})
        for (int repeat = 0; repeat < 20; ++repeat) {  // repeats shake out hand-off races
          std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
          for (auto& h : hits) h.store(0);
          std::atomic<int> calls{0};
          ek::parallel_for(n, grain, [&](int64_t begin, int64_t end) {
            ++calls;
            EXPECT_TRUE(0 <= begin && begin <= end && end <= n) << begin << ".." << end << " of " << n;
            for (int64_t i = begin; i < end; ++i) ++hits[size_t(i)];
          });
          for (int64_t i = 0; i < n; ++i)
            ASSERT_EQ(hits[size_t(i)].load(), 1)
                << "index " << i << " n=" << n << " grain=" << grain << " threads=" << threads;
          if (n == 0) {
            ASSERT_EQ(calls.load(), 0);
          }
          // Chunks hold at least `grain` items (the last may hold fewer).
          if (n > 0) {
            ASSERT_LE(calls.load(), (n + std::max<int64_t>(grain, 1) - 1) / std::max<int64_t>(grain, 1));
          }
          if (grain >= n) {
            ASSERT_LE(calls.load(), 1);
          }
        }
  }
  ek::set_num_threads(1);
}

}  // namespace
