#include "dialects/exec/ExecDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "runtime/kernels/kernels.h"
#include "runtime/kernels/variants.h"

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

// Kernels that read a weight format in slot i[0].
static bool readsWeightFormat(StringRef kernel) { return kernel == "linear" || kernel == "embedding"; }

static bool knownFormat(int64_t f) {
  return f >= 0 && f < ek::kNumWeightFormats;
}

// The kernel must exist in the runtime, and a variant must take the call's weight format, so
// a wrong name or operand fails here rather than when the bundle is built.
LogicalResult CallOp::verify() {
  StringRef kernel = getKernel();
  if (getOuts().empty()) return emitOpError("writes no buffer: a kernel call needs at least one output");
  ArrayRef<int64_t> ints = getInts();
  if (kernel.contains("::")) {
    for (const ek::KernelVariant& v : ek::kKernelVariants) {
      if ((std::string(v.ns) + "::" + v.kernel) != kernel) continue;
      if (ints.empty() || !knownFormat(ints[0]) || !(v.formats & ek::format_bit(ek::WeightFormat(ints[0]))))
        return emitOpError("kernel '") << kernel << "' does not take weight format "
                                       << (ints.empty() || !knownFormat(ints[0]) ? "?" : ek::weight_format_name(ek::WeightFormat(ints[0])));
      return success();
    }
    return emitOpError("unknown kernel variant '") << kernel << "' (runtime/kernels/variants.h)";
  }
  static const StringRef kKernels[] = {
#define EK_KERNEL_NAME(name) #name,
      EK_KERNEL_LIST(EK_KERNEL_NAME)
#undef EK_KERNEL_NAME
  };
  if (!llvm::is_contained(kKernels, kernel)) return emitOpError("unknown kernel '") << kernel << "'";
  if (readsWeightFormat(kernel) && (ints.empty() || !knownFormat(ints[0])))
    return emitOpError("kernel '") << kernel << "' needs a known weight format in its first int slot";
  return success();
}

#define GET_OP_CLASSES
#include "dialects/exec/ExecOps.cpp.inc"
