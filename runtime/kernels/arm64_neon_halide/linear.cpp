// `linear` over float weights (f32x8, f16x8) with tiles Halide generated for this arm64 target
// (codegen/halide/LinearGenerators.cpp, declared in halide_tiles.h): a GEMM over kGemmTokens
// tokens, then a GEMV per token left, two adjacent groups (16 rows) at a time, bit-exact with
// the hand-written tiles. Quantized weights take the hand-written arm64 variants. The bundle
// links the kernels' objects (its CMakeLists.txt defines EK_HALIDE_KERNELS when it does).
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_arm64_neon_halide)
#include "runtime/kernels/halide_tiles.h"
#include "runtime/kernels/linear_packed.h"

namespace ek::arm64_neon_halide {

void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a) { linear_packed<2>(in, out, a, halide::float_tile); }

}  // namespace ek::arm64_neon_halide
#endif
