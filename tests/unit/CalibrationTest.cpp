// Calibration and error-feedback rounding: the observed input moments against naive sums,
// the block grids against the runtime's dequantizer, and the rounding's two promises: the
// reference quantizer's bytes where inputs are uncorrelated, a smaller output error where
// they are correlated.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "compiler/quantize/BlockGrid.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "compiler/quantize/Gptq.h"
#include "compiler/quantize/InputStatistics.h"
#include "llvm/Support/FileSystem.h"
#include "runtime/input_statistics.h"
#include "runtime/kernels/ggml_blocks.h"

namespace {

using edgecc::BlockGrid;
using ek::WeightFormat;

const WeightFormat kFormats[] = {WeightFormat::Q8_0, WeightFormat::Q4_0, WeightFormat::Q6_K, WeightFormat::Q5_K,
                                 WeightFormat::Q4_K, WeightFormat::Q3_K, WeightFormat::Q2_K};

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<uint8_t> quantize(WeightFormat f, const std::vector<float>& w, int64_t rows, int64_t k) {
  std::vector<uint8_t> out(size_t(rows * ek::row_bytes(f, k)));
  edgecc::quantizeRows(f, w.data(), rows, k, out.data());
  return out;
}

// sum over rows of e H e^T with e = w - dequantized(q): the output error over the calibration
// inputs, with the runtime's own dequantizer.
double outputError(WeightFormat f, const std::vector<float>& w, const std::vector<uint8_t>& q, int64_t rows, int64_t k,
                   const std::vector<double>& h) {
  std::vector<float> values(static_cast<size_t>(k));
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    ek::row_values(f, q.data() + r * ek::row_bytes(f, k), values.data(), k);
    std::vector<double> e(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) e[size_t(i)] = double(w[size_t(r * k + i)]) - values[size_t(i)];
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) total += e[size_t(i)] * h[size_t(i * k + j)] * e[size_t(j)];
  }
  return total;
}

TEST(Calibration, ObservedMomentsMatchNaiveSums) {
  const int64_t k = 24;
  std::vector<std::vector<float>> calls = {gaussian(size_t(37 * k), 1), gaussian(size_t(5 * k), 2, 3.f)};
  std::vector<double> naive(size_t(k * k), 0.0);
  double tokens = 0;
  for (std::vector<float>& x : calls) {
    const int64_t rows = int64_t(x.size()) / k;
    ek::Tensor t;
    t.data = x.data();
    t.dtype = ek::DType::F32;
    t.rank = 3;
    t.dims[0] = 1, t.dims[1] = rows, t.dims[2] = k;
    ek::observe_input("test.a.weight,test.b.weight", t);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t i = 0; i < k; ++i)
        for (int64_t j = 0; j < k; ++j) naive[size_t(i * k + j)] += double(x[size_t(r * k + i)]) * x[size_t(r * k + j)];
    tokens += double(rows);
  }
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("moments", "bin", path));
  std::string error;
  ASSERT_TRUE(ek::save_input_statistics(std::string(path), &error)) << error;
  auto stats = edgecc::readInputStatistics(std::string(path));
  llvm::sys::fs::remove(path);
  ASSERT_TRUE(bool(stats)) << llvm::toString(stats.takeError());
  ASSERT_TRUE(stats->count("test.a.weight") && stats->count("test.b.weight"));
  const edgecc::InputMoments& m = *stats->at("test.a.weight");
  EXPECT_EQ(stats->at("test.b.weight").get(), &m);  // one input, one entry
  ASSERT_EQ(m.k, k);
  EXPECT_EQ(m.tokens, tokens);
  for (int64_t i = 0; i < k * k; ++i)  // f32 products and partial sums over <= 37 rows, stored as f32
    EXPECT_NEAR(m.h[size_t(i)], naive[size_t(i)], 1e-5 * 42 * 9 + 1e-6 * std::fabs(naive[size_t(i)])) << i;
}

TEST(Calibration, StatisticsFileErrorsNameTheFile) {
  llvm::SmallString<128> path;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("moments", "bin", path));
  FILE* f = std::fopen(path.c_str(), "wb");
  // Cut off inside the first entry. ("\x00" "ab": a hex escape would swallow the "ab".)
  std::fwrite("EKHSTAT1\x01\x00\x00\x00\x05\x00\x00\x00" "ab", 1, 18, f);
  std::fclose(f);
  auto stats = edgecc::readInputStatistics(std::string(path));
  llvm::sys::fs::remove(path);
  ASSERT_FALSE(bool(stats));
  const std::string message = llvm::toString(stats.takeError());
  EXPECT_NE(message.find(std::string(path)), std::string::npos) << message;
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
}

TEST(Calibration, BlockGridsAreTheDequantizedValuesAndWriteBackTheSameBytes) {
  const int64_t rows = 6, k = 512;
  const std::vector<float> w = gaussian(size_t(rows * k), 3);
  for (WeightFormat f : kFormats) {
    SCOPED_TRACE(ek::weight_format_name(f));
    const std::vector<uint8_t> q = quantize(f, w, rows, k);
    const int64_t block = edgecc::blockValues(f), blockBytes = ek::row_bytes(f, block);
    std::vector<float> values(static_cast<size_t>(k));
    for (int64_t r = 0; r < rows; ++r) {
      const uint8_t* row = q.data() + r * ek::row_bytes(f, k);
      ek::row_values(f, row, values.data(), k);
      for (int64_t b = 0; b < k / block; ++b) {
        const uint8_t* stored = row + b * blockBytes;
        const BlockGrid grid = edgecc::readBlockGrid(f, stored);
        for (int i = 0; i < grid.values; ++i)
          ASSERT_NEAR(grid.value(i), values[size_t(b * block + i)], 1e-6f * (1.f + std::fabs(values[size_t(b * block + i)])));
        std::vector<uint8_t> rewritten(stored, stored + blockBytes);
        BlockGrid zeros = grid;
        std::fill(std::begin(zeros.level), std::end(zeros.level), uint8_t(0));
        edgecc::writeBlockLevels(f, zeros, rewritten.data());  // clear every value bit first
        edgecc::writeBlockLevels(f, grid, rewritten.data());
        ASSERT_EQ(rewritten, std::vector<uint8_t>(stored, stored + blockBytes));
      }
    }
  }
}

TEST(Calibration, UncorrelatedInputsGiveTheReferenceBytes) {
  const int64_t rows = 8, k = 512;
  const std::vector<float> w = gaussian(size_t(rows * k), 4);
  std::vector<float> h(size_t(k * k), 0.f);
  const std::vector<float> scale = gaussian(size_t(k), 5);
  for (int64_t i = 0; i < k; ++i) h[size_t(i * k + i)] = 0.1f + scale[size_t(i)] * scale[size_t(i)];
  for (WeightFormat f : kFormats) {
    SCOPED_TRACE(ek::weight_format_name(f));
    std::vector<uint8_t> out(size_t(rows * ek::row_bytes(f, k)));
    std::string why;
    ASSERT_TRUE(edgecc::quantizeRowsWithFeedback(f, w.data(), rows, k, h.data(), out.data(), &why)) << why;
    EXPECT_EQ(out, quantize(f, w, rows, k));
  }
}

TEST(Calibration, FeedbackLowersTheOutputErrorOnCorrelatedInputs) {
  // Inputs x = z A: a few strong directions mixed into every channel, as in real activations.
  const int64_t rows = 32, k = 512, tokens = 2048, mixes = 16;
  const std::vector<float> z = gaussian(size_t(tokens * mixes), 6), a = gaussian(size_t(mixes * k), 7),
                           noise = gaussian(size_t(tokens * k), 8, 0.3f);
  std::vector<float> x(size_t(tokens * k));
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < k; ++i) {
      float s = noise[size_t(t * k + i)];
      for (int64_t m = 0; m < mixes; ++m) s += z[size_t(t * mixes + m)] * a[size_t(m * k + i)];
      x[size_t(t * k + i)] = s;
    }
  std::vector<double> h(size_t(k * k), 0.0);
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j) h[size_t(i * k + j)] += double(x[size_t(t * k + i)]) * x[size_t(t * k + j)];
  const std::vector<float> hf(h.begin(), h.end());
  const std::vector<float> w = gaussian(size_t(rows * k), 9, 0.05f);
  for (WeightFormat f : kFormats) {
    SCOPED_TRACE(ek::weight_format_name(f));
    std::vector<uint8_t> out(size_t(rows * ek::row_bytes(f, k)));
    std::string why;
    ASSERT_TRUE(edgecc::quantizeRowsWithFeedback(f, w.data(), rows, k, hf.data(), out.data(), &why)) << why;
    const double rounded = outputError(f, w, quantize(f, w, rows, k), rows, k, h);
    const double fed = outputError(f, w, out, rows, k, h);
    std::printf("%-5s output error: reference %.4g, with feedback %.4g (%.2fx)\n", ek::weight_format_name(f), rounded, fed,
                fed / rounded);
    EXPECT_LT(fed, 0.7 * rounded);
  }
}

}  // namespace
