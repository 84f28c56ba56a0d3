// The compiler's passes, one per file; see Passes.td for what each does.
#pragma once

#include <functional>
#include <string>

#include "dialects/exec/ExecDialect.h"
#include "dialects/graph/GraphDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

namespace edgecc {

#define GEN_PASS_DECL
#include "compiler/passes/Passes.h.inc"

// QuantizeWeights reporting its progress ("quantized 30% of 1100M weights") as it goes.
std::unique_ptr<mlir::Pass> createQuantizeWeights(const QuantizeWeightsOptions& options,
                                                  std::function<void(const std::string&)> progress);

#define GEN_PASS_REGISTRATION
#include "compiler/passes/Passes.h.inc"

}  // namespace edgecc
