#include "dialects/exec/ExecDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace edgecc::exec;

#include "dialects/exec/ExecDialect.cpp.inc"

void ExecDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/exec/ExecOps.cpp.inc"
      >();
}

LogicalResult ViewOp::verify() {
  auto src = getSource().getType(), dst = getBuffer().getType();
  if (src.getElementType() != dst.getElementType() ||
      (src.hasStaticShape() && dst.hasStaticShape() && src.getNumElements() != dst.getNumElements()))
    return emitOpError("a view must keep the element type and count");
  return success();
}

#define GET_OP_CLASSES
#include "dialects/exec/ExecOps.cpp.inc"
