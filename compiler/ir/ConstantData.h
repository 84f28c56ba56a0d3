// Bytes of constant tensors, in and out of MLIR attributes, and evaluation of `graph` ops
// whose operands are all constants (by running the runtime's kernels).
#pragma once

#include <string>
#include <vector>

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "runtime/tensor.h"

namespace edgecc {

// Tensors at or above this many bytes are stored as `dense_resource` blobs, not attributes.
constexpr size_t kResourceThresholdBytes = 1024;

// Row-major little-endian bytes of an elements attribute (i1 as one byte per element). A weight
// in a file mapping has its pages dropped after the copy, so passes that read every weight once
// do not end up holding the whole model.
std::vector<uint8_t> elementsBytes(mlir::ElementsAttr attr);

// Builds an attribute of `type` from row-major bytes; large tensors become dense resources
// (on the heap or in the scratch file: MappedBlobs.h).
mlir::ElementsAttr makeElementsAttr(mlir::RankedTensorType type, llvm::ArrayRef<uint8_t> bytes,
                                    llvm::StringRef resourceName = "weight");

// Same, taking ownership of `bytes`: a large tensor's blob is the string's own buffer, or the
// scratch file's copy of it, so weights are never held twice on their way into the IR.
mlir::ElementsAttr makeElementsAttr(mlir::RankedTensorType type, std::string&& bytes,
                                    llvm::StringRef resourceName = "weight");

// The elements converted to int64 / double (any element type; works for dense resources,
// which MLIR cannot iterate).
std::vector<int64_t> integerValues(mlir::ElementsAttr attr);
std::vector<double> floatValues(mlir::ElementsAttr attr);

// The constant value behind `v`, if it is produced by graph.constant.
mlir::ElementsAttr constantValue(mlir::Value v);

// Results above this size are folded only when they are not much larger than the operands:
// a broadcast or a mask stays a runtime op instead of becoming megabytes of weights.
constexpr size_t kFoldGrowthLimitBytes = 64 * 1024;

// Computes the results of `op` when every operand is a constant. Fails otherwise, when no
// kernel implements the op, or when the result would be a large expansion of its operands
// (over kFoldGrowthLimitBytes and over 4x the operands' bytes).
mlir::FailureOr<llvm::SmallVector<mlir::ElementsAttr>> evaluateOp(mlir::Operation* op);

}  // namespace edgecc
