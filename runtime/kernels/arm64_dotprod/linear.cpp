// `linear` over packed q8_0x8k8 / q4_0x8k8 / f32x8 / f16x8 weights with the dot product
// instructions (Armv8.2 dotprod): the int8 dot step is one sdot, four products into each lane.
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_arm64_dotprod)
#include "runtime/kernels/arm64_neon/packed_tile.h"

namespace ek::arm64_dotprod {

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed(in, out, a, arm64::packed_tile<arm64::SdotDot>); }

}  // namespace ek::arm64_dotprod
#endif
