#include "compiler/driver/CodeSize.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "compiler/driver/BundleBuild.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace edgecc {

namespace {

llvm::Error fail(const std::string& why) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", why.c_str()); }

llvm::Expected<std::string> program(const std::string& name, const std::string& forWhat) {
  auto path = llvm::sys::findProgramByName(name);
  if (!path) return fail("--build needs '" + name + "' " + forWhat + " (not found on PATH)");
  return *path;
}

// Runs `argv`; on failure, the error ends with the command's last lines.
llvm::Error runStep(const std::vector<std::string>& argv, const std::string& what) {
  std::string output;
  if (runProgram(argv, &output) == 0) return llvm::Error::success();
  const size_t keep = 3000;
  return fail(what + " failed:\n" + (output.size() > keep ? output.substr(output.size() - keep) : output));
}

}  // namespace

llvm::Expected<CodeSize> buildAndMeasureCode(const std::string& dir,
                                             const std::function<void(const std::string&)>& progress) {
  llvm::SmallString<256> absolute(dir);
  llvm::sys::fs::make_absolute(absolute);  // the toolchain file's path must not depend on cmake's cwd
  const std::string bundleDir = absolute.str().str();
  CodeSize size;
  const bool arm64 = llvm::sys::fs::exists(bundleDir + "/cmake/aarch64-linux-gnu.cmake");
  size.isa = arm64 ? "arm64" : "x86-64";
  auto cmake = program("cmake", "to build the bundle");
  if (!cmake) return cmake.takeError();
  auto strip = program(arm64 ? "aarch64-linux-gnu-strip" : "strip", "to measure the stripped code (binutils)");
  if (!strip) return strip.takeError();
  const std::string build = bundleDir + "/build";
  std::vector<std::string> configure = {*cmake, "-S", bundleDir, "-B", build, "-DCMAKE_BUILD_TYPE=Release"};
  if (llvm::sys::findProgramByName("ninja")) configure.insert(configure.end(), {"-G", "Ninja"});
  if (arm64) configure.push_back("-DCMAKE_TOOLCHAIN_FILE=" + bundleDir + "/cmake/aarch64-linux-gnu.cmake");
  if (llvm::sys::findProgramByName("ccache")) configure.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache");
  // A build directory configured for the other ISA (or elsewhere) cannot be reused.
  llvm::sys::fs::remove_directories(build);
  if (progress) progress(std::string("building the bundle with its CMakeLists.txt") + (arm64 ? " and the aarch64 toolchain" : ""));
  if (llvm::Error e = runStep(configure, "configuring " + bundleDir)) return std::move(e);
  if (llvm::Error e = runStep({*cmake, "--build", build}, "building " + bundleDir)) return std::move(e);

  auto stripped = [&](const std::string& tool) -> llvm::Expected<int64_t> {
    const std::string built = build + "/" + tool, copy = build + "/" + tool + ".stripped";
    if (std::error_code ec = llvm::sys::fs::copy_file(built, copy)) return fail("cannot copy " + built + ": " + ec.message());
    if (llvm::Error e = runStep({*strip, copy}, "stripping " + built)) return std::move(e);
    uint64_t bytes = 0;
    llvm::sys::fs::file_size(copy, bytes);
    llvm::sys::fs::remove(copy);
    return int64_t(bytes);
  };
  auto run = stripped("model_run");
  if (!run) return run.takeError();
  size.model_run = *run;
  if (llvm::sys::fs::exists(build + "/model_generate")) {
    auto generate = stripped("model_generate");
    if (!generate) return generate.takeError();
    size.model_generate = *generate;
  }

  // Added as the report's last field; the rest of the file is left as compile wrote it.
  const std::string reportPath = bundleDir + "/report.json";
  std::ifstream in(reportPath);
  std::stringstream text;
  text << in.rdbuf();
  std::string report = text.str();
  const size_t close = report.rfind('}');
  if (close == std::string::npos) return fail(reportPath + ": not the report compile wrote");
  std::ostringstream field;
  field << ",\n  \"code_size\": {\"isa\": \"" << size.isa << "\", \"stripped\": true, \"model_run_bytes\": " << size.model_run;
  if (size.model_generate >= 0) field << ", \"model_generate_bytes\": " << size.model_generate;
  field << ", \"goal_model_run_bytes\": " << kCodeSizeGoalBytes << "}\n";
  size_t end = close;
  while (end > 0 && (report[end - 1] == '\n' || report[end - 1] == ' ')) --end;
  report = report.substr(0, end) + field.str() + report.substr(close);
  std::ofstream out(reportPath, std::ios::trunc);
  out << report;
  if (!out) return fail(reportPath + ": cannot write");
  return size;
}

}  // namespace edgecc
