// The compiler, as one flat list of stages: import, graph passes, lowering, planning, emit.
// Used by the `edgecc` CLI and the Python module alike.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "codegen/EmitBundle.h"
#include "compiler/import/OnnxImporter.h"
#include "compiler/memory/FittingPlans.h"
#include "llvm/Support/Error.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"

namespace edgecc {

struct CompileOptions {
  std::string target = "x86-64-avx2";  // a device profile name
  ImportOptions import;                // ONNX only
  // LLM bundles: the KV cache capacity (positions) and the most tokens per call. GGUF models
  // always get a cache (0: the model's context length); ONNX models get one when > 0.
  int64_t max_context = 0;
  int64_t max_batch = 0;
  bool all_logits = false;  // GGUF: logits for every position (perplexity), not just the last
  int64_t gguf_probe_tokens = 0;  // GGUF: > 0 compiles the bisection probe (GgufImportOptions::probe_tokens), no KV cache
  std::string kv_type = "f32";  // how the KV cache stores its rows: f32, f16 or q8_0
  std::string weights;       // convert float weights to this format ("" keeps them as stored)
  std::string weights_head;  // ... and the embedding table / output head to this ("": see QuantizeWeights)
  std::vector<std::string> weight_overrides;  // NAME=FORMAT: that float weight tensor alone in FORMAT
  // Calibration (compiler/driver/Calibration.h): a bundle that records the inputs of its float
  // linears (runtime/input_statistics.h), gate and up left unfused so each keeps its name; and
  // a statistics file such a bundle wrote, which turns --weights into error-feedback rounding.
  bool observe_inputs = false;
  std::string input_statistics;
  // Calibration text: compiling first observes the model over it (input_statistics is then
  // that run's file), chunks of the model's context (0: kDefaultCalibrationChunks).
  std::string calibration_text;
  int64_t calibration_chunks = 0;
  // The RAM the bundle may hold (0: the target's ram_budget_bytes). Over it, compiling fails with
  // the plan and what would fit; with `fit`, the most accurate of those is compiled instead.
  int64_t ram_budget = 0;
  bool fit = false;
  // A quality report with per-tensor sensitivities (`edgecc quality --sensitivity ... --json`):
  // what would fit then includes a format per tensor, and every loss is predicted from the
  // model's own measurements.
  std::string sensitivity_file;
  std::optional<FitChoice> fitted;  // set by --fit on the plan it compiles, for report.json
  // "hand" (default) or "halide": whether variants with Halide-generated kernels may run
  // (DeviceProfile::generated_kernels).
  std::string kernels = "hand";
  std::string cpp_namespace = "edgecc_model";
  std::string dump_after;  // pass argument (or "import"): print the IR after it to stderr
  std::function<void(const std::string&)> progress;  // called as each stage starts
};

struct CompileResult {
  BundleSummary bundle;
  ResidentPlan plan;
  int64_t ram_budget = 0;
  std::string fitted;        // --fit: what it chose, for people ("" when the plan fitted as asked)
  std::string fitted_flags;  // ... as compile flags
  double fitted_kl = 0;  // ... and the quality they are predicted to lose (FittingPlan::predicted_kl)
  std::map<std::string, int64_t> graph_ops;  // op name -> count, after graph passes
  std::string target;
};

void registerDialects(mlir::DialectRegistry& registry);
void registerAllPasses();

// Graph-level cleanup and fusion, then lowering and planning.
void addGraphPasses(mlir::OpPassManager& pm, std::unique_ptr<mlir::Pass> quantize = nullptr, bool fuseGateUp = true);
void addLoweringPasses(mlir::OpPassManager& pm);

// What decides a bundle beyond the model file (every option, the calibration text's bytes):
// the key of cached bundles.
std::string compileOptionsKey(const CompileOptions& options);

// Compiles an ONNX or GGUF model (told apart by the file's magic) into a bundle in outDir.
llvm::Expected<CompileResult> compileModelToBundle(const std::string& modelPath, const std::string& outDir,
                                                   const CompileOptions& options);

}  // namespace edgecc
