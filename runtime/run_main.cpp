// A command-line runner for a generated bundle: reads ONNX TensorProto inputs
// (input_0.pb, ...), runs the model, writes output_0.pb, ... and prints timings.
//   model_run --weights weights.bin --inputs DIR --outputs DIR [--repeat N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "model.h"
#include "runtime/tensor_file.h"

namespace M = EDGECC_MODEL_NAMESPACE;

int main(int argc, char** argv) {
  std::string weights = "weights.bin", inputs, outputs;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "model_run: %s needs a value\n", argv[i]); std::exit(2); }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--weights")) weights = next();
    else if (!std::strcmp(argv[i], "--inputs")) inputs = next();
    else if (!std::strcmp(argv[i], "--outputs")) outputs = next();
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(next());
    else { std::fprintf(stderr, "model_run: unknown argument '%s'\n", argv[i]); return 2; }
  }
  if (inputs.empty()) { std::fprintf(stderr, "model_run: --inputs DIR is required\n"); return 2; }
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };

  std::string error;
  auto t0 = clock::now();
  M::Model model;
  if (!model.load(weights.c_str(), &error)) { std::fprintf(stderr, "model_run: %s\n", error.c_str()); return 1; }
  auto t1 = clock::now();

  std::vector<ek::HostTensor> in(M::kNumInputs), out(M::kNumOutputs);
  std::vector<ek::Tensor> in_views, out_views;
  for (int k = 0; k < M::kNumInputs; ++k) {
    std::string path = inputs + "/input_" + std::to_string(k) + ".pb";
    if (!ek::read_tensor_file(path, &in[size_t(k)], &error)) { std::fprintf(stderr, "model_run: %s\n", error.c_str()); return 1; }
    in_views.push_back(in[size_t(k)].view());
  }
  for (int k = 0; k < M::kNumOutputs; ++k) {
    const ek::TensorSpec& s = M::kOutputs[k];
    ek::HostTensor& t = out[size_t(k)];
    t.name = s.name;
    t.dtype = s.dtype;
    t.dims.assign(s.dims, s.dims + s.rank);
    t.data.resize(t.view().bytes());
    out_views.push_back(t.view());
  }
  double best = 1e30, total = 0;
  for (int r = 0; r < (repeat > 0 ? repeat : 1); ++r) {
    // Outputs are allocated for the largest shapes; run() sets the actual dims each time.
    for (int k = 0; k < M::kNumOutputs; ++k) out_views[size_t(k)] = out[size_t(k)].view();
    auto a = clock::now();
    if (!model.run(in_views.data(), out_views.data(), &error)) { std::fprintf(stderr, "model_run: %s\n", error.c_str()); return 1; }
    double t = ms(clock::now() - a);
    best = t < best ? t : best;
    total += t;
  }
  for (int k = 0; k < M::kNumOutputs; ++k) {
    const ek::Tensor& v = out_views[size_t(k)];
    out[size_t(k)].dims.assign(v.dims, v.dims + v.rank);
    out[size_t(k)].data.resize(v.bytes());
  }
  if (!outputs.empty()) {
    for (int k = 0; k < M::kNumOutputs; ++k) {
      std::string path = outputs + "/output_" + std::to_string(k) + ".pb";
      if (!ek::write_tensor_file(path, out[size_t(k)], &error)) { std::fprintf(stderr, "model_run: %s\n", error.c_str()); return 1; }
    }
  }
  std::printf("load %.3f ms, run best %.3f ms, mean %.3f ms over %d run(s), arena %zu bytes, weights %llu bytes\n",
              ms(t1 - t0), best, total / (repeat > 0 ? repeat : 1), repeat > 0 ? repeat : 1, size_t(M::kArenaBytes),
              (unsigned long long)M::kWeightBytes);
  return 0;
}
