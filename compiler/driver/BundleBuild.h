// Builds a generated bundle with the system C++ compiler and runs its model_run tool.
#pragma once

#include <string>
#include <vector>

#include "llvm/Support/Error.h"

namespace edgecc {

struct BuildOptions {
  std::string opt_level = "-O3";  // as the bundle's own CMakeLists.txt (Release)
  std::vector<std::string> cxx_flags;       // target flags
  std::vector<std::string> baseline_flags;  // for the CPU check, after cxx_flags (the ISA without extensions)
};

// $XDG_CACHE_HOME/edgecc (or ~/.cache/edgecc): compiled runtimes and `edgecc run` bundles.
std::string cacheRoot();

// The C++ compiler command: $CXX, else c++; prefixed by ccache when it is installed.
std::vector<std::string> cxxCommand();

// Runs a program, capturing stdout+stderr into *output. Returns the exit code (-1: not run).
int runProgram(const std::vector<std::string>& argv, std::string* output, unsigned timeoutSeconds = 0);

// The bundle's command-line tools: model_run (tensors in, tensors out) and, for LLMs,
// model_generate (text in, text out).
enum class BundleTool { Run, Generate };

// Compiles `bundleDir` into `bundleDir/model_run` or `model_generate` (skipped when it is
// newer than model.cpp).
llvm::Expected<std::string> buildBundle(const std::string& bundleDir, const BuildOptions& options,
                                        BundleTool tool = BundleTool::Run);

// Compiles the runtime sources of `bundleDir` once into `outDir/libedgecc_runtime.a`.
// buildBundle uses a cached one keyed by the sources and flags, so only model.cpp is compiled
// per bundle.
llvm::Expected<std::string> buildRuntimeArchive(const std::string& bundleDir, const std::string& outDir,
                                                const BuildOptions& options);

}  // namespace edgecc
