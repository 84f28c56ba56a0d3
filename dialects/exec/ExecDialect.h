// The `exec` dialect: kernel calls over arena slices and weights (see ExecOps.td).
#pragma once

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"

#include "dialects/exec/ExecDialect.h.inc"

#define GET_OP_CLASSES
#include "dialects/exec/ExecOps.h.inc"
