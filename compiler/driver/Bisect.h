// Numerics bisection (`edgecc bisect`): every node's output is made a graph output (the probe
// model), the probe runs through edgecc and through a reference (ONNX Runtime, or tensors the
// user computed), and the nodes are compared in graph order. The first node whose output
// diverges while its inputs agree is where the error starts. A GGUF model's probe exposes the
// intermediates llama.cpp's graph names (GgufImporter.h), and llama.cpp is the reference.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "compiler/driver/TensorDiff.h"
#include "llvm/Support/Error.h"

namespace edgecc {

struct BisectOptions {
  std::string model;       // MODEL.onnx
  std::string inputs_dir;  // input_0.pb, input_1.pb, ... in graph input order (as `edgecc run`)
  // "ort": ONNX Runtime for Node, found in `ort_module` (an onnxruntime-node directory).
  // Otherwise a directory of TensorProto files (*.pb), each named (its `name` field) after the
  // ONNX value it holds: any subset of the model's intermediates, e.g. from PyTorch.
  std::string reference = "ort";
  std::string ort_module;
  std::vector<int32_t> tokens;  // GGUF: the prompt, one batch from position 0
  std::string llama_ref;        // GGUF: llama.cpp's runner (scripts/setup_llama_ref.sh)
  std::string work_dir;  // the probe model, both bundles and all tensors
  std::string target = "x86-64-avx2";
  // An element diverges when |got - want| > atol + rtol * max(|want|, median |want|).
  Tolerance tolerance{1e-3, 1e-5, /*median_floor=*/true};
  std::function<void(const std::string&)> progress;
};

// One ONNX value: edgecc's against the reference's.
struct ValueDiff {
  std::string value;        // the ONNX value name
  bool has_reference = false;  // the reference holds it (a user's directory may hold a subset)
  TensorDiff diff;
  std::vector<int64_t> dims;   // the reference's shape
  bool diverges() const { return has_reference && !diff.agrees(); }
};

struct NodeDiff {
  std::string name, op_type;
  std::vector<std::string> inputs;  // value names, graph order
  std::vector<ValueDiff> outputs;
  bool diverges() const;
};

struct BisectResult {
  std::string reference;  // what was compared against, e.g. "ONNX Runtime 1.20.1"
  std::vector<NodeDiff> nodes;       // graph order
  int first_divergent = -1;          // index in `nodes`
  // The model's own outputs from the model as shipped (fused as compiled, nothing exposed).
  std::vector<ValueDiff> shipped;
  std::string work_dir;
};

llvm::Expected<BisectResult> bisectOnnx(const BisectOptions& options);
llvm::Expected<BisectResult> bisectGguf(const BisectOptions& options);  // `shipped` stays empty

// The report: the first divergent node with its error statistics and its inputs', then the
// nodes around it; or that everything agrees.
std::string bisectText(const BisectResult& result, const BisectOptions& options);
std::string bisectJson(const BisectResult& result, const BisectOptions& options);

}  // namespace edgecc
