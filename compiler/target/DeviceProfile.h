// Device profiles: what the compiler knows about the machine a bundle will run on. They pick
// the bundle's compile flags today; tiling, threading and the RAM budget read them next.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecc {

struct DeviceProfile {
  std::string name;
  std::string isa;          // "x86-64", "arm64"
  int vector_bits;          // widest SIMD register the kernels may use
  int64_t l1_bytes, l2_bytes, l3_bytes;
  int cores;
  int64_t ram_budget_bytes;  // what the model (weights + arena + KV cache) may use
  std::vector<std::string> cxx_flags;  // target flags for the bundle's compiler
};

// Known profiles; the first one is the default for this machine.
const std::vector<DeviceProfile>& deviceProfiles();
// nullptr for an unknown name.
const DeviceProfile* findDeviceProfile(const std::string& name);

}  // namespace edgecc
