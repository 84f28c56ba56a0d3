// Reads and writes ONNX TensorProto files (`input_0.pb`, `output_0.pb`) with a tiny wire-format
// codec, so a bundle can exchange tensors with ONNX tooling without depending on protobuf.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/tensor.h"

namespace ek {

struct HostTensor {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;  // row-major, little-endian

  Tensor view() const {
    Tensor t;
    t.data = const_cast<uint8_t*>(data.data());
    t.dtype = dtype;
    t.rank = int(dims.size());
    for (int i = 0; i < t.rank && i < kMaxRank; ++i) t.dims[i] = dims[size_t(i)];
    return t;
  }
};

// Parses a serialized TensorProto. Returns false and sets *error on malformed input or an
// element type the runtime does not support.
bool parse_tensor_proto(const uint8_t* bytes, size_t n, HostTensor* out, std::string* error);
bool read_tensor_file(const std::string& path, HostTensor* out, std::string* error);
std::string serialize_tensor_proto(const HostTensor& t);
bool write_tensor_file(const std::string& path, const HostTensor& t, std::string* error);

}  // namespace ek
