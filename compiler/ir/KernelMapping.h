// The one place that says which runtime kernel computes a `graph` op and how its attributes
// fill the kernel's slots. Used by the lowering to `exec` and by constant folding, so a folded
// constant is computed by exactly the code the bundle would run.
#pragma once

#include <optional>
#include <string>

#include "llvm/ADT/SmallVector.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "runtime/tensor.h"

namespace edgecc {

struct KernelCall {
  std::string kernel;
  llvm::SmallVector<int64_t> ints;
  llvm::SmallVector<float> floats;
  mlir::AffineMapAttr sym_ints;  // int slots known only at run time (symbolic dims)
};

// Whether the runtime's kernel handles operands of `elementType`.
bool kernelSupports(llvm::StringRef kernel, mlir::Type elementType);

// Fails for ops that are no kernel call (graph.constant), unknown ops, and element types the
// kernel does not handle.
mlir::FailureOr<KernelCall> kernelCallFor(mlir::Operation* op);

// Element type <-> runtime dtype; std::nullopt for types the runtime cannot hold.
std::optional<ek::DType> dtypeOf(mlir::Type elementType);
mlir::Type elementTypeOf(mlir::MLIRContext* ctx, ek::DType dtype);

// Whether an exec.call's kernel is `name`, portable ("linear") or an ISA variant ("x86_avx2::linear").
bool isKernel(llvm::StringRef kernel, llvm::StringRef name);

}  // namespace edgecc
