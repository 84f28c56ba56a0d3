// Device profiles: what the compiler knows about the machine a bundle will run on. The
// pipeline attaches the chosen profile to the module (TargetAttr.h) before the first pass;
// weight packing, kernel selection and tile sizes read it there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kernels/variants.h"

namespace edgecc {

struct DeviceProfile {
  std::string name;
  std::string isa;        // "x86-64", "arm64"
  std::string features;   // CPU features the bundle may use, space-separated (runtime/cpu_features.h names)
  int vector_bits;        // widest SIMD register the kernels may use
  int vector_registers;   // architectural SIMD registers (tile sizes come from this)
  int64_t l1_bytes, l2_bytes, l3_bytes;  // L1d and L2 per core, L3 shared
  int cores;
  int64_t ram_budget_bytes;  // what the model (weights + arena + KV cache) may use
  std::vector<std::string> cxx_flags;       // target flags for the bundle's compiler
  std::vector<std::string> baseline_flags;  // after cxx_flags, for the code that checks the CPU
  std::string description;
};

// Known profiles; the first one is the default. "native" (this CPU, detected) is not in the
// list: findDeviceProfile makes it.
const std::vector<DeviceProfile>& deviceProfiles();
// nullptr for an unknown name. "native" detects this CPU's features and caches; older names
// ("x86-64-avx512") still resolve.
const DeviceProfile* findDeviceProfile(const std::string& name);

// Whether every feature of `needed` (space-separated) is in `have`.
bool hasFeatures(const std::string& have, const std::string& needed);

// The variant of `kernel` that runs `format` on `target` (the first that fits in
// runtime/kernels/variants.h), or nullptr: the portable kernel.
const ek::KernelVariant* findKernelVariant(const DeviceProfile& target, const std::string& kernel, ek::WeightFormat format);

}  // namespace edgecc
