#include "compiler/driver/OnnxTestRunner.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <thread>

#include "compiler/driver/ModelRunner.h"
#include "compiler/driver/TensorDiff.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

namespace edgecc {
namespace {

// Empty when equal (integers and bools exactly, floats within tolerance), else the reason.
std::string compareTensors(const ek::HostTensor& got, const ek::HostTensor& want, const OnnxTestOptions& o) {
  const TensorDiff d = diffTensors(got, want, Tolerance{o.rtol, o.atol, /*median_floor=*/false});
  if (!d.problem.empty() || d.agrees()) return d.problem;
  std::ostringstream s;
  s << "max error " << std::fabs(d.got - d.want) << " at element " << d.worst << " (got " << d.got << ", expected " << d.want << ")";
  return s.str();
}

struct TestResult {
  std::string name;
  std::string failure;  // empty: passed
};

TestResult runOne(const std::string& dir, const std::string& work, const OnnxTestOptions& o) {
  TestResult r{llvm::sys::path::filename(llvm::StringRef(dir).rtrim('/')).str(), ""};
  std::vector<std::string> sets;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec; it.increment(ec))
    if (llvm::sys::path::filename(it->path()).starts_with("test_data_set_")) sets.push_back(it->path());
  std::sort(sets.begin(), sets.end());
  if (sets.empty()) { r.failure = "no test_data_set_* directories"; return r; }
  for (const std::string& set : sets) {
    RunRequest req;
    req.model = dir + "/model.onnx";
    req.inputs_dir = set;
    const std::string base = work + "/" + r.name + "/" + llvm::sys::path::filename(set).str();
    req.bundle_dir = base + "/bundle";
    req.outputs_dir = base + "/outputs";
    req.compile.target = o.target;
    req.compile.cpp_namespace = "edgecc_model";
    // Built as users get it (-O3, BuildOptions' default): the runtime archive is built once
    // and cached by buildBundle, so each test compiles only its small model.cpp.
    auto ran = compileBuildRun(req);
    if (!ran) { r.failure = llvm::toString(ran.takeError()); return r; }
    auto want = readTensorDir(set, "output");
    auto got = readTensorDir(req.outputs_dir, "output");
    if (!want) { r.failure = llvm::toString(want.takeError()); return r; }
    if (!got) { r.failure = llvm::toString(got.takeError()); return r; }
    if (got->size() != want->size()) { r.failure = "produced " + std::to_string(got->size()) + " outputs, expected " + std::to_string(want->size()); return r; }
    for (size_t k = 0; k < want->size(); ++k) {
      std::string why = compareTensors((*got)[k], (*want)[k], o);
      if (!why.empty()) { r.failure = "output " + std::to_string(k) + ": " + why; return r; }
    }
  }
  return r;
}

}  // namespace

int runOnnxTests(const std::vector<std::string>& dirs, const OnnxTestOptions& o) {
  llvm::SmallString<128> work(o.work_dir);
  if (work.empty() && llvm::sys::fs::createUniqueDirectory("edgecc-onnx-tests", work)) {
    std::fprintf(stderr, "edgecc: cannot create a work directory\n");
    return int(dirs.size());
  }
  std::vector<TestResult> results(dirs.size());
  std::atomic<size_t> next{0};
  std::mutex print;
  unsigned jobs = o.jobs > 0 ? unsigned(o.jobs) : std::max(1u, std::thread::hardware_concurrency());
  auto worker = [&]() {
    for (size_t i; (i = next++) < dirs.size();) {
      results[i] = runOne(dirs[i], std::string(work), o);
      std::lock_guard<std::mutex> lock(print);
      if (results[i].failure.empty()) std::printf("PASS %s\n", results[i].name.c_str());
      else {
        std::string oneLine = results[i].failure;
        std::replace(oneLine.begin(), oneLine.end(), '\n', ' ');
        std::printf("FAIL %s: %s\n", results[i].name.c_str(), oneLine.c_str());
      }
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned j = 0; j < jobs; ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  int failed = 0;
  for (const TestResult& r : results) failed += !r.failure.empty();
  std::printf("%d passed, %d failed\n", int(results.size()) - failed, failed);
  return failed;
}

}  // namespace edgecc
