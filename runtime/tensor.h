// Tensor descriptors shared by every kernel, the generated model code and the compiler's
// constant folder. Plain C++17, no dependencies: this file ships inside every bundle.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ek {

constexpr int kMaxRank = 8;

// Element types use the ONNX TensorProto codes so files and IR agree without a mapping table.
enum class DType : int32_t {
  F32 = 1, U8 = 2, I8 = 3, U16 = 4, I16 = 5, I32 = 6, I64 = 7, Bool = 9, F16 = 10, F64 = 11, U32 = 12, U64 = 13, BF16 = 16,
};

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: case DType::U32: return 4;
    case DType::I64: case DType::F64: case DType::U64: return 8;
    case DType::U16: case DType::I16: case DType::F16: case DType::BF16: return 2;
    default: return 1;
  }
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "f32"; case DType::F64: return "f64"; case DType::I64: return "i64";
    case DType::I32: return "i32"; case DType::I16: return "i16"; case DType::U16: return "u16";
    case DType::I8: return "i8"; case DType::U8: return "u8"; case DType::Bool: return "bool";
    case DType::U32: return "u32"; case DType::U64: return "u64";
    case DType::F16: return "f16"; case DType::BF16: return "bf16";
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
