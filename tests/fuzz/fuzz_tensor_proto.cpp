// The runtime's TensorProto reader (`edgecc run --inputs`, `model_run`): any bytes give a
// tensor or an error, and a tensor it accepts survives a write and a second read unchanged.
#include <cstring>

#include "runtime/tensor_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ek::HostTensor t;
  std::string error;
  if (!ek::parse_tensor_proto(data, size, &t, &error)) return 0;
  const std::string bytes = ek::serialize_tensor_proto(t);
  ek::HostTensor back;
  if (!ek::parse_tensor_proto(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &back, &error)) __builtin_trap();
  if (back.dtype != t.dtype || back.dims != t.dims || back.name != t.name || back.data != t.data) __builtin_trap();
  return 0;
}
