#include "compiler/driver/BundleBuild.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/MemoryBuffer.h"

namespace edgecc {

using llvm::Error;

static Error fail(const std::string& msg) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", msg.c_str()); }

std::string cacheRoot() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string root = xdg && *xdg ? xdg : std::string(home && *home ? home : "/tmp") + "/.cache";
  return root + "/edgecc";
}

std::vector<std::string> cxxCommand() {
  std::vector<std::string> cmd;
  if (auto ccache = llvm::sys::findProgramByName("ccache")) cmd.push_back(*ccache);
  const char* cxx = std::getenv("CXX");
  std::string compiler = cxx && *cxx ? cxx : "c++";
  if (auto found = llvm::sys::findProgramByName(compiler)) cmd.push_back(*found);
  else cmd.push_back(compiler);
  return cmd;
}

int runProgram(const std::vector<std::string>& argv, std::string* output, unsigned timeoutSeconds) {
  llvm::SmallString<128> log;
  llvm::sys::fs::createTemporaryFile("edgecc-run", "log", log);
  std::vector<llvm::StringRef> args(argv.begin(), argv.end());
  std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""), llvm::StringRef(log), llvm::StringRef(log)};
  std::string err;
  int rc = llvm::sys::ExecuteAndWait(argv[0], args, std::nullopt, redirects, timeoutSeconds, 0, &err);
  if (output) {
    auto buf = llvm::MemoryBuffer::getFile(log);
    *output = buf ? (*buf)->getBuffer().str() : "";
    if (!err.empty()) *output += err;
  }
  llvm::sys::fs::remove(log);
  return rc;
}

static bool newer(const std::string& a, const std::string& b) {
  llvm::sys::fs::file_status sa, sb;
  if (llvm::sys::fs::status(a, sa) || llvm::sys::fs::status(b, sb)) return false;
  return sa.getLastModificationTime() >= sb.getLastModificationTime();
}

// Runtime sources compiled without the target's ISA flags (baseline_flags): the CPU check,
// which must run on any CPU of the ISA. cpu_guard.cpp goes into the tools themselves (it
// reads model.h, and a constructor in an archive would not be linked).
static bool isBaselineSource(llvm::StringRef path) { return path.ends_with("/cpu_features.cpp"); }

// The bundle's runtime files ending in `suffix` (sources: ".cpp", without the tools' mains and
// the CPU guard), including the per-ISA kernel folders.
static std::vector<std::string> runtimeFiles(const std::string& bundleDir, llvm::StringRef suffix) {
  std::vector<std::string> files;
  std::error_code ec;
  for (llvm::sys::fs::recursive_directory_iterator it(bundleDir + "/runtime", ec), end; it != end && !ec; it.increment(ec)) {
    llvm::StringRef p = it->path();
    if (p.ends_with(suffix) && !p.ends_with("_main.cpp") && !p.ends_with("/cpu_guard.cpp")) files.push_back(p.str());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The Halide-generated kernels' objects a bundle carries (codegen/GeneratedKernels.h) go into
// its runtime archive, and its sources then declare them.
static std::vector<std::string> generatedKernelFlags(const std::string& bundleDir) {
  if (runtimeFiles(bundleDir, ".o").empty()) return {};
  return {"-DEK_HALIDE_KERNELS"};
}

// The runtime archive for `dir`'s runtime sources and these flags, built on first use.
static llvm::Expected<std::string> cachedRuntimeArchive(const std::string& dir, const BuildOptions& options) {
  uint64_t h = 0xcbf29ce484222325ull;
  auto mix = [&](llvm::StringRef s) {
    for (unsigned char c : s) { h ^= c; h *= 0x100000001b3ull; }
  };
  for (const std::string& part : cxxCommand()) mix(part);
  mix(options.opt_level);
  for (const std::string& f : options.cxx_flags) mix(f);
  for (const std::string& f : options.baseline_flags) mix(f);
  std::vector<std::string> files = runtimeFiles(dir, ".cpp"), headers = runtimeFiles(dir, ".h"), objects = runtimeFiles(dir, ".o");
  files.insert(files.end(), headers.begin(), headers.end());
  files.insert(files.end(), objects.begin(), objects.end());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) {
    mix(llvm::sys::path::filename(f));
    if (auto buf = llvm::MemoryBuffer::getFile(f)) mix((*buf)->getBuffer());
  }
  char key[17];
  std::snprintf(key, sizeof key, "%016llx", (unsigned long long)h);
  const std::string cached = cacheRoot() + "/runtime-" + key;
  if (llvm::sys::fs::exists(cached + "/libedgecc_runtime.a")) return cached + "/libedgecc_runtime.a";
  // Build aside and rename, so concurrent builds never see a half-written archive.
  llvm::SmallString<128> tmp;
  llvm::sys::fs::create_directories(cacheRoot());
  if (llvm::sys::fs::createUniqueDirectory(cacheRoot() + "/runtime-tmp", tmp)) return fail("cannot write to " + cacheRoot());
  auto built = buildRuntimeArchive(dir, std::string(tmp), options);
  if (!built) return built.takeError();
  if (llvm::sys::fs::rename(tmp, cached)) llvm::sys::fs::remove_directories(tmp);  // lost a race: fine
  return cached + "/libedgecc_runtime.a";
}

llvm::Expected<std::string> buildBundle(const std::string& dir, const BuildOptions& options, BundleTool tool) {
  const bool generate = tool == BundleTool::Generate;
  const std::string exe = dir + (generate ? "/model_generate" : "/model_run");
  const std::string main = dir + (generate ? "/runtime/llm/generate_main.cpp" : "/runtime/run_main.cpp");
  auto archive = cachedRuntimeArchive(dir, options);
  if (!archive) return archive.takeError();
  // weights.bin is read at run time, not built in: only the code decides.
  if (newer(exe, dir + "/model.cpp") && newer(exe, dir + "/model.h") && newer(exe, main) && newer(exe, *archive)) return exe;
  // The CPU guard reads the bundle's model.h and is built without the ISA flags (cpu_guard.cpp).
  const std::string guard = dir + "/cpu_guard.o";
  std::vector<std::string> guardCmd = cxxCommand();
  guardCmd.insert(guardCmd.end(), {"-std=c++17", options.opt_level, "-I", dir, "-c", dir + "/runtime/cpu_guard.cpp", "-o", guard});
  guardCmd.insert(guardCmd.end(), options.cxx_flags.begin(), options.cxx_flags.end());
  guardCmd.insert(guardCmd.end(), options.baseline_flags.begin(), options.baseline_flags.end());
  std::string guardOut;
  if (runProgram(guardCmd, &guardOut) != 0) return fail("building the bundle's CPU check in " + dir + " failed:\n" + guardOut);
  std::vector<std::string> cmd = cxxCommand();
  cmd.insert(cmd.end(), {"-std=c++17", options.opt_level, "-I", dir});
  cmd.insert(cmd.end(), options.cxx_flags.begin(), options.cxx_flags.end());
  const std::vector<std::string> generated = generatedKernelFlags(dir);
  cmd.insert(cmd.end(), generated.begin(), generated.end());
  cmd.push_back(dir + "/model.cpp");
  cmd.push_back(main);
  cmd.push_back(guard);
  cmd.push_back(*archive);
  cmd.insert(cmd.end(), {"-pthread", "-o", exe});
  std::string out;
  if (runProgram(cmd, &out) != 0) return fail("building the bundle in " + dir + " failed:\n" + out);
  return exe;
}

llvm::Expected<std::string> buildRuntimeArchive(const std::string& bundleDir, const std::string& outDir,
                                                const BuildOptions& options) {
  llvm::sys::fs::create_directories(outDir);
  std::vector<std::string> objects = runtimeFiles(bundleDir, ".o");
  const std::vector<std::string> generated = generatedKernelFlags(bundleDir);
  for (const std::string& src : runtimeFiles(bundleDir, ".cpp")) {
    // Per-ISA folders hold files of the same name: the object is named by its path.
    llvm::StringRef rel = llvm::StringRef(src).drop_front(bundleDir.size() + std::strlen("/runtime/"));
    std::string name = rel.drop_back(4).str();
    std::replace(name.begin(), name.end(), '/', '_');
    std::string obj = outDir + "/" + name + ".o";
    std::vector<std::string> cmd = cxxCommand();
    cmd.insert(cmd.end(), {"-std=c++17", options.opt_level, "-I", bundleDir, "-c", src, "-o", obj});
    cmd.insert(cmd.end(), options.cxx_flags.begin(), options.cxx_flags.end());
    cmd.insert(cmd.end(), generated.begin(), generated.end());
    if (isBaselineSource(src)) cmd.insert(cmd.end(), options.baseline_flags.begin(), options.baseline_flags.end());
    std::string out;
    if (runProgram(cmd, &out) != 0) return fail("compiling " + src + " failed:\n" + out);
    objects.push_back(obj);
  }
  const std::string archive = outDir + "/libedgecc_runtime.a";
  auto ar = llvm::sys::findProgramByName("ar");
  if (!ar) return fail("'ar' not found");
  std::vector<std::string> cmd = {*ar, "rcs", archive};
  cmd.insert(cmd.end(), objects.begin(), objects.end());
  std::string out;
  llvm::sys::fs::remove(archive);
  if (runProgram(cmd, &out) != 0) return fail("creating " + archive + " failed:\n" + out);
  return archive;
}

}  // namespace edgecc
