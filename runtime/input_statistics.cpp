#include "runtime/input_statistics.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

namespace ek {

namespace {

struct Moments {
  int64_t k = 0;
  double tokens = 0;
  std::vector<double> h;  // upper triangle used; mirrored when written
};

std::map<std::string, Moments>& observed() {
  static std::map<std::string, Moments> m;
  return m;
}

}  // namespace

void observe_input(const char* weight_names, const Tensor& x) {
  if (x.dtype != DType::F32 || x.rank < 1) return;
  const int64_t k = x.dims[x.rank - 1];
  if (k <= 0) return;
  const int64_t rows = x.numel() / k;
  Moments& m = observed()[weight_names];
  if (m.k != k) m = Moments{k, 0, std::vector<double>(size_t(k * k), 0.0)};
  // Columns of x, contiguous, so each H entry is one dot product over the rows (f32 within a
  // call of at most a context of rows, then added in f64).
  const float* data = static_cast<const float*>(x.data);
  std::vector<float> cols(size_t(k * rows));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t i = 0; i < k; ++i) cols[size_t(i * rows + r)] = data[r * k + i];
  for (int64_t i = 0; i < k; ++i) {
    const float* a = &cols[size_t(i * rows)];
    for (int64_t j = i; j < k; ++j) {
      const float* b = &cols[size_t(j * rows)];
      float lanes[8] = {};  // eight partial sums: a loop the compiler vectorizes
      int64_t r = 0;
      for (; r + 8 <= rows; r += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += a[r + l] * b[r + l];
      double s = 0.0;
      for (; r < rows; ++r) s += double(a[r]) * b[r];
      for (float v : lanes) s += v;
      m.h[size_t(i * k + j)] += s;
    }
  }
  m.tokens += double(rows);
}

bool save_input_statistics(const std::string& path, std::string* error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "wb"), std::fclose);
  auto fail = [&] {
    *error = path + ": cannot write";
    return false;
  };
  if (!f) return fail();
  auto u32 = [&](uint32_t v) { return std::fwrite(&v, 4, 1, f.get()) == 1; };
  if (std::fwrite("EKHSTAT1", 8, 1, f.get()) != 1 || !u32(uint32_t(observed().size()))) return fail();
  for (const auto& [names, m] : observed()) {
    std::vector<float> h(size_t(m.k * m.k));
    for (int64_t i = 0; i < m.k; ++i)
      for (int64_t j = i; j < m.k; ++j) h[size_t(i * m.k + j)] = h[size_t(j * m.k + i)] = float(m.h[size_t(i * m.k + j)]);
    if (!u32(uint32_t(names.size())) || std::fwrite(names.data(), 1, names.size(), f.get()) != names.size() ||
        !u32(uint32_t(m.k)) || std::fwrite(&m.tokens, 8, 1, f.get()) != 1 ||
        std::fwrite(h.data(), 4, h.size(), f.get()) != h.size())
      return fail();
  }
  if (std::fclose(f.release()) != 0) return fail();
  return true;
}

}  // namespace ek
