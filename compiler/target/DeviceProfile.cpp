#include "compiler/target/DeviceProfile.h"

#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/cpu_features.h"

namespace edgecc {
namespace {

constexpr int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

// No -mavx512vnni for the whole bundle: GCC 12 at -O3 with it turns plain signed int8 dot
// product loops into vpdpbusd, which multiplies one side as unsigned (wrong results). Only
// the VNNI kernel enables it, for its own intrinsics (runtime/kernels/x86_avx512vnni/).
const std::vector<std::string> kX86Baseline = {"-mno-avx"};  // turns off AVX and everything built on it
const std::vector<std::string> kArm64Baseline = {"-march=armv8-a"};

// This CPU's cache sizes from Linux's sysfs (L1d, L2 per core, L3), or the defaults.
void detectCaches(DeviceProfile& p) {
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index) + "/";
    std::ifstream level(dir + "level"), type(dir + "type"), size(dir + "size");
    int l = 0;
    std::string t, s;
    if (!(level >> l) || !(type >> t) || !(size >> s) || t == "Instruction") continue;
    int64_t bytes = std::atoll(s.c_str());
    if (!s.empty() && s.back() == 'K') bytes *= KiB;
    if (!s.empty() && s.back() == 'M') bytes *= MiB;
    if (bytes <= 0) continue;
    (l == 1 ? p.l1_bytes : l == 2 ? p.l2_bytes : p.l3_bytes) = bytes;
  }
}

std::string cpuModelName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);)
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  return "unknown CPU";
}

// "native": the richest named profile of this ISA whose features this CPU has, with this CPU's
// caches and cores.
DeviceProfile detectNative() {
  char have[256];
  ek::cpu_feature_list(have, sizeof have);
#if defined(__aarch64__)
  const std::string isa = "arm64";
#else
  const std::string isa = "x86-64";
#endif
  const DeviceProfile* best = nullptr;
  for (const DeviceProfile& p : deviceProfiles())
    if (p.isa == isa && hasFeatures(have, p.features) && (!best || p.features.size() > best->features.size())) best = &p;
  DeviceProfile p = best ? *best : deviceProfiles().front();
  p.name = "native";
  p.cores = int(std::max(1u, std::thread::hardware_concurrency()));
  detectCaches(p);
  p.description = "this CPU (" + cpuModelName() + "), as " + (best ? best->name : p.name) + "; has: " + have;
  return p;
}

}  // namespace

bool hasFeatures(const std::string& have, const std::string& needed) {
  std::istringstream need(needed);
  for (std::string f; need >> f;) {
    std::istringstream words(have);
    bool found = false;
    for (std::string w; words >> w && !found;) found = w == f;
    if (!found) return false;
  }
  return true;
}

const ek::KernelVariant* findKernelVariant(const DeviceProfile& target, const std::string& kernel, ek::WeightFormat format) {
  for (const ek::KernelVariant& v : ek::kKernelVariants)
    if (kernel == v.kernel && target.isa == v.isa && (v.formats & ek::format_bit(format)) && hasFeatures(target.features, v.features))
      return &v;
  return nullptr;
}

const std::vector<DeviceProfile>& deviceProfiles() {
  static const std::vector<DeviceProfile> profiles = {
      {"x86-64-avx2", "x86-64", "avx2 fma f16c", 256, 16, 32 * KiB, 512 * KiB, 8 * MiB, 2, 8 * GiB,
       {"-mavx2", "-mfma", "-mf16c"}, kX86Baseline,
       "AVX2 + FMA + F16C (Haswell and later, AMD Zen); caches of an AVX2-only EPYC"},
      {"x86-64-avx512-vnni", "x86-64", "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni", 512, 32, 32 * KiB, 1 * MiB,
       32 * MiB, 2, 8 * GiB, {"-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma", "-mf16c"},
       kX86Baseline, "AVX-512 with VNNI (Ice Lake, Sapphire Rapids, AMD Zen 4); caches of a Zen 4 EPYC"},
      {"x86-64", "x86-64", "", 128, 16, 32 * KiB, 512 * KiB, 8 * MiB, 1, 4 * GiB, {}, {}, "any x86-64 CPU (SSE2)"},
      {"arm64-neon-dotprod", "arm64", "asimd dotprod", 128, 32, 64 * KiB, 512 * KiB, 4 * MiB, 4, 6 * GiB,
       {"-march=armv8.2-a+dotprod"}, kArm64Baseline, "Armv8.2 with dot product instructions"},
      {"phone-8gb", "arm64", "asimd dotprod", 128, 32, 64 * KiB, 512 * KiB, 4 * MiB, 4, 3 * GiB,
       {"-march=armv8.2-a+dotprod"}, kArm64Baseline, "a phone with 8 GB of RAM (3 GB for the model)"},
  };
  return profiles;
}

const DeviceProfile* findDeviceProfile(const std::string& name) {
  if (name == "native") {
    static const DeviceProfile native = detectNative();
    return &native;
  }
  const std::string resolved = name == "x86-64-avx512" ? "x86-64-avx512-vnni" : name;
  for (const DeviceProfile& p : deviceProfiles())
    if (p.name == resolved) return &p;
  return nullptr;
}

}  // namespace edgecc
