// The GGUF reader, its tokenizer reader and the GGUF importer: any file is read and imported
// to a module the verifier accepts, or refused with an error. Never a crash, never a read
// outside the file (every count, offset and size comes from the file itself).
#include "compiler/import/GgufFile.h"
#include "compiler/import/GgufImporter.h"
#include "compiler/import/GgufVocab.h"
#include "mlir/IR/Verifier.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = edgecc_fuzz::write_fuzz_file("model.gguf", data, size);
  auto file = edgecc::gguf::File::open(path);
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  if (auto vocab = edgecc::vocabFromGguf(**file); !vocab) llvm::consumeError(vocab.takeError());
  mlir::MLIRContext ctx(mlir::MLIRContext::Threading::DISABLED);
  edgecc::GgufImportOptions options;
  options.max_context = 32;  // small bounds: the fuzzer explores the file, not huge caches
  options.max_batch = 4;
  auto module = edgecc::importGguf(ctx, **file, options);
  if (!module) {
    llvm::consumeError(module.takeError());
    return 0;
  }
  if (mlir::failed(mlir::verify(**module))) __builtin_trap();
  return 0;
}
