// Frees the memory of weight blobs a pass dropped. MLIR's resource manager keeps every
// `dense_resource` blob until the context dies, so a weight replaced by its fused, quantized or
// packed form would stay in memory beside it, and compiling a 1B model would need several
// times its size. Added to a PassManager, this instrumentation notes which blobs the module
// references before each module pass and frees those no longer referenced after it.
#pragma once

#include <memory>

#include "llvm/ADT/DenseMap.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassInstrumentation.h"

namespace edgecc {

std::unique_ptr<mlir::PassInstrumentation> createWeightBlobRelease();

// Within a pass that replaces weights one by one (PackWeights): how many ops reference each
// blob, so a replaced weight's blob is freed as soon as its last reference is gone instead of
// at the end of the pass, when every weight would be held twice.
class BlobReferences {
 public:
  explicit BlobReferences(mlir::Operation* module);
  // `old` was just replaced on one op: frees its blob when that was the last reference.
  void dropOne(mlir::ElementsAttr old);

 private:
  llvm::DenseMap<mlir::DialectResourceBlobManager::BlobEntry*, int> counts_;
};

}  // namespace edgecc
