#include "compiler/target/DeviceEstimate.h"

#include <cstdio>
#include <sstream>

#include "runtime/llm/json_output.h"

namespace edgecc {
namespace {

// Energy of moving one byte between DRAM and the SoC, by memory type. Published per-bit
// figures for mobile DRAM vary by a factor of two; these are single sources, stated as such.
struct MemoryEnergy {
  const char* type;
  double pj_per_byte;
  const char* source;
};
const MemoryEnergy kMemoryEnergy[] = {
    // Accelergy's CACTI plug-in (cacti_wrapper.py, DRAM_estimate_energy): LPDDR4 8 pJ/bit, "public data".
    {"LPDDR4X", 8 * 8.0, "LPDDR4(X) 8 pJ/bit (Accelergy CACTI plug-in, DRAM_estimate_energy)"},
    // Ortega et al., "PIM-AI", arXiv:2411.17309, Table 1: LPDDR5 ~20, LPDDR5X ~10 pJ/bit (derived).
    {"LPDDR5", 8 * 20.0, "LPDDR5 20 pJ/bit (Ortega et al., PIM-AI, arXiv:2411.17309, Table 1)"},
    {"LPDDR5X", 8 * 10.0, "LPDDR5X 10 pJ/bit (Ortega et al., PIM-AI, arXiv:2411.17309, Table 1)"},
    {"LPDDR5T", 8 * 10.0, "LPDDR5T taken as LPDDR5X, 10 pJ/bit (Ortega et al., PIM-AI, arXiv:2411.17309, Table 1)"},
};

// Arithmetic: M. Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC
// 2014, at 45 nm: 8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ per int8 multiply-add; 32-bit
// float multiply 3.7 pJ + add 0.9 pJ. Today's phone nodes spend less per operation, and a CPU
// spends more per instruction on fetching and scheduling it; both are left out.
constexpr double kInt8MacPj = 0.2 + 0.1;
constexpr double kFloatMacPj = 3.7 + 0.9;
constexpr const char* kArithmeticSource =
    "int8 multiply-add 0.3 pJ, f32 multiply-add 4.6 pJ (Horowitz, ISSCC 2014, 45 nm; arithmetic only)";

const MemoryEnergy* memoryEnergy(const std::string& type) {
  for (const MemoryEnergy& m : kMemoryEnergy)
    if (type == m.type) return &m;
  return nullptr;
}

std::string mib(int64_t bytes) {
  char s[32];
  std::snprintf(s, sizeof s, "%.1f MiB", double(bytes) / (1 << 20));
  return s;
}

}  // namespace

DeviceEstimate estimateOnDevice(const DeviceProfile& device, const TokenCost& cost, int64_t context) {
  DeviceEstimate e;
  e.context = context;
  e.dram_bytes = cost.weight_bytes + cost.kv_bytes_per_position * context;
  if (device.dram_gbps > 0 && e.dram_bytes > 0) e.roofline_tokens_per_s = device.dram_gbps * 1e9 / double(e.dram_bytes);
  if (const MemoryEnergy* m = memoryEnergy(device.memory)) {
    e.dram_mj = double(e.dram_bytes) * m->pj_per_byte * 1e-9;
    e.compute_mj = (double(cost.int8_macs) * kInt8MacPj + double(cost.float_macs) * kFloatMacPj) * 1e-9;
    e.basis = std::string(m->source) + "; " + kArithmeticSource;
  }
  return e;
}

std::string estimateJson(const DeviceProfile& device, const TokenCost& cost, const DeviceEstimate& e) {
  std::ostringstream j;
  j << "{\n    \"note\": \"an estimate from the program and the device profile, not a measurement\",\n"
    << "    \"device\": " << ek::json_string(device.name) << ", \"memory\": " << ek::json_string(device.memory)
    << ", \"dram_gbps\": " << device.dram_gbps << ", \"context\": " << e.context << ",\n"
    << "    \"bytes_per_token\": {\"weights\": " << cost.weight_bytes << ", \"kv_cache\": " << cost.kv_bytes_per_position * e.context
    << ", \"activations\": " << cost.activation_bytes << "},\n"
    << "    \"dram_bytes_per_token\": " << e.dram_bytes << ", \"roofline_tokens_per_s\": " << e.roofline_tokens_per_s << ",\n"
    << "    \"peak_resident_bytes\": " << cost.resident_bytes << ",\n"
    << "    \"multiply_adds_per_token\": {\"int8\": " << cost.int8_macs << ", \"f32\": " << cost.float_macs << "},\n"
    << "    \"energy_mj_per_token\": {\"dram\": " << e.dram_mj << ", \"arithmetic\": " << e.compute_mj
    << ", \"total\": " << e.dram_mj + e.compute_mj << "},\n"
    << "    \"basis\": " << ek::json_string(e.basis) << "\n  }";
  return j.str();
}

std::string estimateText(const DeviceProfile& device, const TokenCost& cost, const DeviceEstimate& e) {
  std::ostringstream t;
  char line[256];
  t << "  expected on " << device.name << " (an estimate, not a measurement), per decoded token at context " << e.context << ":\n";
  std::snprintf(line, sizeof line, "    DRAM read %s (weights %s, KV cache %s); activations %s stay in cache\n",
                mib(e.dram_bytes).c_str(), mib(cost.weight_bytes).c_str(), mib(cost.kv_bytes_per_position * e.context).c_str(),
                mib(cost.activation_bytes).c_str());
  t << line;
  if (e.roofline_tokens_per_s > 0) {
    std::snprintf(line, sizeof line, "    at most %.1f tokens/s (%.1f GB/s %s), peak resident memory %s\n", e.roofline_tokens_per_s,
                  device.dram_gbps, device.memory.c_str(), mib(cost.resident_bytes).c_str());
    t << line;
  } else {
    t << "    peak resident memory " << mib(cost.resident_bytes) << " (the profile has no DRAM bandwidth: no tokens/s)\n";
  }
  if (!e.basis.empty()) {
    std::snprintf(line, sizeof line, "    energy %.3f mJ/token (DRAM %.3f, arithmetic %.3f)\n", e.dram_mj + e.compute_mj, e.dram_mj,
                  e.compute_mj);
    t << line;
  }
  return t.str();
}

}  // namespace edgecc
