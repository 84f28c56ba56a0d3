#include "compiler/quantize/BlockQuantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "compiler/quantize/KQuantizer.h"
#include "runtime/half.h"

namespace edgecc {

namespace {

constexpr int kQK = ek::kBlockValues;  // values per Q8_0 / Q4_0 block

// ggml's quantize_row_q8_0_ref: scale = absmax / 127, values rounded half away from zero.
void quantizeBlockQ8_0(const float* x, uint8_t* block) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t dh = ek::f32_to_f16_bits(d);
  std::memcpy(block, &dh, 2);
  for (int j = 0; j < kQK; ++j) block[2 + j] = uint8_t(int8_t(std::roundf(x[j] * id)));
}

// ggml's quantize_row_q4_0_ref: the value of largest magnitude maps to -8, others to
// trunc(x / d + 8.5) clamped to 15; the low nibbles hold values 0..15, the high ones 16..31.
void quantizeBlockQ4_0(const float* x, uint8_t* block) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < kQK; ++j)
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  const float d = max / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  const uint16_t dh = ek::f32_to_f16_bits(d);
  std::memcpy(block, &dh, 2);
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = std::min(15, int(int8_t(x[j] * id + 8.5f)));
    const int hi = std::min(15, int(int8_t(x[kQK / 2 + j] * id + 8.5f)));
    block[2 + j] = uint8_t(lo | (hi << 4));
  }
}

}  // namespace

constexpr ek::WeightFormat kQuantizable[] = {ek::WeightFormat::F32,  ek::WeightFormat::F16,  ek::WeightFormat::Q8_0,
                                             ek::WeightFormat::Q4_0, ek::WeightFormat::Q6_K, ek::WeightFormat::Q5_K,
                                             ek::WeightFormat::Q4_K, ek::WeightFormat::Q3_K, ek::WeightFormat::Q2_K};

std::vector<std::string> quantizableFormatNames() {
  std::vector<std::string> names;
  for (ek::WeightFormat f : kQuantizable) names.push_back(ek::weight_format_name(f));
  return names;
}

std::optional<ek::WeightFormat> parseQuantizableFormat(const std::string& name) {
  for (ek::WeightFormat f : kQuantizable)
    if (name == ek::weight_format_name(f)) return f;
  return std::nullopt;
}

int64_t blockValues(ek::WeightFormat format) { return ek::block_values(format); }

double bitsPerValue(ek::WeightFormat format) {
  return 8.0 * double(ek::row_bytes(format, ek::kSuperBlockValues)) / double(ek::kSuperBlockValues);
}

std::optional<ek::WeightFormat> formatForRows(ek::WeightFormat wanted, int64_t k) {
  if (k % blockValues(wanted) != 0 && ek::is_k_quant(wanted)) wanted = ek::WeightFormat::Q8_0;
  if (k % blockValues(wanted) != 0) return std::nullopt;
  return wanted;
}

void forRowRangesInParallel(int64_t rows, const std::function<void(int64_t, int64_t)>& work) {
  const int64_t threads = std::clamp<int64_t>(std::thread::hardware_concurrency(), 1, std::max<int64_t>(1, rows / 16));
  const int64_t per = (rows + threads - 1) / threads;
  std::vector<std::thread> workers;
  for (int64_t begin = 0; begin < rows; begin += per) workers.emplace_back(work, begin, std::min(rows, begin + per));
  for (std::thread& w : workers) w.join();
}

std::string defaultHeadFormat(const std::string& body) {
  auto f = parseQuantizableFormat(body);
  if (f && ek::is_k_quant(*f)) return "q6_k";
  return body == "q4_0" ? "q8_0" : body;
}

void quantizeRows(ek::WeightFormat format, const float* x, int64_t rows, int64_t k, uint8_t* out) {
  const int64_t rowBytes = ek::row_bytes(format, k);
  for (int64_t r = 0; r < rows; ++r, x += k, out += rowBytes) {
    switch (format) {
      case ek::WeightFormat::F32: std::memcpy(out, x, size_t(k) * 4); break;
      case ek::WeightFormat::F16:
        for (int64_t j = 0; j < k; ++j) {
          const uint16_t h = ek::f32_to_f16_bits(x[j]);
          std::memcpy(out + 2 * j, &h, 2);
        }
        break;
      case ek::WeightFormat::Q8_0:
        for (int64_t b = 0; b < k / kQK; ++b) quantizeBlockQ8_0(x + b * kQK, out + b * ek::kQ8_0BlockBytes);
        break;
      case ek::WeightFormat::Q4_0:
        for (int64_t b = 0; b < k / kQK; ++b) quantizeBlockQ4_0(x + b * kQK, out + b * ek::kQ4_0BlockBytes);
        break;
      default: quantizeRowKQuant(format, x, k, out); break;
    }
  }
}

}  // namespace edgecc
