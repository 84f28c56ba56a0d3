// Runs ONNX backend-test directories (model.onnx + test_data_set_*/{input,output}_K.pb)
// through the whole compiler: compile, build (fast mode), run, compare.
#pragma once

#include <string>
#include <vector>

namespace edgecc {

struct OnnxTestOptions {
  double rtol = 1e-3;  // |got - want| <= atol + rtol * |want|, elementwise (ONNX backend's rtol)
  double atol = 1e-5;
  int jobs = 0;        // 0: one per core
  std::string work_dir;  // bundles go here (a temporary directory when empty)
  std::string target = "x86-64-avx2";
};

// Prints "PASS name" / "FAIL name: reason" per test and a closing "N passed, M failed".
// Returns the number of failed tests.
int runOnnxTests(const std::vector<std::string>& dirs, const OnnxTestOptions& options);

}  // namespace edgecc
