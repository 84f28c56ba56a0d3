#include "compiler/quantize/Gptq.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "compiler/quantize/BlockGrid.h"
#include "compiler/quantize/BlockQuantizer.h"

namespace edgecc {

namespace {

// In place: the lower Cholesky factor of the symmetric n x n matrix a (row-major). False when
// a is not positive definite.
bool cholesky(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[size_t(j * n + j)];
    for (int64_t p = 0; p < j; ++p) d -= a[size_t(j * n + p)] * a[size_t(j * n + p)];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    a[size_t(j * n + j)] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[size_t(i * n + j)];
      for (int64_t p = 0; p < j; ++p) s -= a[size_t(i * n + p)] * a[size_t(j * n + p)];
      a[size_t(i * n + j)] = s / d;
    }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) a[size_t(i * n + j)] = 0;
  return true;
}

// U, upper triangular with U^T U = (H + damping)^-1: row c holds how column c's error spreads
// onto the later columns (GPTQ's "Cholesky form of the inverse").
bool feedbackRows(const float* h, int64_t k, std::vector<float>* u, std::string* why) {
  std::vector<double> a(size_t(k * k));
  double meanDiag = 0;
  for (int64_t i = 0; i < k; ++i) meanDiag += h[i * k + i];
  meanDiag = std::max(meanDiag / double(k), 1e-12);
  // 1% of the mean diagonal, as GPTQ damps; more if that is not enough.
  for (double damp = 0.01; damp <= 10; damp *= 10) {
    for (int64_t i = 0; i < k * k; ++i) a[size_t(i)] = h[i];
    for (int64_t i = 0; i < k; ++i) {
      double& d = a[size_t(i * k + i)];
      if (d <= 0) d = meanDiag;  // an input that was always zero: no correlations to use
      d += damp * meanDiag;
    }
    if (!cholesky(a, k)) continue;
    // L^-1 (lower), then H^-1 = L^-T L^-1, then its lower factor C; U = C^T.
    std::vector<double> inv(size_t(k * k), 0.0);
    for (int64_t j = 0; j < k; ++j) {
      inv[size_t(j * k + j)] = 1.0 / a[size_t(j * k + j)];
      for (int64_t i = j + 1; i < k; ++i) {
        double s = 0;
        for (int64_t p = j; p < i; ++p) s -= a[size_t(i * k + p)] * inv[size_t(p * k + j)];
        inv[size_t(i * k + j)] = s / a[size_t(i * k + i)];
      }
    }
    std::vector<double> hinv(size_t(k * k));
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j <= i; ++j) {
        double s = 0;
        for (int64_t p = i; p < k; ++p) s += inv[size_t(p * k + i)] * inv[size_t(p * k + j)];
        hinv[size_t(i * k + j)] = hinv[size_t(j * k + i)] = s;
      }
    if (!cholesky(hinv, k)) continue;
    u->assign(size_t(k * k), 0.f);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = i; j < k; ++j) (*u)[size_t(i * k + j)] = float(hinv[size_t(j * k + i)]);
    return true;
  }
  *why = "the input moments are not positive definite even with damping";
  return false;
}

void quantizeRow(ek::WeightFormat format, const float* x, int64_t k, const std::vector<float>& u, uint8_t* out) {
  const int64_t block = blockValues(format), blockBytes = ek::row_bytes(format, block);
  std::vector<float> w(x, x + k);
  std::vector<float> atReference(static_cast<size_t>(block));
  for (int64_t b = 0; b < k; b += block, out += blockBytes) {
    quantizeRows(format, &w[size_t(b)], 1, block, out);
    BlockGrid grid = readBlockGrid(format, out);
    std::copy(&w[size_t(b)], &w[size_t(b + block)], atReference.begin());
    for (int64_t i = 0; i < block; ++i) {
      const int64_t c = b + i;
      // A value no earlier error has moved keeps the reference quantizer's level.
      if (w[size_t(c)] != atReference[size_t(i)]) grid.level[i] = grid.nearestLevel(int(i), w[size_t(c)]);
      const float err = (w[size_t(c)] - grid.value(int(i))) / u[size_t(c * k + c)];
      const float* spread = &u[size_t(c * k)];
      for (int64_t j = c + 1; j < k; ++j) w[size_t(j)] -= err * spread[j];
    }
    writeBlockLevels(format, grid, out);
  }
}

}  // namespace

bool quantizeRowsWithFeedback(ek::WeightFormat format, const float* x, int64_t rows, int64_t k, const float* h,
                              uint8_t* out, std::string* why) {
  std::vector<float> u;
  if (!feedbackRows(h, k, &u, why)) return false;
  const int64_t rowBytes = ek::row_bytes(format, k);
  forRowRangesInParallel(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) quantizeRow(format, x + r * k, k, u, out + r * rowBytes);
  });
  return true;
}

}  // namespace edgecc
