// exec dialect -> a standalone C++ bundle: model.h, model.cpp, weights.bin, runtime/,
// CMakeLists.txt and report.json. The bundle builds with a C++17 compiler alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"
#include "mlir/IR/BuiltinOps.h"

namespace edgecc {

struct BundleOptions {
  std::string cpp_namespace = "edgecc_model";
  std::string source_name;             // the model file, for comments and the report
  std::string target_name;             // device profile name, for the report
  std::vector<std::string> cxx_flags;       // target flags written into the bundle's CMakeLists.txt
  std::vector<std::string> baseline_flags;  // for the files that check the CPU before anything else runs
  std::string cpu_features;                 // what the target's code needs (runtime/cpu_features.h names)
};

struct BundleSummary {
  int64_t arena_bytes = 0;
  int64_t weight_bytes = 0;
  int64_t kernel_calls = 0;
  std::map<std::string, int64_t> kernel_counts;  // kernel name -> calls
};

// `module` must be lowered to exec and memory-planned. Writes into `dir` (created if needed).
// Writes the runtime sources every bundle carries into `dir`/runtime.
llvm::Error writeRuntimeSources(const std::string& dir);

llvm::Expected<BundleSummary> emitBundle(mlir::ModuleOp module, const std::string& dir, const BundleOptions& options);

}  // namespace edgecc
