// exec dialect -> a standalone C++ bundle: model.h, model.cpp, weights.bin, runtime/,
// CMakeLists.txt and report.json. The bundle builds with a C++17 compiler alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "compiler/memory/ResidentPlan.h"
#include "compiler/target/DeviceEstimate.h"
#include "compiler/target/DeviceProfile.h"
#include "llvm/Support/Error.h"
#include "mlir/IR/BuiltinOps.h"

namespace edgecc {

struct BundleOptions {
  std::string cpp_namespace = "edgecc_model";
  std::string source_name;             // the model file, for comments and the report
  // The device: its flags go into CMakeLists.txt (baseline_flags for the files that check the
  // CPU before anything else runs), its features into the CPU check, its cores into the
  // default thread count, and the whole of it into report.json's estimate.
  DeviceProfile target;
  // A calibration bundle: before the float linear ops, the generated code hands their input
  // to ek::observe_input (runtime/input_statistics.h) under the weights' names.
  bool observe_inputs = false;
  // The resident memory plan and the budget it was checked against: report.json's "memory"
  // and memory.svg.
  ResidentPlan plan;
  int64_t ram_budget = 0;
};

struct BundleSummary {
  int64_t arena_bytes = 0;
  std::string arena_planner;  // the arena planner whose plan the bundle uses
  std::vector<std::pair<std::string, int64_t>> arena_planners;  // each planner's arena, for report.json
  int64_t weight_bytes = 0;
  int64_t kernel_calls = 0;
  std::map<std::string, int64_t> kernel_counts;  // kernel name -> calls
  TokenCost token_cost;       // one decoded token (LLMs)
  DeviceEstimate expected;    // on the target device, at the full context (LLMs; report.json)
};

// `module` must be lowered to exec and memory-planned. Writes into `dir` (created if needed).
// Writes the runtime sources every bundle carries into `dir`/runtime (and, for arm64, the
// cross-build toolchain file into `dir`/cmake).
llvm::Error writeRuntimeSources(const std::string& dir, const std::string& isa);

llvm::Expected<BundleSummary> emitBundle(mlir::ModuleOp module, const std::string& dir, const BundleOptions& options);

}  // namespace edgecc
