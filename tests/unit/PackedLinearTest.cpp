// Packed weights (q8_0x8[k8] / q4_0x8[k8] / f32x8 / f16x8, runtime/weight_format.h) and the kernels that read them:
//  - the layout is checked byte by byte against its description, written out here;
//  - the portable reference tile is checked against an independent computation of the same
//    arithmetic (exact integer block dot products, then one multiply-add of the scales per
//    block, in block order), so it is bit-exact;
//  - every ISA variant compiled into this binary is checked bit-exact against the reference
//    (this file is built once per x86 target and per arm64 level; ctest runs each x86 build
//    only where the CPU has its features and reports it as not run elsewhere, and each arm64
//    build under qemu-aarch64 with a CPU model that has its features);
//  - the vectorized activation quantization is bit-exact with the one-value-at-a-time one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "runtime/cpu_features.h"
#include "runtime/half.h"
#include "runtime/kernels/ggml_blocks.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/variants.h"
#include "runtime/parallel.h"
#include "runtime/weight_format.h"

namespace {

using ek::WeightFormat;

ek::Tensor view(void* data, ek::DType t, std::vector<int64_t> dims) {
  ek::Tensor v;
  v.data = data;
  v.dtype = t;
  v.rank = int(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) v.dims[i] = dims[i];
  return v;
}

bool isFloat(WeightFormat f) { return f == WeightFormat::F32 || f == WeightFormat::F16; }
size_t floatBytes(WeightFormat f) { return f == WeightFormat::F32 ? 4 : 2; }

// Random stored rows: f32 / f16 values, or blocks of an f16 scale of varying size, then int8
// quants (q8_0, including -128, which a file may hold) or nibbles (q4_0).
std::vector<uint8_t> randomStoredRows(WeightFormat f, int64_t n, int64_t k, uint32_t seed) {
  std::mt19937 g(seed);
  if (isFloat(f)) {
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<uint8_t> rows(size_t(n * k) * floatBytes(f));
    for (int64_t i = 0; i < n * k; ++i) {
      const float v = u(g);
      const uint16_t h = ek::f32_to_f16_bits(v);
      std::memcpy(&rows[size_t(i) * floatBytes(f)], f == WeightFormat::F32 ? static_cast<const void*>(&v) : &h, floatBytes(f));
    }
    return rows;
  }
  const int64_t bb = f == WeightFormat::Q8_0 ? ek::kQ8_0BlockBytes : ek::kQ4_0BlockBytes;
  std::vector<uint8_t> rows(size_t(n * k / 32 * bb));
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  for (size_t b = 0; b < rows.size(); b += size_t(bb)) {
    const uint16_t d = ek::f32_to_f16_bits(scale(g) * (g() % 2 ? 1.f : -1.f));
    std::memcpy(&rows[b], &d, 2);
    for (int64_t j = 2; j < bb; ++j) rows[b + size_t(j)] = uint8_t(g());
  }
  return rows;
}

int64_t blockBytes(WeightFormat stored) { return stored == WeightFormat::Q8_0 ? ek::kQ8_0BlockBytes : ek::kQ4_0BlockBytes; }
// Every packed layout; each test takes the stored rows of its stored format.
const WeightFormat kPacked[] = {WeightFormat::Q8_0x8,   WeightFormat::Q8_0x8u, WeightFormat::Q4_0x8, WeightFormat::Q8_0x8k8,
                                WeightFormat::Q4_0x8k8, WeightFormat::F32x8,   WeightFormat::F16x8};

// Value c of row r of stored f32 / f16 rows.
float storedFloat(WeightFormat f, const std::vector<uint8_t>& rows, int64_t k, int64_t r, int64_t c) {
  const uint8_t* p = rows.data() + size_t(r * k + c) * floatBytes(f);
  if (f == WeightFormat::F32) {
    float v;
    std::memcpy(&v, p, 4);
    return v;
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return ek::f16_bits_to_f32(h);
}

// Value j (0..31) of block b of row r, as an integer, from the stored (ggml) bytes.
int storedQuant(WeightFormat f, const std::vector<uint8_t>& rows, int64_t k, int64_t r, int64_t b, int j) {
  const uint8_t* block = rows.data() + (r * (k / 32) + b) * blockBytes(f) + 2;
  if (f == WeightFormat::Q8_0) return int8_t(block[j]);
  return j < 16 ? (block[j] & 0x0F) - 8 : (block[j - 16] >> 4) - 8;
}
float storedScale(WeightFormat f, const std::vector<uint8_t>& rows, int64_t k, int64_t r, int64_t b) {
  uint16_t d;
  std::memcpy(&d, rows.data() + (r * (k / 32) + b) * blockBytes(f), 2);
  return ek::f16_bits_to_f32(d);
}

TEST(PackedWeights, LayoutIsAsDescribed) {
  for (WeightFormat p : kPacked) {
    const WeightFormat f = ek::stored_format(p);
    const int64_t n = 16, k = 96, blocks = k / 32;
    const auto rows = randomStoredRows(f, n, k, 1);
    std::vector<uint8_t> packed(rows.size());
    ek::pack_rows(p, rows.data(), n, k, packed.data());
    if (isFloat(f)) {  // group g, value c, row r at (g * k + c) * 8 + r
      const size_t e = floatBytes(f);
      for (int64_t g = 0; g < n / 8; ++g)
        for (int64_t c = 0; c < k; ++c)
          for (int r = 0; r < 8; ++r)
            ASSERT_EQ(std::memcmp(&packed[size_t((g * k + c) * 8 + r) * e], &rows[size_t((g * 8 + r) * k + c) * e], e), 0);
      std::vector<uint8_t> row(size_t(k) * e);
      for (int64_t r = 0; r < n; ++r) {
        ek::unpack_row(p, packed.data(), r, k, row.data());
        ASSERT_EQ(std::memcmp(row.data(), rows.data() + size_t(r) * row.size(), row.size()), 0) << "row " << r;
      }
      continue;
    }
    const bool q8 = f == WeightFormat::Q8_0;
    const int64_t quantBytes = q8 ? 256 : 128, groupBytes = 8 * k / 32 * blockBytes(f);
    for (int64_t g = 0; g < n / 8; ++g)
      for (int64_t b = 0; b < blocks; ++b)
        for (int r = 0; r < 8; ++r) {
          const uint8_t* group = packed.data() + g * groupBytes;
          // Scales: a plane of f16 after the group's quants, [block][row].
          uint16_t d;
          std::memcpy(&d, group + blocks * quantBytes + (b * 8 + r) * 2, 2);
          ASSERT_EQ(ek::f16_bits_to_f32(d), storedScale(f, rows, k, g * 8 + r, b));
          // Quants: [block][chunk c][row][W] with W = 4 (x8) or 8 (x8k8); q4 bytes hold value
          // Wc+j low, 16+Wc+j high, unsigned; q8_0x8u bytes hold q + 128.
          const int w = p == WeightFormat::Q8_0x8k8 || p == WeightFormat::Q4_0x8k8 ? 8 : 4;
          for (int c = 0; c < (q8 ? 32 : 16) / w; ++c)
            for (int j = 0; j < w; ++j) {
              const uint8_t byte = group[b * quantBytes + (c * 8 + r) * w + j];
              if (q8) {
                const int q = p == WeightFormat::Q8_0x8u ? int(byte) - 128 : int(int8_t(byte));
                ASSERT_EQ(q, storedQuant(f, rows, k, g * 8 + r, b, w * c + j));
              } else {
                ASSERT_EQ((byte & 0x0F) - 8, storedQuant(f, rows, k, g * 8 + r, b, w * c + j));
                ASSERT_EQ((byte >> 4) - 8, storedQuant(f, rows, k, g * 8 + r, b, 16 + w * c + j));
              }
            }
        }
    // And back: every row unpacks to its stored bytes.
    std::vector<uint8_t> row(size_t(k / 32 * blockBytes(f)));
    for (int64_t r = 0; r < n; ++r) {
      ek::unpack_row(p, packed.data(), r, k, row.data());
      ASSERT_EQ(std::memcmp(row.data(), rows.data() + r * int64_t(row.size()), row.size()), 0) << "row " << r;
    }
  }
}

float fusedMultiplyAdd(float a, float b, float c) {  // as the kernels round (ggml_blocks.h's fmadd)
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA)
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

// y = x W^T, computed from the stored rows. Quantized: activations quantized per block of 32
// (the runtime's reference quantizer, checked against the vector one below), exact integer
// dot products, one multiply-add of the two scales per block. Float: two partial sums over
// even and odd k, added at the end.
std::vector<float> expectedLinear(WeightFormat f, const std::vector<uint8_t>& rows, const std::vector<float>& x, int64_t m,
                                  int64_t n, int64_t k) {
  if (isFloat(f)) {
    std::vector<float> y(size_t(m * n));
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < n; ++r) {
        float acc[2] = {0.f, 0.f};
        for (int64_t c = 0; c < k; ++c) acc[c % 2] = fusedMultiplyAdd(storedFloat(f, rows, k, r, c), x[size_t(i * k + c)], acc[c % 2]);
        y[size_t(i * n + r)] = acc[0] + acc[1];
      }
    return y;
  }
  std::vector<int8_t> q(size_t(m * k));
  std::vector<float> d(size_t(m * k / 32));
  for (int64_t i = 0; i < m; ++i) ek::quantize_row_q8_reference(&x[size_t(i * k)], k, &q[size_t(i * k)], &d[size_t(i * k / 32)]);
  std::vector<float> y(size_t(m * n));
  for (int64_t i = 0; i < m; ++i)
    for (int64_t r = 0; r < n; ++r) {
      float acc = 0.f;
      for (int64_t b = 0; b < k / 32; ++b) {
        int32_t dot = 0;
        for (int j = 0; j < 32; ++j) dot += storedQuant(f, rows, k, r, b, j) * q[size_t(i * k + b * 32 + j)];
        acc = fusedMultiplyAdd(float(dot), storedScale(f, rows, k, r, b) * d[size_t(i * k / 32 + b)], acc);
      }
      y[size_t(i * n + r)] = acc;
    }
  return y;
}

std::vector<float> runLinear(ek::KernelFn kernel, WeightFormat f, std::vector<uint8_t>& w, std::vector<float>& x, int64_t m,
                             int64_t n, int64_t k, int64_t perTile, int64_t perBlock) {
  std::vector<float> y(size_t(m * n), std::numeric_limits<float>::quiet_NaN());
  const ek::WeightFormat stored = ek::stored_format(f);
  const ek::DType type = stored == WeightFormat::F32 ? ek::DType::F32 : stored == WeightFormat::F16 ? ek::DType::F16 : ek::DType::I8;
  ek::Tensor in[2] = {view(x.data(), ek::DType::F32, {m, k}),
                      view(w.data(), type, {n, int64_t(w.size() / ek::dtype_size(type)) / n})};
  ek::Tensor out[1] = {view(y.data(), ek::DType::F32, {m, n})};
  ek::Attrs a;
  a.i[0] = int64_t(f);
  a.i[1] = perTile;
  a.i[2] = perBlock;
  kernel(in, 2, out, a);
  return y;
}

struct Shape {
  int64_t m, n, k;
};
const Shape kShapes[] = {{1, 8, 32}, {1, 40, 256}, {1, 64, 512}, {3, 16, 64}, {13, 24, 128}, {64, 32, 96}};
const Shape kFloatShapes[] = {{1, 8, 7}, {1, 32, 66}, {1, 16, 33}, {2, 16, 33}, {11, 24, 64}};  // any K, odd ones included

std::vector<Shape> shapesFor(WeightFormat f) {
  std::vector<Shape> shapes(std::begin(kShapes), std::end(kShapes));
  if (isFloat(f)) shapes.insert(shapes.end(), std::begin(kFloatShapes), std::end(kFloatShapes));
  return shapes;
}

std::vector<float> activations(int64_t m, int64_t k, uint32_t seed) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> x(size_t(m * k));
  for (size_t i = 0; i < x.size(); ++i) x[i] = u(g) * float(1 + (i / 32) % 7);
  return x;
}

TEST(PackedWeights, ReferenceTileIsExactBlockArithmetic) {
  uint32_t seed = 10;
  for (WeightFormat p : kPacked)
    for (const Shape& s : shapesFor(ek::stored_format(p)))
      for (int threads : {1, 2}) {
        const WeightFormat f = ek::stored_format(p);
        auto rows = randomStoredRows(f, s.n, s.k, ++seed);
        auto x = activations(s.m, s.k, ++seed);
        std::vector<uint8_t> packed(rows.size());
        ek::pack_rows(p, rows.data(), s.n, s.k, packed.data());
        const auto want = expectedLinear(f, rows, x, s.m, s.n, s.k);
        ek::set_num_threads(threads);
        for (int64_t perTile : {1, 3, 8})
          for (int64_t perBlock : {0, 5}) {
            const auto got = runLinear(&ek::linear, p, packed, x, s.m, s.n, s.k, perTile, perBlock);
            ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
                << ek::weight_format_name(p) << " m=" << s.m << " n=" << s.n << " k=" << s.k << " tile=" << perTile
                << " block=" << perBlock << " threads=" << threads;
          }
        ek::set_num_threads(1);
      }
}

#if defined(EK_COMPILED_ANY_VARIANT)  // builds with an x86 target's flags, and every arm64 build
// The ISA variants compiled into this binary (the build's flags decide).
struct Variant {
  const char* name;
  ek::KernelFn fn;
  const ek::KernelVariant* entry;  // its row of the variant table
};
const ek::KernelVariant* variantEntry(const char* ns) {
  for (const ek::KernelVariant& v : ek::kKernelVariants)
    if (std::string(v.ns) == ns) return &v;
  return nullptr;
}
std::vector<Variant> compiledVariants() {
  std::vector<Variant> v;
#if defined(EK_COMPILED_x86_avx512vnni)
  v.push_back({"x86_avx512vnni::linear", &ek::x86_avx512vnni::linear, variantEntry("x86_avx512vnni")});
#endif
#if defined(EK_COMPILED_x86_avx512vnni_halide)
  v.push_back({"x86_avx512vnni_halide::linear", &ek::x86_avx512vnni_halide::linear, variantEntry("x86_avx512vnni_halide")});
#endif
#if defined(EK_COMPILED_x86_avx2)
  v.push_back({"x86_avx2::linear", &ek::x86_avx2::linear, variantEntry("x86_avx2")});
#endif
#if defined(EK_COMPILED_arm64_i8mm)
  v.push_back({"arm64_i8mm::linear", &ek::arm64_i8mm::linear, variantEntry("arm64_i8mm")});
#endif
#if defined(EK_COMPILED_arm64_dotprod)
  v.push_back({"arm64_dotprod::linear", &ek::arm64_dotprod::linear, variantEntry("arm64_dotprod")});
#endif
#if defined(EK_COMPILED_arm64_neon)
  v.push_back({"arm64_neon::linear", &ek::arm64_neon::linear, variantEntry("arm64_neon")});
#endif
  return v;
}

TEST(PackedWeights, VariantsAreBitExactWithReference) {
  // Variants whose features this CPU lacks are compiled in (an arm64 dotprod build also holds
  // the i8mm kernel) but not run here; the build of their own level runs them on a CPU that
  // has them (tests/CMakeLists.txt).
  std::vector<Variant> variants;
  for (const Variant& v : compiledVariants()) {
    char missing[128];
    if (ek::cpu_missing(v.entry->features, missing, sizeof missing))
      std::printf("not run here: %s (this CPU lacks %s)\n", v.name, missing);
    else
      variants.push_back(v);
  }
  ASSERT_FALSE(variants.empty());
  uint32_t seed = 50;
  for (const Variant& v : variants)
    for (WeightFormat p : kPacked)
      for (const Shape& s : shapesFor(ek::stored_format(p)))
        for (int threads : {1, 2}) {
          if (!(v.entry->formats & ek::format_bit(p))) continue;
          const WeightFormat f = ek::stored_format(p);
          auto rows = randomStoredRows(f, s.n, s.k, ++seed);
          auto x = activations(s.m, s.k, ++seed);
          std::vector<uint8_t> packed(rows.size());
          ek::pack_rows(p, rows.data(), s.n, s.k, packed.data());
          ek::set_num_threads(threads);
          for (int64_t perTile : {1, 2, 3, 4, 8})
            for (int64_t perBlock : {0, 8}) {
              const auto want = runLinear(&ek::linear, p, packed, x, s.m, s.n, s.k, 1, 0);
              const auto got = runLinear(v.fn, p, packed, x, s.m, s.n, s.k, perTile, perBlock);
              ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * 4), 0)
                  << v.name << " " << ek::weight_format_name(p) << " m=" << s.m << " n=" << s.n << " k=" << s.k
                  << " tile=" << perTile << " block=" << perBlock;
            }
          ek::set_num_threads(1);
        }
}

#endif

TEST(PackedWeights, EmbeddingReadsPackedRows) {
  for (WeightFormat p : kPacked) {
    const WeightFormat f = ek::stored_format(p);
    const int64_t n = 24, k = 64;
    auto rows = randomStoredRows(f, n, k, 77);
    std::vector<uint8_t> packed(rows.size());
    ek::pack_rows(p, rows.data(), n, k, packed.data());
    std::vector<int64_t> ids = {0, 23, 9, 9, 16};
    auto lookup = [&](WeightFormat format, std::vector<uint8_t>& table) {
      std::vector<float> y(ids.size() * size_t(k));
      ek::Tensor in[2] = {view(table.data(), ek::DType::I8, {n, int64_t(table.size()) / n}),
                          view(ids.data(), ek::DType::I64, {int64_t(ids.size())})};
      ek::Tensor out[1] = {view(y.data(), ek::DType::F32, {int64_t(ids.size()), k})};
      ek::Attrs a;
      a.i[0] = int64_t(format);
      ek::embedding(in, 2, out, a);
      return y;
    };
    const auto want = lookup(f, rows), got = lookup(p, packed);
    for (size_t i = 0; i < want.size(); ++i) {
      const int64_t r = ids[i / size_t(k)], j = int64_t(i % size_t(k));
      ASSERT_EQ(want[i], isFloat(f) ? storedFloat(f, rows, k, r, j)
                                    : storedScale(f, rows, k, r, j / 32) * float(storedQuant(f, rows, k, r, j / 32, int(j % 32))));
      ASSERT_EQ(got[i], want[i]) << "row " << r << " value " << j;
    }
  }
}

TEST(ActivationQuantization, FastPathIsBitExact) {
  const int64_t k = 32 * 12;
  std::vector<float> x = activations(1, k, 5);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (int j = 0; j < 32; ++j) x[size_t(32 + j)] = 0.f;                // an all-zero block
  x[70] = nan;                                                          // NaN among finite values
  x[100] = inf;                                                         // inf: the whole block scales to 0
  for (int j = 0; j < 31; ++j) x[size_t(128 + j)] = float(j - 16) + 0.5f;  // with amax 127 the scale is 1:
  x[159] = 127.f;                                                         // halves are ties, rounded to even
  x[200] = 3e38f;
  x[201] = -3e38f;
  for (int j = 0; j < 32; ++j) x[size_t(256 + j)] = 1e-30f * float(j + 1);  // tiny values, subnormal scale
  const size_t n = size_t(k), blocks = size_t(k / 32);
  std::vector<int8_t> q1(n), q2(n);
  std::vector<float> d1(blocks), d2(blocks);
  std::vector<int32_t> s1(blocks), s2(blocks);
  ek::quantize_row_q8_reference(x.data(), k, q1.data(), d1.data(), s1.data());
  ek::quantize_row_q8(x.data(), k, q2.data(), d2.data(), s2.data());
  for (int64_t b = 0; b < k / 32; ++b) {
    ASSERT_EQ(std::memcmp(&d1[size_t(b)], &d2[size_t(b)], 4), 0) << "scale of block " << b;
    ASSERT_EQ(s1[size_t(b)], s2[size_t(b)]) << "sum of block " << b;
    int32_t sum = 0;
    for (int j = 0; j < 32; ++j) sum += q1[size_t(b * 32 + j)];
    ASSERT_EQ(s1[size_t(b)], sum) << "the reference's own sum, block " << b;
  }
  for (int64_t i = 0; i < k; ++i) ASSERT_EQ(q1[size_t(i)], q2[size_t(i)]) << "value " << i;
  EXPECT_EQ(q1[70], 0);  // NaN -> 0
  EXPECT_EQ(q1[128 + 16], 0);  // 0.5
  EXPECT_EQ(q1[128 + 17], 2);  // 1.5
  EXPECT_EQ(q1[128 + 18], 2);  // 2.5
  EXPECT_EQ(q1[128 + 15], 0);  // -0.5
}

}  // namespace
