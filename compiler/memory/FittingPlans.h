// The plans that would bring a bundle under a RAM budget, each with the quality it is
// predicted to lose: `compile --ram-budget` lists them when it refuses, `--fit` compiles the
// most accurate. The choices: the weights' format (one for all, or one per tensor from a
// model's sensitivities), the KV cache's type, the token batch, and the context.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/memory/PredictedQuality.h"
#include "compiler/memory/ResidentPlan.h"

namespace edgecc {

struct FittingPlan {
  std::string weights;                            // "" keeps the weights' format
  std::map<std::string, std::string> per_tensor;  // tensor -> format (--weights-override), from sensitivities
  std::string kv_type;                            // "" keeps the KV cache's type
  int64_t context = 0;                            // positions; 0 keeps the context
  int64_t batch = 0;                              // tokens per call; 0 keeps the batch
  int64_t total = 0;
  double predicted_kl = 0;  // from the f32 model: the weights' and the KV cache's, taken to add up
  std::string flags() const;  // every flag, to compile it
  std::string label() const;  // for people: the per-tensor formats counted, not listed
};

struct FitInputs {
  std::string current_weights;  // --weights as given ("" as stored)
  QualityEstimates quality = QualityEstimates::referenceModel();
  // With sensitivities, plans where each tensor takes its own format (only when the weights are
  // as stored): the float matrices, and the sensitivities measured for them.
  std::vector<WeightTensor> tensors;
  const TensorSensitivities* sensitivities = nullptr;
};

// First the plans that keep the whole context, the smallest predicted loss first (weights x KV
// type, each at the largest batch that fits; at most three), then shorter contexts with the
// smallest KV cache, longest first. Weights are re-priced by bits per value (the head by its
// default format under each), the KV cache by bytes per value, the batch by the plan's
// batch_totals, the context by the KV cache's bytes per position.
std::vector<FittingPlan> plansThatFit(const ResidentPlan& plan, int64_t budget, const FitInputs& inputs);

// "predicted loss 0.0026 nats/token (KL)", with "and a shorter context" / "and a smaller batch"
// where it shortens them.
std::string predictedLossText(const FittingPlan& plan);

}  // namespace edgecc
