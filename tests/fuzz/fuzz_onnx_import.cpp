// The ONNX importer, bytes -> `graph` module -> verifier: any file is imported to a module the
// verifier accepts, or refused with an error naming the file. Never a crash, and never a
// module that fails verification.
#include "compiler/import/OnnxImporter.h"
#include "mlir/IR/Verifier.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = edgecc_fuzz::write_fuzz_file("model.onnx", data, size);
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  edgecc::ImportOptions options;
  options.max_dims = {{"seq", 16}, {"past", 16}};  // the symbolic-dim paths too
  auto module = edgecc::importOnnxFile(ctx, path, options);
  if (!module) {
    const std::string error = llvm::toString(module.takeError());
    if (error.rfind(path, 0) != 0) __builtin_trap();  // errors start with the file's name
    return 0;
  }
  if (mlir::failed(mlir::verify(**module))) __builtin_trap();
  return 0;
}
