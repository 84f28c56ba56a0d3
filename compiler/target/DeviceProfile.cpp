#include "compiler/target/DeviceProfile.h"

namespace edgecc {

const std::vector<DeviceProfile>& deviceProfiles() {
  constexpr int64_t KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;
  static const std::vector<DeviceProfile> profiles = {
      {"x86-64-avx2", "x86-64", 256, 32 * KiB, 1 * MiB, 32 * MiB, 2, 8 * GiB, {"-mavx2", "-mfma", "-mf16c"}},
      {"x86-64-avx512", "x86-64", 512, 32 * KiB, 1 * MiB, 32 * MiB, 2, 8 * GiB,
       {"-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512vnni", "-mavx2", "-mfma", "-mf16c"}},
      {"x86-64", "x86-64", 128, 32 * KiB, 512 * KiB, 8 * MiB, 1, 4 * GiB, {}},
      {"arm64-neon-dotprod", "arm64", 128, 64 * KiB, 512 * KiB, 4 * MiB, 4, 6 * GiB, {"-march=armv8.2-a+dotprod"}},
      {"phone-8gb", "arm64", 128, 64 * KiB, 512 * KiB, 4 * MiB, 4, 3 * GiB, {"-march=armv8.2-a+dotprod"}},
  };
  return profiles;
}

const DeviceProfile* findDeviceProfile(const std::string& name) {
  for (const DeviceProfile& p : deviceProfiles())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace edgecc
