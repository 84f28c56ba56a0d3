// `linear` over packed q8_0x8k8 / q4_0x8k8 / f32x8 / f16x8 weights with plain NEON (armv8.0):
// the int8 dot step multiplies each row's 8 values by smull into int16, adds neighbours
// (at most 2 * 128 * 127, no overflow), and accumulates pairs into int32 lanes by sadalp.
#include "runtime/kernels/variants.h"
#if defined(EK_COMPILED_arm64_neon)
#include "runtime/kernels/arm64_neon/packed_tile.h"

namespace ek::arm64_neon {
namespace {

struct SmullDot {
  static int32x4_t step(int32x4_t acc, int8x16_t w, int8x16_t x) {
    const int16x8_t row0 = vmull_s8(vget_low_s8(w), vget_low_s8(x)), row1 = vmull_high_s8(w, x);
    return vpadalq_s16(acc, vpaddq_s16(row0, row1));
  }
};

}  // namespace

void linear(const Tensor* in, int, Tensor* out, const Attrs& a) { linear_packed(in, out, a, arm64::packed_tile<SmullDot>); }

}  // namespace ek::arm64_neon
#endif
