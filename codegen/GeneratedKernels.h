// The Halide-generated kernels a bundle links: edgecc-halide (codegen/halide/) is run once per
// kernel the chosen variants name (runtime/kernels/variants.h, `generated`), for the target's
// features, and writes an object next to the variant's source in the bundle.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "compiler/target/DeviceProfile.h"
#include "llvm/Support/Error.h"

namespace edgecc {

// `variants`: the namespaces of the variants the program calls. Returns the objects written,
// relative to `dir`, in a fixed order.
llvm::Expected<std::vector<std::string>> generateKernels(const std::set<std::string>& variants, const DeviceProfile& target,
                                                         const std::string& dir);

}  // namespace edgecc
