#include "compiler/memory/PredictedQuality.h"

#include <cmath>
#include <sstream>

#include "compiler/quantize/BlockQuantizer.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

namespace edgecc {

double QualityEstimates::of(const std::string& w, const std::string& kvType) const {
  auto find = [](const std::map<std::string, double>& table, const std::string& key) {
    auto it = table.find(key);
    return it == table.end() ? 0.0 : it->second;
  };
  return find(weights, w) + find(kv, kvType);
}

QualityEstimates QualityEstimates::referenceModel() {
  // KL mean against the f32 build, plain rounding (benchmarks/results/quality-brown-6m.md).
  return {{{"f16", 6.8e-7}, {"q8_0", 0.00009}, {"q6_k", 0.00053}, {"q5_k", 0.00094}, {"q4_k", 0.00262},
           {"q4_0", 0.00339}, {"q3_k", 0.01003}, {"q2_k", 0.04041}},
          {{"f16", 6.9e-7}, {"q8_0", 8.05e-6}}};
}

llvm::Expected<TensorSensitivities> readTensorSensitivities(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s: %s", path.c_str(), why.c_str());
  };
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer) return fail("cannot read: " + buffer.getError().message());
  auto json = llvm::json::parse((*buffer)->getBuffer());
  if (!json) return fail("not JSON: " + llvm::toString(json.takeError()));
  const llvm::json::Object* top = json->getAsObject();
  const llvm::json::Array* rows = top ? top->getArray("rows") : nullptr;
  const llvm::json::Array* sens = top ? top->getArray("sensitivity") : nullptr;
  if (!rows || !sens || sens->empty())
    return fail("not a quality report with per-tensor sensitivities (edgecc quality MODEL --sensitivity q4_k,q2_k --json FILE)");
  TensorSensitivities s;
  s.file = path;
  s.quality = QualityEstimates::referenceModel();
  // Whole-model rows made by plain rounding: "edgecc --weights F" and "edgecc --weights f32 --kv-type T".
  for (const llvm::json::Value& v : *rows) {
    const llvm::json::Object* row = v.getAsObject();
    auto source = row ? row->getString("source") : std::nullopt;
    auto kl = row ? row->getNumber("kl") : std::nullopt;
    if (!source || !kl) return fail("a row without source or kl");
    std::istringstream words(source->str());
    std::string word, weights, kv, other;
    words >> word;
    if (word != "edgecc") continue;  // a compared file
    while (words >> word) {
      std::string value;
      if (!(words >> value)) break;
      (word == "--weights" ? weights : word == "--kv-type" ? kv : other) = value;
    }
    if (!other.empty() || weights.empty()) continue;  // calibrated, or not a plain row
    if (kv.empty()) s.quality.weights[weights] = *kl;
    else if (weights == "f32") s.quality.kv[kv] = *kl;
  }
  for (const llvm::json::Value& v : *sens) {
    const llvm::json::Object* row = v.getAsObject();
    auto tensor = row ? row->getString("tensor") : std::nullopt;
    auto format = row ? row->getString("weights") : std::nullopt;
    auto kl = row ? row->getNumber("kl") : std::nullopt;
    if (!tensor || !format || !kl) return fail("a sensitivity row without tensor, weights or kl");
    if (!parseQuantizableFormat(format->str())) return fail("sensitivity of " + tensor->str() + ": unknown format '" + format->str() + "'");
    s.kl[tensor->str()][format->str()] = std::max(0.0, *kl);
  }
  return s;
}

std::optional<PerTensorFormats> choosePerTensorFormats(const std::vector<WeightTensor>& tensors,
                                                       const TensorSensitivities& sensitivities, int64_t bytesToSave) {
  static const char* kLadder[] = {"f16", "q8_0", "q6_k", "q5_k", "q4_k", "q3_k", "q2_k"};  // most accurate first
  // Each measured format's sensitivities summed over the body (not the head), for the scale.
  std::map<std::string, double> measuredTotal;
  for (const WeightTensor& t : tensors) {
    auto it = sensitivities.kl.find(t.name);
    if (it != sensitivities.kl.end() && !t.head)
      for (const auto& [format, kl] : it->second) measuredTotal[format] += kl;
  }
  struct Option {
    std::string format;  // "" as stored
    int64_t bytes = 0;
    double kl = 0;
  };
  std::vector<const WeightTensor*> movable;
  std::vector<std::vector<Option>> options;
  for (const WeightTensor& t : tensors) {
    auto measured = sensitivities.kl.find(t.name);
    if (!t.resident || measured == sensitivities.kl.end()) continue;
    const int64_t stored = t.rows * ek::row_bytes(t.stored, t.row_length);
    std::vector<Option> o = {{"", stored, 0}};
    for (const char* name : kLadder) {
      auto format = formatForRows(*parseQuantizableFormat(name), t.row_length);
      if (!format) continue;
      const int64_t bytes = t.rows * ek::row_bytes(*format, t.row_length);
      if (bytes >= o.back().bytes) continue;
      // The sensitivity measured at the format nearest in bits per value.
      std::string nearest;
      double distance = 1e9;
      for (const auto& [f, kl] : measured->second) {
        const double d = std::fabs(bitsPerValue(*parseQuantizableFormat(f)) - bitsPerValue(*format));
        if (d < distance && measuredTotal[f] > 0) { distance = d; nearest = f; }
      }
      if (nearest.empty()) continue;
      const std::string taken = *format == *parseQuantizableFormat(name) ? std::string(name) : "q8_0";
      const double scale = sensitivities.quality.of(taken, "") / measuredTotal[nearest];
      o.push_back({name, bytes, measured->second.at(nearest) * scale});
    }
    if (o.size() > 1) {
      movable.push_back(&t);
      options.push_back(std::move(o));
    }
  }
  std::vector<size_t> at(options.size(), 0);
  PerTensorFormats result;
  while (result.bytes_saved < bytesToSave) {
    size_t bestTensor = options.size(), bestOption = 0;
    double bestCost = 0;
    for (size_t t = 0; t < options.size(); ++t) {
      const Option& now = options[t][at[t]];
      for (size_t j = at[t] + 1; j < options[t].size(); ++j) {
        const double cost = std::max(0.0, options[t][j].kl - now.kl) / double(now.bytes - options[t][j].bytes);
        if (bestTensor == options.size() || cost < bestCost) { bestTensor = t; bestOption = j; bestCost = cost; }
      }
    }
    if (bestTensor == options.size()) return std::nullopt;
    result.bytes_saved += options[bestTensor][at[bestTensor]].bytes - options[bestTensor][bestOption].bytes;
    at[bestTensor] = bestOption;
  }
  // The last steps may save more than needed: take back, most KL first, what the rest covers.
  for (;;) {
    size_t bestTensor = options.size(), bestOption = 0;
    double bestGain = 0;
    for (size_t t = 0; t < options.size(); ++t)
      for (size_t j = 0; j < at[t]; ++j) {
        const int64_t extra = options[t][j].bytes - options[t][at[t]].bytes;
        const double gain = options[t][at[t]].kl - options[t][j].kl;
        if (result.bytes_saved - extra >= bytesToSave && gain > bestGain) { bestTensor = t; bestOption = j; bestGain = gain; }
      }
    if (bestTensor == options.size()) break;
    result.bytes_saved -= options[bestTensor][bestOption].bytes - options[bestTensor][at[bestTensor]].bytes;
    at[bestTensor] = bestOption;
  }
  for (size_t t = 0; t < options.size(); ++t) {
    if (at[t] == 0) continue;
    result.formats[movable[t]->name] = options[t][at[t]].format;
    result.kl += options[t][at[t]].kl;
  }
  return result;
}

}  // namespace edgecc
