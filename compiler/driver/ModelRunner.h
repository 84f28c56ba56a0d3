// compile -> build -> run for one model and one set of input tensors: what `edgecc run`
// and `edgecc test-onnx` share.
#pragma once

#include <string>
#include <vector>

#include "compiler/driver/BundleBuild.h"
#include "compiler/driver/Pipeline.h"
#include "runtime/tensor_file.h"

namespace edgecc {

// Reads input_0.pb, input_1.pb, ... from `dir` until the next index is missing.
llvm::Expected<std::vector<ek::HostTensor>> readTensorDir(const std::string& dir, const std::string& prefix);

struct RunRequest {
  std::string model;        // an .onnx file, or a bundle directory
  std::string inputs_dir;
  std::string outputs_dir;
  // Further steps on the same model, in order (a bundle with a KV cache carries it across).
  std::vector<std::pair<std::string, std::string>> next_steps;  // {inputs dir, outputs dir}
  std::string bundle_dir;   // where to compile an .onnx model
  bool reuse_bundle = false;  // bundle_dir is a cache keyed by model and inputs: reuse a complete one
  CompileOptions compile;
  BuildOptions build;
  int repeat = 1;
};

// Compiles (for .onnx, specialized to the input shapes), builds and runs. Returns the
// runner's report line (timings).
llvm::Expected<std::string> compileBuildRun(const RunRequest& request);

bool isBundleDir(const std::string& path);

// A cache directory for bundles compiled from `model`: keyed by the compiler binary, the
// model's bytes and `key` (a hash of whatever else decides the bundle), so nothing stale is
// ever reused.
std::string bundleCacheDir(const std::string& model, uint64_t key, const std::string& kind);

// For `edgecc generate` and Python: `model` is an LLM bundle directory, or a .gguf/.onnx file
// compiled first (into `bundleDir`, or a cache directory when empty; an ONNX file without
// --max-context gets kDefaultOnnxContext). Builds the bundle's
// model_generate tool and returns {tool, bundle directory}.
constexpr int64_t kDefaultOnnxContext = 512;  // positions, when generating from an ONNX file

struct GenerateTool {
  std::string exe;
  std::string bundle;
};
llvm::Expected<GenerateTool> prepareGenerate(const std::string& model, const CompileOptions& compile,
                                             const std::string& bundleDir);

}  // namespace edgecc
