#include "compiler/driver/Calibration.h"

#include <cstdio>

#include "compiler/driver/ModelRunner.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "runtime/weights_format.h"

namespace edgecc {

llvm::Expected<std::string> observeInputs(const std::string& model, const CompileOptions& options) {
  auto fail = [](const std::string& why) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", why.c_str()); };
  const std::string& text = options.calibration_text;
  auto textBytes = llvm::MemoryBuffer::getFile(text, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!textBytes) return fail(text + ": cannot read the calibration text (" + textBytes.getError().message() + ")");
  const int64_t chunks = options.calibration_chunks > 0 ? options.calibration_chunks : kDefaultCalibrationChunks;

  // Float weights as stored, on this machine, all logits for the perplexity tool.
  CompileOptions observe;
  observe.target = "native";
  observe.max_context = options.max_context;
  observe.all_logits = true;
  observe.observe_inputs = true;
  observe.progress = options.progress;
  auto tool = prepareGenerate(model, observe, "");
  if (!tool) return tool.takeError();

  const uint64_t key = ek::fnv1a64((*textBytes)->getBufferStart(), (*textBytes)->getBufferSize(), uint64_t(chunks));
  char name[64];
  std::snprintf(name, sizeof name, "/input-statistics-%016llx.bin", (unsigned long long)key);
  const std::string statistics = tool->bundle + name;
  if (llvm::sys::fs::exists(statistics)) return statistics;

  if (options.progress)
    options.progress("calibration: running the model over " + text + " (" + std::to_string(chunks) + " chunks)");
  const std::string partial = statistics + ".partial";
  std::vector<std::string> cmd = {tool->exe,     "--dir",          tool->bundle,          "--perplexity", text,
                                  "--chunks",    std::to_string(chunks), "--observe-inputs", partial};
  std::vector<llvm::StringRef> argv(cmd.begin(), cmd.end());
  const std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""), llvm::StringRef("/dev/null"), std::nullopt};
  std::string why;
  const int rc = llvm::sys::ExecuteAndWait(cmd[0], argv, std::nullopt, redirects, 0, 0, &why);
  if (rc != 0) return fail(text + ": the calibration run failed" + (why.empty() ? " (its error is above)" : ": " + why));
  // Renamed only when complete: a cut-off run never leaves statistics behind.
  if (auto ec = llvm::sys::fs::rename(partial, statistics)) return fail(statistics + ": " + ec.message());
  return statistics;
}

}  // namespace edgecc
