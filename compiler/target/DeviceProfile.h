// Device profiles: what the compiler knows about the machine a bundle will run on. The
// pipeline attaches the chosen profile to the module (TargetAttr.h) before the first pass;
// weight packing, kernel selection and tile sizes read it there.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/kernels/variants.h"

namespace edgecc {

// One cluster of identical cores (a phone has two to four: prime, performance, efficiency).
struct CoreCluster {
  std::string core;  // "Cortex-X4"
  int count;
  double max_ghz;
  int64_t l1d_bytes, l2_bytes;  // L1d per core; L2 per core (or per cluster, as the source gives it)
};

struct DeviceProfile {
  std::string name;
  std::string isa;        // "x86-64", "arm64"
  std::string features;   // CPU features the bundle may use, space-separated (runtime/cpu_features.h names)
  int vector_bits;        // widest SIMD register the kernels may use
  int vector_registers;   // architectural SIMD registers (tile sizes come from this)
  int64_t l1_bytes, l2_bytes, l3_bytes;  // L1d and L2 per core of the cores kernels run on, L3 shared
  int cores;              // cores the kernels use by default (a phone's big cores, not its little ones)
  int64_t ram_budget_bytes;  // what the model (weights + arena + KV cache) may use
  std::vector<std::string> cxx_flags;       // target flags for the bundle's compiler
  std::vector<std::string> baseline_flags;  // after cxx_flags, for the code that checks the CPU
  std::string description;
  // The device as a whole, for what report.json expects of it (DeviceEstimate.h). Zero or
  // empty where a profile stands for a class of CPUs rather than one device.
  std::vector<CoreCluster> clusters;  // fastest first
  std::string memory;        // DRAM type: "LPDDR5X", "DDR5", ... (DeviceEstimate.cpp has its energy)
  double dram_gbps = 0;      // peak DRAM bandwidth, GB/s
  int64_t ram_bytes = 0;     // RAM of the device
  std::string sources;       // where the figures come from
  // Whether kernel selection may take variants with Halide-generated kernels (compile
  // --kernels halide); otherwise the hand-written ones run.
  bool generated_kernels = false;
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
