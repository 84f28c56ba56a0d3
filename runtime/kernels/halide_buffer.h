// The buffer descriptor of Halide's C ABI (HalideRuntime.h's halide_buffer_t, stable since
// Halide 10), declared here so that a bundle calls Halide-generated kernels without Halide's
// headers. Strides count elements. The generated kernels have no asserts and no runtime: they
// read host, dim[].min/extent/stride and nothing else.
#pragma once
#include <cstdint>

namespace ek::halide {

struct Dimension {
  int32_t min, extent, stride;
  uint32_t flags;
};
struct Type {
  uint8_t code;  // 0 int, 1 uint, 2 float
  uint8_t bits;
  uint16_t lanes;
};
struct Buffer {
  uint64_t device = 0;
  const void* device_interface = nullptr;
  uint8_t* host;
  uint64_t flags = 0;
  Type type;
  int32_t dimensions;
  Dimension* dim;
  void* padding = nullptr;
};
static_assert(sizeof(Dimension) == 16 && sizeof(Type) == 4, "halide_buffer_t's layout");
static_assert(sizeof(Buffer) == 56 || sizeof(void*) != 8, "halide_buffer_t's layout (64-bit)");

// A buffer over `data` with dims {extent, stride} from the innermost out, all starting at 0.
template <int N>
struct View {
  Dimension dims[N];
  Buffer buffer;
  View(const void* data, Type type, const int64_t (&extent_stride)[N][2]) {
    for (int d = 0; d < N; ++d) dims[d] = {0, int32_t(extent_stride[d][0]), int32_t(extent_stride[d][1]), 0};
    buffer.host = static_cast<uint8_t*>(const_cast<void*>(data));
    buffer.type = type;
    buffer.dimensions = N;
    buffer.dim = dims;
  }
};

constexpr Type kU8{1, 8, 1}, kI8{0, 8, 1}, kU16{1, 16, 1}, kI32{0, 32, 1}, kF16{2, 16, 1}, kF32{2, 32, 1};

}  // namespace ek::halide
