// A command-line runner for a generated bundle: reads ONNX TensorProto inputs
// (input_0.pb, ...), runs the model, writes output_0.pb, ... and prints timings.
//   model_run --weights weights.bin --inputs DIR [--outputs DIR] [--inputs DIR2 [--outputs DIR2]]... [--repeat N]
// Several --inputs run in order on one model, so a bundle that owns a KV cache sees them as
// consecutive steps (a prefill, then decode steps). --repeat N resets the model and runs the
// whole sequence N times.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "model.h"
#include "runtime/tensor_file.h"

namespace M = EDGECC_MODEL_NAMESPACE;

namespace {

struct Step {
  std::string inputs, outputs;
  std::vector<ek::HostTensor> in, out;
  std::vector<ek::Tensor> in_views, out_views;
};

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "model_run: %s\n", why.c_str());
  std::exit(1);
}

void load_step(Step& s) {
  std::string error;
  s.in.resize(M::kNumInputs);
  for (int k = 0; k < M::kNumInputs; ++k) {
    std::string path = s.inputs + "/input_" + std::to_string(k) + ".pb";
    if (!ek::read_tensor_file(path, &s.in[size_t(k)], &error)) die(error);
    s.in_views.push_back(s.in[size_t(k)].view());
  }
  s.out.resize(M::kNumOutputs);
  for (int k = 0; k < M::kNumOutputs; ++k) {
    const ek::TensorSpec& spec = M::kOutputs[k];
    ek::HostTensor& t = s.out[size_t(k)];
    t.name = spec.name;
    t.dtype = spec.dtype;
    t.dims.assign(spec.dims, spec.dims + spec.rank);
    t.data.resize(t.view().bytes());
    s.out_views.push_back(t.view());
  }
}

}  // namespace

constexpr const char* kUsage =
    "usage: model_run --weights weights.bin --inputs DIR [--outputs DIR] [--inputs DIR2 [--outputs DIR2]]... [--repeat N]\n"
    "Runs the bundle on ONNX TensorProto inputs (DIR/input_0.pb, ...), in order as consecutive steps, and writes\n"
    "DIR/output_0.pb, ... to each --outputs; --repeat N resets the model and runs the sequence N times.\n";

int main(int argc, char** argv) {
  std::string weights = "weights.bin";
  std::vector<Step> steps;
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) { std::fprintf(stderr, "model_run: %s needs a value\n", argv[i]); std::exit(2); }
      return argv[++i];
    };
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) { std::fputs(kUsage, stdout); return 0; }
    if (!std::strcmp(argv[i], "--weights")) weights = next();
    else if (!std::strcmp(argv[i], "--inputs")) { steps.emplace_back(); steps.back().inputs = next(); }
    else if (!std::strcmp(argv[i], "--outputs")) {
      if (steps.empty() || !steps.back().outputs.empty()) { std::fprintf(stderr, "model_run: --outputs must follow its --inputs\n"); return 2; }
      steps.back().outputs = next();
    }
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::atoi(next());
    else { std::fprintf(stderr, "model_run: unknown argument '%s'\n", argv[i]); return 2; }
  }
  if (steps.empty()) { std::fprintf(stderr, "model_run: --inputs DIR is required\n"); return 2; }
  if (repeat < 1) repeat = 1;
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); };

  std::string error;
  auto t0 = clock::now();
  M::Model model;
  if (!model.load(weights.c_str(), &error)) die(error);
  auto t1 = clock::now();
  for (Step& s : steps) load_step(s);

  double best = 1e30, total = 0;
  for (int r = 0; r < repeat; ++r) {
    model.reset();
    auto a = clock::now();
    for (Step& s : steps) {
      // Outputs are allocated for the largest shapes; run() sets the actual dims each time.
      for (int k = 0; k < M::kNumOutputs; ++k) s.out_views[size_t(k)] = s.out[size_t(k)].view();
      if (!model.run(s.in_views.data(), s.out_views.data(), &error)) die(error);
    }
    double t = ms(clock::now() - a);
    best = t < best ? t : best;
    total += t;
  }
  for (Step& s : steps) {
    if (s.outputs.empty()) continue;
    for (int k = 0; k < M::kNumOutputs; ++k) {
      const ek::Tensor& v = s.out_views[size_t(k)];
      ek::HostTensor& t = s.out[size_t(k)];
      t.dims.assign(v.dims, v.dims + v.rank);
      t.data.resize(v.bytes());
      std::string path = s.outputs + "/output_" + std::to_string(k) + ".pb";
      if (!ek::write_tensor_file(path, t, &error)) die(error);
    }
  }
  std::printf("load %.3f ms, run best %.3f ms, mean %.3f ms over %d run(s), arena %zu bytes, weights %llu bytes\n",
              ms(t1 - t0), best, total / repeat, repeat, size_t(M::kArenaBytes), (unsigned long long)M::kWeightBytes);
  return 0;
}
