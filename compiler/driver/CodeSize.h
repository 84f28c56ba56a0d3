// `compile --build`: builds a bundle with its own CMakeLists.txt, as a user would (an arm64
// bundle with the cross toolchain file it carries), and records the stripped size of its tools
// in report.json ("code_size"): the code a device maps, runtime plus model, without weights.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "llvm/Support/Error.h"

namespace edgecc {

struct CodeSize {
  std::string isa;               // "arm64" or "x86-64"
  int64_t model_run = 0;         // stripped bytes: runtime + model, no tokenizer or generation loop
  int64_t model_generate = -1;   // stripped bytes: with the tokenizer, sampler and text loop (LLMs; else -1)
};

// The goal for model_run: ncnn's runtime is under 300 KB.
constexpr int64_t kCodeSizeGoalBytes = 300 * 1000;

// Configures and builds `bundleDir` into `bundleDir/build`, strips copies of its tools and adds
// "code_size" to `bundleDir/report.json`. `progress` is told each step.
llvm::Expected<CodeSize> buildAndMeasureCode(const std::string& bundleDir,
                                             const std::function<void(const std::string&)>& progress);

}  // namespace edgecc
