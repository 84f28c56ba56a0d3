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

// "native": the richest profile of a class of CPUs (not a device) of this ISA whose features
// this CPU has, with this CPU's caches and cores.
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
    if (p.isa == isa && p.ram_bytes == 0 && hasFeatures(have, p.features) && (!best || p.features.size() > best->features.size())) best = &p;
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
    if (kernel == v.kernel && target.isa == v.isa && (v.formats & ek::format_bit(format)) && hasFeatures(target.features, v.features) &&
        (!v.generated || target.generated_kernels))
      return &v;
  return nullptr;
}

namespace {

// Flags of the arm64 profiles: exactly the features they list, nothing the check at load
// does not ask for (no SVE: the compiler would use it unasked).
const std::vector<std::string> kArmV8 = {"-march=armv8-a"};
const std::vector<std::string> kArmDotprod = {"-march=armv8.2-a+dotprod"};
const std::vector<std::string> kArmDotprodFp16 = {"-march=armv8.2-a+dotprod+fp16"};
// No +i8mm for the whole bundle (GCC 12 miscompiles signed int8 dot loops with it); the i8mm
// kernel enables it for itself (runtime/kernels/arm64_i8mm/), and the CPU check asks for it.
const std::vector<std::string> kArmI8mm = {"-march=armv8.2-a+dotprod+fp16+bf16"};
const char* const kArmI8mmFeatures = "asimd dotprod i8mm fp16 bf16";
const std::vector<std::string> kArmI8mmNoBf16 = {"-march=armv8.2-a+dotprod+fp16"};

DeviceProfile arm64Device(std::string name, std::string features, std::vector<std::string> flags, std::vector<CoreCluster> clusters,
                          int bigCores, int64_t l3, std::string memory, double gbps, int64_t ram, std::string description,
                          std::string sources) {
  // Kernels run on the big cores: tiles and cache blocks follow the cluster most of them are in
  // (the first one with more than one core, else the first).
  const CoreCluster* main = &clusters.front();
  for (const CoreCluster& c : clusters)
    if (c.count > 1) { main = &c; break; }
  DeviceProfile p{std::move(name), "arm64", std::move(features), 128, 32, main->l1d_bytes, main->l2_bytes, l3, bigCores,
                  ram * 3 / 8, std::move(flags), kArm64Baseline, std::move(description)};
  p.clusters = std::move(clusters);
  p.memory = std::move(memory);
  p.dram_gbps = gbps;
  p.ram_bytes = ram;
  p.sources = std::move(sources);
  return p;
}

}  // namespace

const std::vector<DeviceProfile>& deviceProfiles() {
  static const std::vector<DeviceProfile> profiles = [] {
    std::vector<DeviceProfile> v = {
        {"x86-64-avx2", "x86-64", "avx2 fma f16c", 256, 16, 32 * KiB, 512 * KiB, 8 * MiB, 2, 8 * GiB,
         {"-mavx2", "-mfma", "-mf16c"}, kX86Baseline,
         "AVX2 + FMA + F16C (Haswell and later, AMD Zen); caches of an AVX2-only EPYC"},
        {"x86-64-avx512-vnni", "x86-64", "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni", 512, 32, 32 * KiB, 1 * MiB,
         32 * MiB, 2, 8 * GiB, {"-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma", "-mf16c"},
         kX86Baseline, "AVX-512 with VNNI (Ice Lake, Sapphire Rapids, AMD Zen 4); caches of a Zen 4 EPYC"},
        {"x86-64", "x86-64", "", 128, 16, 32 * KiB, 512 * KiB, 8 * MiB, 1, 4 * GiB, {}, {}, "any x86-64 CPU (SSE2)"},
    };
    // Phones and boards, with the source of each figure beside it ("unverified": the best public
    // figure found, without a primary source). L2 is per core.
    v.push_back(arm64Device(
        "snapdragon-8-gen-3", kArmI8mmFeatures, kArmI8mm,
        {{"Cortex-X4", 1, 3.3, 64 * KiB, 2 * MiB},      // launch report; Cortex-X4: 64 KiB L1d, L2 0.5-2 MiB (2 MiB unverified)
         {"Cortex-A720", 5, 3.2, 64 * KiB, 512 * KiB},   // 3 at 3.2 GHz + 2 at 3.0 GHz (fonearena launch report); L1d/L2 unverified
         {"Cortex-A520", 2, 2.3, 32 * KiB, 256 * KiB}},   // launch report; L2 shared by a pair (WikiChip), size unverified
        6, 12 * MiB,                                      // L3 12 MiB (SM8650 spec sheet, "Cache")
        "LPDDR5X", 76.8, 12 * GiB,                        // LPDDR5X 4800 MHz = 9600 MT/s x 64 bit (spec sheet); 12 GB: Galaxy S24 Ultra
        "Qualcomm Snapdragon 8 Gen 3 (SM8650, Armv9.2): 1 Cortex-X4 + 5 Cortex-A720 big cores, 2 Cortex-A520",
        "SM8650 spec sheet (Cache, Memory Controller rows); fonearena.com Snapdragon 8 Gen 3 launch report (clusters); "
        "Wikipedia Cortex-X4 (L1d, L2 range); arm-socs-table cpuinfo (dotprod, i8mm, bf16, fp16); droid-life.com Galaxy "
        "S24 Ultra specs (RAM)"));
    v.push_back(arm64Device(
        "snapdragon-8-gen-2", kArmI8mmFeatures, kArmI8mm,
        {{"Cortex-X3", 1, 3.2, 64 * KiB, 1 * MiB},       // launch report (clusters); L1d/L2 unverified
         {"Cortex-A715", 2, 2.8, 64 * KiB, 512 * KiB},   // launch report; L2 unverified
         {"Cortex-A710", 2, 2.8, 64 * KiB, 512 * KiB},   // launch report; L2 unverified
         {"Cortex-A510", 3, 2.0, 32 * KiB, 256 * KiB}},  // launch report; L2 unverified
        5, 8 * MiB,                                      // L3 8 MiB (Ice Universe leak)
        "LPDDR5X", 67.2, 12 * GiB,                       // LPDDR5X 4200 MHz = 8400 MT/s x 64 bit; 12 GB: Galaxy S23 Ultra
        "Qualcomm Snapdragon 8 Gen 2 (SM8550, Armv9.0): 1 Cortex-X3 + 4 Cortex-A715/A710 big cores, 3 Cortex-A510",
        "thetechnoclast.com Snapdragon 8 Gen 2 launch report (clusters); SM8550 spec sheet (memory); arm-socs-table cpuinfo "
        "(dotprod, i8mm, bf16, fp16); slashgear.com Galaxy S23/S24 RAM report"));
    v.push_back(arm64Device(
        "tensor-g3", "asimd dotprod i8mm fp16", kArmI8mmNoBf16,  // NEON bf16 unconfirmed in its cpuinfo
        {{"Cortex-X3", 1, 2.91, 64 * KiB, 1 * MiB},       // androidauthority.com / phonearena.com G3 specs; caches unverified
         {"Cortex-A715", 4, 2.37, 64 * KiB, 256 * KiB},   // same; L2 unverified
         {"Cortex-A510", 4, 1.70, 32 * KiB, 256 * KiB}},  // same; L2 unverified
        5, 4 * MiB,                                       // L3 4 MiB (unverified; reviews' die analyses)
        "LPDDR5X", 68.3, 12 * GiB,                        // LPDDR5X-8533 x 64 bit (unverified); 12 GB: Pixel 8 Pro
        "Google Tensor G3 (Armv9.0): 1 Cortex-X3 + 4 Cortex-A715 big cores, 4 Cortex-A510",
        "androidauthority.com and phonearena.com Tensor G3 specs (clusters, 12 GB in the Pixel 8 Pro); arm-socs-table "
        "cpuinfo (dotprod, i8mm, fp16; NEON bf16 unconfirmed); memory speed and caches unverified"));
    v.push_back(arm64Device(
        "dimensity-9300", kArmI8mmFeatures, kArmI8mm,
        {{"Cortex-X4", 4, 3.25, 64 * KiB, 1 * MiB},      // 1 at 3.25 GHz + 3 at 2.85 GHz (Geekbench report); L2 unverified
         {"Cortex-A720", 4, 2.0, 64 * KiB, 512 * KiB}},  // same; L2 unverified
        8, 8 * MiB,                                      // L3 8 MiB + 10 MiB system cache (Geekbench report)
        "LPDDR5T", 76.8, 16 * GiB,                       // LPDDR5T 9600 MT/s (launch report) x 64 bit (unverified); 16 GB: vivo X100 Pro
        "MediaTek Dimensity 9300 (Armv9.2): 4 Cortex-X4 + 4 Cortex-A720, all big cores",
        "meterpreter.org Dimensity 9300 Geekbench report (clusters, caches); droidholic.com launch report (LPDDR5T-9600); "
        "arm-socs-table cpuinfo (dotprod, i8mm, bf16, fp16); techlusive.in vivo X100 series report (RAM)"));
    v.push_back(arm64Device(
        "raspberry-pi-5", "asimd dotprod fp16", kArmDotprodFp16,
        {{"Cortex-A76", 4, 2.4, 64 * KiB, 512 * KiB}},  // launch announcement: 512 KB per-core L2; L1d: cpuinfo
        4, 2 * MiB,                                     // 2 MB shared L3 (launch announcement)
        "LPDDR4X", 17.1, 8 * GiB,                       // LPDDR4X-4267 x 32 bit (launch announcement); 8 GB model
        "Raspberry Pi 5 (Broadcom BCM2712, Armv8.2): 4 Cortex-A76",
        "Raspberry Pi 5 launch announcement (CPU, 512 KB L2 per core, 2 MB L3, LPDDR4X-4267); pytorch/cpuinfo "
        "src/arm/cache.c (A76 L1d); arm-socs-table cpuinfo (dotprod, fp16; no i8mm, bf16)"));
    v.push_back(arm64Device("arm64-i8mm", kArmI8mmFeatures, kArmI8mm, {{"Armv8.6 core", 4, 0, 64 * KiB, 512 * KiB}}, 4, 4 * MiB,
                            "", 0, 0, "any Arm CPU with int8 matrix multiply, bf16 and fp16 (Cortex-X2/A710 and later)", ""));
    v.push_back(arm64Device("arm64-dotprod", "asimd dotprod", kArmDotprod, {{"Armv8.2 core", 4, 0, 64 * KiB, 512 * KiB}}, 4,
                            2 * MiB, "", 0, 0, "any Armv8.2 CPU with the dot product instructions (Cortex-A55/A76 and later)", ""));
    v.push_back(arm64Device("arm64", "asimd", kArmV8, {{"Armv8.0 core", 4, 0, 32 * KiB, 512 * KiB}}, 4, 0, "", 0, 0,
                            "any 64-bit Arm CPU (Armv8.0 NEON: Cortex-A53 and later)", ""));
    v.push_back(arm64Device("phone-8gb", "asimd dotprod", kArmDotprod, {{"Armv8.2 core", 4, 0, 64 * KiB, 512 * KiB}}, 4,
                            2 * MiB, "LPDDR4X", 17.1, 8 * GiB, "a phone with 8 GB of RAM, dot product instructions (3 GB for the model)",
                            "LPDDR4X-4267 x 32 bit as in a mid-range phone"));
    return v;
  }();
  return profiles;
}

const DeviceProfile* findDeviceProfile(const std::string& name) {
  if (name == "native") {
    static const DeviceProfile native = detectNative();
    return &native;
  }
  // Older names still resolve.
  const std::string resolved = name == "x86-64-avx512" ? "x86-64-avx512-vnni" : name == "arm64-neon-dotprod" ? "arm64-dotprod" : name;
  for (const DeviceProfile& p : deviceProfiles())
    if (p.name == resolved) return &p;
  return nullptr;
}

}  // namespace edgecc
