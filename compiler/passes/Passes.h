// The compiler's passes, one per file; see Passes.td for what each does.
#pragma once

#include "dialects/exec/ExecDialect.h"
#include "dialects/graph/GraphDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Pass/Pass.h"

namespace edgecc {

#define GEN_PASS_DECL
#include "compiler/passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "compiler/passes/Passes.h.inc"

}  // namespace edgecc
