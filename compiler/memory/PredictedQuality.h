// What a smaller weights format or KV cache type is predicted to cost in quality: the mean KL
// divergence (nats per token) from the f32 model, as `edgecc quality` measures it. By default
// the figures of the reference model (benchmarks/results/quality-brown-6m.md); a model's own
// quality report (`edgecc quality MODEL --sensitivity q4_k,q2_k --json FILE`) replaces them
// with its own, and its per-tensor sensitivities let each weight tensor take its own format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"
#include "runtime/weight_format.h"

namespace edgecc {

struct QualityEstimates {
  std::map<std::string, double> weights;  // format -> KL with every float matrix in it ("" and f32: 0)
  std::map<std::string, double> kv;       // KV cache type -> KL with f32 weights (f32: 0)
  // The KL of weights in `weights` ("" keeps them: 0) and a KV cache of `kvType`, taken to add up.
  double of(const std::string& weights, const std::string& kvType) const;
  static QualityEstimates referenceModel();
};

// A model's quality report: its whole-model KL per format and KV type over the reference
// model's, and the KL each float matrix adds when it alone is quantized.
struct TensorSensitivities {
  std::string file;
  QualityEstimates quality;
  std::map<std::string, std::map<std::string, double>> kl;  // tensor -> format -> KL alone
};
llvm::Expected<TensorSensitivities> readTensorSensitivities(const std::string& path);

// A float weight matrix that may take its own format.
struct WeightTensor {
  std::string name;
  int64_t rows = 0, row_length = 0;
  ek::WeightFormat stored = ek::WeightFormat::F16;
  bool resident = true;  // false: only its rows are read (an untied embedding table), no saving
  bool head = false;     // the embedding table or output layer (--weights-head's)
};

struct PerTensorFormats {
  std::map<std::string, std::string> formats;  // tensor -> format, for those that change
  int64_t bytes_saved = 0;
  double kl = 0;  // predicted, from f32 (tensors as stored count 0)
};

// The per-tensor formats that save at least `bytesToSave` resident bytes with the smallest
// predicted KL, or nullopt when even the smallest formats do not save that much. The tensors'
// KLs are taken to add up, at the scale of the whole-model figures: a tensor's KL in a format is
// its sensitivity at the measured format nearest in bits per value, times the whole model's KL
// in the format over the sum of the body's sensitivities there (the whole-model rows keep the
// head at --weights-head's default). Greedy: each step takes the change that costs the least KL
// per byte saved (deterministic: ties go to the first tensor).
std::optional<PerTensorFormats> choosePerTensorFormats(const std::vector<WeightTensor>& tensors,
                                                       const TensorSensitivities& sensitivities, int64_t bytesToSave);

}  // namespace edgecc
