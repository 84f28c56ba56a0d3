// Small helpers the generated model.cpp uses: tensor specs, views into the arena or weights,
// and the argument check that turns a wrong input into an error message instead of a crash.
#pragma once
#include <initializer_list>
#include <string>

#include "runtime/tensor.h"

namespace ek {

struct TensorSpec {
  const char* name;
  DType dtype;
  int rank;
  int64_t dims[kMaxRank];
};

inline Tensor make_tensor(const void* data, DType dtype, std::initializer_list<int64_t> dims) {
  Tensor t;
  t.data = const_cast<void*>(data);
  t.dtype = dtype;
  for (int64_t d : dims) t.dims[t.rank++] = d;
  return t;
}

inline std::string shape_string(int rank, const int64_t* dims) {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

inline bool check_tensor(const Tensor& t, const TensorSpec& spec, const char* role, std::string* error) {
  bool ok = t.dtype == spec.dtype && t.rank == spec.rank && (t.data || t.numel() == 0);
  for (int i = 0; ok && i < spec.rank; ++i) ok = t.dims[i] == spec.dims[i];
  if (!ok && error) {
    *error = std::string(role) + " '" + spec.name + "' expects " + dtype_name(spec.dtype) +
             shape_string(spec.rank, spec.dims) + ", got " + dtype_name(t.dtype) +
             shape_string(t.rank, t.dims) + (t.data || t.numel() == 0 ? "" : " (null data)");
  }
  return ok;
}

// Whether every index of `idx` (i32 or i64) names one of `n` rows; with `wraps`, -n..-1 count
// from the end (ONNX Gather). Indices computed at run time are checked before the read.
inline bool indices_in_range(const Tensor& idx, int64_t n, bool wraps) {
  const int64_t lo = wraps ? -n : 0, count = idx.numel();
  for (int64_t i = 0; i < count; ++i) {
    const int64_t k = idx.dtype == DType::I32 ? int64_t(idx.as<int32_t>()[i]) : idx.as<int64_t>()[i];
    if (k < lo || k >= n) return false;
  }
  return true;
}

// For bundles with symbolic dims: `want` holds the dims the bound symbols require.
inline bool check_input_dims(const Tensor& t, const TensorSpec& spec, const int64_t* want, std::string* error) {
  bool ok = t.dtype == spec.dtype && t.rank == spec.rank && (t.data || t.numel() == 0);
  for (int d = 0; ok && d < spec.rank; ++d) ok = t.dims[d] == want[d];
  if (!ok && error)
    *error = std::string("input '") + spec.name + "' expects " + dtype_name(spec.dtype) + shape_string(spec.rank, want) +
             " here, got " + dtype_name(t.dtype) + shape_string(t.rank, t.dims);
  return ok;
}

// Outputs come with room for the bounds; this checks the room and sets the actual dims.
inline bool fit_output(Tensor& t, const TensorSpec& spec, const int64_t* want, std::string* error) {
  int64_t need = 1;
  for (int d = 0; d < spec.rank; ++d) need *= want[d];
  const bool ok = t.dtype == spec.dtype && t.rank == spec.rank && need <= t.numel() && (t.data || need == 0);
  if (!ok && error)
    *error = std::string("output '") + spec.name + "' needs " + dtype_name(spec.dtype) + shape_string(spec.rank, want) +
             ", got " + dtype_name(t.dtype) + shape_string(t.rank, t.dims);
  if (ok)
    for (int d = 0; d < spec.rank; ++d) t.dims[d] = want[d];
  return ok;
}

}  // namespace ek
