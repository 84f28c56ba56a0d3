// The weights file: a 64-byte header, then the payload where every tensor starts 64-byte
// aligned. Written by the compiler, read by the bundle; this header is the single definition.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ek {

constexpr char kWeightsMagic[8] = {'E', 'D', 'G', 'E', 'C', 'C', 'W', '1'};
constexpr uint32_t kWeightsVersion = 2;  // 2: the payload checksum is payload_checksum
constexpr size_t kWeightsAlign = 64;

struct WeightsHeader {
  char magic[8];
  uint32_t version;
  uint32_t reserved;
  uint64_t payload_bytes;
  uint64_t checksum;  // payload_checksum of the payload
  uint8_t pad[32];
};
static_assert(sizeof(WeightsHeader) == 64, "header is one cache line");

inline uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) { h ^= p[i]; h *= 0x100000001b3ull; }
  return h;
}

// The payload checksum, fast enough to check at every load: the payload is cut into 1 MiB
// sections hashed independently (a loader checks them on all its threads), each by four
// lanes of xxHash64's round over 64-bit words (several GB/s per core, where byte-serial
// FNV-1a manages about one), and the section hashes are folded in order.
constexpr size_t kChecksumSection = size_t(1) << 20;

inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t section_hash(const uint8_t* p, size_t n) {
  constexpr uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
  uint64_t lane[4] = {P1 + P2, P2, 0, 0 - P1};
  size_t i = 0;
  for (; i + 32 <= n; i += 32)
    for (int l = 0; l < 4; ++l) {
      uint64_t w;
      __builtin_memcpy(&w, p + i + 8 * l, 8);
      lane[l] = rotl64(lane[l] + w * P2, 31) * P1;
    }
  uint64_t h = rotl64(lane[0], 1) + rotl64(lane[1], 7) + rotl64(lane[2], 12) + rotl64(lane[3], 18) + n;
  for (; i < n; ++i) h = rotl64(h ^ (p[i] * P1), 11) * P2;  // the tail, byte by byte
  h ^= h >> 33;
  h *= P2;
  return h ^ (h >> 29);
}

inline uint64_t fold_section(uint64_t h, uint64_t section) { return rotl64(h ^ section, 27) * 0x9E3779B185EBCA87ull + 1; }

// The checksum of n bytes, one section after another (loaders do the sections in parallel).
inline uint64_t payload_checksum(const uint8_t* p, size_t n) {
  uint64_t h = 0;
  for (size_t at = 0; at < n; at += kChecksumSection)
    h = fold_section(h, section_hash(p + at, n - at < kChecksumSection ? n - at : kChecksumSection));
  return h;
}

}  // namespace ek
