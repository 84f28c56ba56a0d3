#include "compiler/memory/FittingPlans.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>

#include "compiler/quantize/BlockQuantizer.h"

namespace edgecc {

std::string FittingPlan::flags() const {
  std::string f;
  auto add = [&](const std::string& flag) { f += (f.empty() ? "" : " ") + flag; };
  if (!weights.empty()) add("--weights " + weights);
  for (const auto& [tensor, format] : per_tensor) add("--weights-override " + tensor + "=" + format);
  if (!kv_type.empty()) add("--kv-type " + kv_type);
  if (context > 0) add("--max-context " + std::to_string(context));
  if (batch > 0) add("--max-batch " + std::to_string(batch));
  return f;
}

std::string FittingPlan::label() const {
  if (per_tensor.empty()) return flags();
  std::map<std::string, int> count;
  for (const auto& [tensor, format] : per_tensor) ++count[format];
  std::string formats;
  for (const auto& [format, n] : count) formats += (formats.empty() ? "" : ", ") + std::to_string(n) + " " + format;
  FittingPlan rest = *this;
  rest.per_tensor.clear();
  const std::string others = rest.flags();
  return "per-tensor weights (" + formats + ")" + (others.empty() ? "" : " " + others);
}

std::string predictedLossText(const FittingPlan& plan) {
  char text[96];
  std::snprintf(text, sizeof text, "predicted loss %.2g nats/token (KL)", plan.predicted_kl);
  std::string s = text;
  if (plan.context > 0) s += " and a shorter context";
  if (plan.batch > 0) s += std::string(plan.context > 0 ? "," : " and") + " a smaller batch (slower prompts)";
  return s;
}

std::vector<FittingPlan> plansThatFit(const ResidentPlan& plan, int64_t budget, const FitInputs& in) {
  // Formats from most to least accurate (the quality table's order).
  static const std::pair<const char*, ek::WeightFormat> kLadder[] = {
      {"f16", ek::WeightFormat::F16},   {"q8_0", ek::WeightFormat::Q8_0}, {"q6_k", ek::WeightFormat::Q6_K},
      {"q5_k", ek::WeightFormat::Q5_K}, {"q4_k", ek::WeightFormat::Q4_K}, {"q3_k", ek::WeightFormat::Q3_K},
      {"q2_k", ek::WeightFormat::Q2_K}};
  const int64_t kv = plan.bytesOf("KV cache");
  const int64_t rest = plan.total() - kv;
  // The total with the matrices in `f` and the head in its default under f (those stored with
  // more bits per value).
  auto reprice = [](const std::map<ek::WeightFormat, int64_t>& bytes, const std::map<ek::WeightFormat, int64_t>& values,
                    ek::WeightFormat f) {
    int64_t delta = 0;
    for (const auto& [stored, b] : bytes)
      if (bitsPerValue(stored) > bitsPerValue(f)) delta += int64_t(std::llround(double(values.at(stored)) * bitsPerValue(f) / 8.0)) - b;
    return delta;
  };
  // Weights choices: as they are, then each format that changes their size.
  std::vector<std::pair<std::string, int64_t>> weights = {{"", rest}};
  for (const auto& [name, format] : kLadder) {
    if (name == in.current_weights) continue;
    const ek::WeightFormat head = parseQuantizableFormat(defaultHeadFormat(name)).value_or(format);
    const int64_t fixed = rest + reprice(plan.matrix_bytes, plan.matrix_values, format) + reprice(plan.head_bytes, plan.head_values, head);
    if (fixed != rest) weights.push_back({name, fixed});
  }
  // KV choices: as it is, then each type with fewer bytes per value that the head size allows.
  auto bytesPerValue = [](const std::string& t) { return t == "f32" ? 4.0 : t == "f16" ? 2.0 : 34.0 / 32.0; };
  std::vector<std::pair<std::string, int64_t>> kvs = {{"", plan.kv_bytes_per_position}};
  for (const char* t : {"f16", "q8_0"})
    if (kv > 0 && bytesPerValue(t) < bytesPerValue(plan.kv_type) && (std::string(t) != "q8_0" || plan.kv_head_size % 32 == 0))
      kvs.push_back({t, int64_t(std::llround(double(plan.kv_bytes_per_position) * bytesPerValue(t) / bytesPerValue(plan.kv_type)))});
  // Batch choices, largest first: as it is, then each smaller one the plan priced.
  std::vector<std::pair<int64_t, int64_t>> batches = {{0, 0}};
  for (const auto& [batch, total] : plan.batch_totals) batches.push_back({batch, total - plan.total()});
  auto kl = [&](const std::string& w, const std::string& t) {
    return in.quality.of(w.empty() ? in.current_weights : w, t.empty() ? plan.kv_type : t);
  };
  const bool perTensor = in.sensitivities && in.current_weights.empty();

  std::vector<FittingPlan> whole, shorter;
  for (const auto& [t, perPosition] : kvs) {
    const int64_t kvBytes = perPosition * plan.context;
    for (const auto& [w, fixed] : weights)
      for (const auto& [batch, delta] : batches) {
        if (w.empty() && t.empty() && batch == 0) continue;  // the plan as it is
        if (fixed + delta + kvBytes <= budget) {
          whole.push_back({w, {}, t, 0, batch, fixed + delta + kvBytes, kl(w, t)});
          break;  // the largest batch that fits
        }
      }
    // Each tensor in its own format: the smallest predicted loss that saves what is missing. A
    // smaller batch leaves more for the weights; it is taken where it cuts the loss by a tenth.
    double lastKl = 0;
    for (const auto& [batch, delta] : batches) {
      if (!perTensor || rest + delta + kvBytes <= budget) break;
      auto formats = choosePerTensorFormats(in.tensors, *in.sensitivities, rest + delta + kvBytes - budget);
      if (!formats) continue;
      const double loss = formats->kl + in.quality.of("", t.empty() ? plan.kv_type : t);
      if (lastKl > 0 && loss > 0.9 * lastKl) continue;
      whole.push_back({"", formats->formats, t, 0, batch, rest + delta + kvBytes - formats->bytes_saved, loss});
      lastKl = loss;
    }
  }
  // Ties (the same loss) go to the larger batch.
  auto batchRank = [](const FittingPlan& p) { return p.batch == 0 ? INT64_MAX : p.batch; };
  std::stable_sort(whole.begin(), whole.end(), [&](const FittingPlan& a, const FittingPlan& b) {
    return a.predicted_kl != b.predicted_kl ? a.predicted_kl < b.predicted_kl : batchRank(a) > batchRank(b);
  });
  if (whole.size() > 3) whole.resize(3);  // one screen: the three most accurate
  // Shorter contexts, with the smallest KV cache: the longest each weights choice allows, where
  // it is longer than the choices above allow (a multiple of 64, at least 64).
  const auto& [smallestKv, perPosition] = kvs.back();
  int64_t bestContext = 0;
  for (const auto& [w, fixed] : weights) {
    if (!perPosition || fixed >= budget) continue;
    const int64_t c = std::min(plan.context, (budget - fixed) / perPosition / 64 * 64);
    if (c >= 64 && c > bestContext && c < plan.context) {
      shorter.push_back({w, {}, smallestKv, c, 0, fixed + c * perPosition, kl(w, smallestKv)});
      bestContext = c;
    }
  }
  std::reverse(shorter.begin(), shorter.end());  // longest context first
  whole.insert(whole.end(), shorter.begin(), shorter.end());
  return whole;
}

}  // namespace edgecc
