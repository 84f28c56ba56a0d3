// The device profile travels with the program: `edgecc.target` on the module, a dictionary of
// the profile's fields, attached before the first pass. Passes read the target from here,
// never from a global, so `edgecc-opt` runs them on any target named in the IR.
#pragma once

#include "compiler/target/DeviceProfile.h"
#include "mlir/IR/BuiltinOps.h"

namespace edgecc {

constexpr llvm::StringLiteral kTargetAttrName = "edgecc.target";

void attachTarget(mlir::ModuleOp module, const DeviceProfile& profile);

// The profile attached to `module`; emits an error on the module and fails when there is none.
mlir::FailureOr<DeviceProfile> targetOf(mlir::ModuleOp module);

}  // namespace edgecc
