#include "compiler/driver/ModelRunner.h"

#include "compiler/import/GgufImporter.h"
#include "compiler/target/DeviceProfile.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "runtime/weights_format.h"

namespace edgecc {

static llvm::Error fail(const std::string& msg) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", msg.c_str());
}

llvm::Expected<std::vector<ek::HostTensor>> readTensorDir(const std::string& dir, const std::string& prefix) {
  if (!llvm::sys::fs::is_directory(dir)) return fail(dir + ": not a directory");
  std::vector<ek::HostTensor> tensors;
  for (int k = 0;; ++k) {
    std::string path = dir + "/" + prefix + "_" + std::to_string(k) + ".pb";
    if (!llvm::sys::fs::exists(path)) break;
    ek::HostTensor t;
    std::string error;
    if (!ek::read_tensor_file(path, &t, &error)) return fail(error);
    tensors.push_back(std::move(t));
  }
  return tensors;
}

// The target recorded in a bundle's report.json ("target": "NAME").
static std::string bundleTarget(const std::string& dir) {
  auto buf = llvm::MemoryBuffer::getFile(dir + "/report.json");
  if (!buf) return "";
  llvm::StringRef text = (*buf)->getBuffer();
  size_t at = text.find("\"target\": \"");
  if (at == llvm::StringRef::npos) return "";
  text = text.drop_front(at + 11);
  return text.take_until([](char c) { return c == '"'; }).str();
}

// Builds a bundle with the flags of the target it was compiled for.
static void useBundleTarget(const std::string& dir, BuildOptions& build) {
  if (const DeviceProfile* p = findDeviceProfile(bundleTarget(dir))) {
    build.cxx_flags = p->cxx_flags;
    build.baseline_flags = p->baseline_flags;
  }
}

bool isBundleDir(const std::string& path) {
  return llvm::sys::fs::is_directory(path) && llvm::sys::fs::exists(path + "/model.cpp") &&
         llvm::sys::fs::exists(path + "/weights.bin");
}

llvm::Expected<std::string> compileBuildRun(const RunRequest& r) {
  std::string bundle = r.model;
  BuildOptions build = r.build;
  if (isBundleDir(r.model)) {
    useBundleTarget(r.model, build);
  } else {
    if (!llvm::sys::fs::exists(r.model)) return fail(r.model + ": no such model file or bundle directory");
    auto inputs = readTensorDir(r.inputs_dir, "input");
    if (!inputs) return inputs.takeError();
    CompileOptions options = r.compile;
    options.import.input_shapes.clear();
    for (const ek::HostTensor& t : *inputs) options.import.input_shapes.push_back(t.dims);
    options.import.input_values = *inputs;
    // report.json is written last: its presence means a complete bundle.
    if (!(r.reuse_bundle && isBundleDir(r.bundle_dir) && llvm::sys::fs::exists(r.bundle_dir + "/report.json"))) {
      auto compiled = compileModelToBundle(r.model, r.bundle_dir, options);
      if (!compiled) return compiled.takeError();
    }
    bundle = r.bundle_dir;
    useBundleTarget(bundle, build);
  }
  auto exe = buildBundle(bundle, build);
  if (!exe) return exe.takeError();
  if (!r.outputs_dir.empty()) llvm::sys::fs::create_directories(r.outputs_dir);
  std::vector<std::string> cmd = {*exe, "--weights", bundle + "/weights.bin", "--inputs", r.inputs_dir,
                                  "--repeat", std::to_string(r.repeat)};
  if (!r.outputs_dir.empty()) cmd.insert(cmd.end(), {"--outputs", r.outputs_dir});
  for (const auto& [in, out] : r.next_steps) {
    cmd.insert(cmd.end(), {"--inputs", in});
    if (!out.empty()) {
      llvm::sys::fs::create_directories(out);
      cmd.insert(cmd.end(), {"--outputs", out});
    }
  }
  std::string out;
  int rc = runProgram(cmd, &out);
  if (rc != 0) {
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return fail(rc < 0 ? "the bundle's runner crashed: " + out : out);
  }
  return out;
}

std::string bundleCacheDir(const std::string& model, uint64_t key, const std::string& kind) {
  uint64_t h = key;
  if (auto self = llvm::MemoryBuffer::getFile(llvm::sys::fs::getMainExecutable(nullptr, nullptr)))
    h = ek::fold_section(h, ek::payload_checksum(reinterpret_cast<const uint8_t*>((*self)->getBufferStart()), (*self)->getBufferSize()));
  if (auto buf = llvm::MemoryBuffer::getFile(model, /*IsText=*/false, /*RequiresNullTerminator=*/false))
    h = ek::fold_section(h, ek::payload_checksum(reinterpret_cast<const uint8_t*>((*buf)->getBufferStart()), (*buf)->getBufferSize()));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", (unsigned long long)h);
  return cacheRoot() + "/" + kind + "-" + hex;
}

llvm::Expected<GenerateTool> prepareGenerate(const std::string& model, const CompileOptions& compile,
                                             const std::string& bundleDir) {
  std::string bundle = model;
  if (!llvm::sys::fs::is_directory(model)) {
    if (!llvm::sys::fs::exists(model)) return fail(model + ": no such model file or bundle directory");
    // An ONNX decoder needs a context to get its KV cache; GGUF files bring their own.
    CompileOptions options = compile;
    if (options.max_context == 0 && !isGgufFile(model)) options.max_context = kDefaultOnnxContext;
    bundle = bundleDir;
    if (bundle.empty()) {
      const std::string key = compileOptionsKey(options);
      bundle = bundleCacheDir(model, ek::fnv1a64(key.data(), key.size()), "generate");
    }
    // report.json is written last: its presence means a complete bundle.
    if (!bundleDir.empty() || !llvm::sys::fs::exists(bundle + "/report.json")) {
      auto compiled = compileModelToBundle(model, bundle, options);
      if (!compiled) return compiled.takeError();
    }
  }
  if (!llvm::sys::fs::exists(bundle + "/runtime/llm/generate_main.cpp") ||
      !llvm::sys::fs::exists(bundle + "/CMakeLists.txt"))
    return fail(bundle + ": not a bundle directory");
  auto header = llvm::MemoryBuffer::getFile(bundle + "/model.h");
  if (!header || !(*header)->getBuffer().contains("bool prefill("))
    return fail(bundle + ": the bundle has no LLM interface (compile a GGUF model, or an ONNX decoder with --max-context)");
  BuildOptions build;
  useBundleTarget(bundle, build);
  auto exe = buildBundle(bundle, build, BundleTool::Generate);
  if (!exe) return exe.takeError();
  return GenerateTool{*exe, bundle};
}

}  // namespace edgecc
