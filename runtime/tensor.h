// Tensor descriptors shared by every kernel, the generated model code and the compiler's
// constant folder. Plain C++17, no dependencies: this file ships inside every bundle.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ek {

constexpr int kMaxRank = 8;

// Every element type, once: name, ONNX TensorProto code (so files and IR agree without a
// mapping table), C++ storage type, byte size, short name. Lists elsewhere expand this.
#define EK_DTYPE_LIST(X)                  \
  X(F32, 1, float, 4, "f32")              \
  X(U8, 2, uint8_t, 1, "u8")              \
  X(I8, 3, int8_t, 1, "i8")               \
  X(U16, 4, uint16_t, 2, "u16")           \
  X(I16, 5, int16_t, 2, "i16")            \
  X(I32, 6, int32_t, 4, "i32")            \
  X(I64, 7, int64_t, 8, "i64")            \
  X(Bool, 9, bool, 1, "bool")             \
  X(F16, 10, ::ek::f16, 2, "f16")         \
  X(F64, 11, double, 8, "f64")            \
  X(U32, 12, uint32_t, 4, "u32")          \
  X(U64, 13, uint64_t, 8, "u64")          \
  X(BF16, 16, ::ek::bf16, 2, "bf16")

enum class DType : int32_t {
#define EK_DTYPE_ENUM(name, code, type, size, text) name = code,
  EK_DTYPE_LIST(EK_DTYPE_ENUM)
#undef EK_DTYPE_ENUM
};

// False for codes no runtime type has (e.g. ONNX strings, 8).
inline bool dtype_known(int32_t code) {
  switch (code) {
#define EK_DTYPE_CASE(name, c, type, size, text) case c: return true;
    EK_DTYPE_LIST(EK_DTYPE_CASE)
#undef EK_DTYPE_CASE
  }
  return false;
}
inline size_t dtype_size(DType t) {
  switch (t) {
#define EK_DTYPE_CASE(name, code, type, size, text) case DType::name: return size;
    EK_DTYPE_LIST(EK_DTYPE_CASE)
#undef EK_DTYPE_CASE
  }
  return 1;
}
inline const char* dtype_name(DType t) {
  switch (t) {
#define EK_DTYPE_CASE(name, code, type, size, text) case DType::name: return text;
    EK_DTYPE_LIST(EK_DTYPE_CASE)
#undef EK_DTYPE_CASE
  }
  return "?";
}

// A view of a dense row-major tensor. Kernels never own memory.
struct Tensor {
  void* data = nullptr;
  DType dtype = DType::F32;
  int rank = 0;
  int64_t dims[kMaxRank] = {};

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  size_t bytes() const { return size_t(numel()) * dtype_size(dtype); }
  template <class T> T* as() const { return static_cast<T*>(data); }
};

// Compile-time kernel parameters. Each kernel documents which slots it reads; the compiler
// fills them from the `exec.call` attributes, so the calling convention is the same for
// every kernel (portable, SIMD, generated or quantized ones).
constexpr int kMaxAttrInts = 2 * kMaxRank + 2;
struct Attrs {
  int64_t i[kMaxAttrInts] = {};
  float f[4] = {};
};

using KernelFn = void (*)(const Tensor* in, int n_in, Tensor* out, const Attrs& attrs);

}  // namespace ek
