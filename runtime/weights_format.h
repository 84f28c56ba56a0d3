// The weights file: a 64-byte header, then the payload where every tensor starts 64-byte
// aligned. Written by the compiler, read by the bundle; this header is the single definition.
#pragma once
#include <cstddef>
#include <cstdint>

namespace ek {

constexpr char kWeightsMagic[8] = {'E', 'D', 'G', 'E', 'C', 'C', 'W', '1'};
constexpr uint32_t kWeightsVersion = 1;
constexpr size_t kWeightsAlign = 64;

struct WeightsHeader {
  char magic[8];
  uint32_t version;
  uint32_t reserved;
  uint64_t payload_bytes;
  uint64_t checksum;  // FNV-1a 64 of the payload
  uint8_t pad[32];
};
static_assert(sizeof(WeightsHeader) == 64, "header is one cache line");

inline uint64_t fnv1a64(const void* data, size_t n, uint64_t h = 0xcbf29ce484222325ull) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) { h ^= p[i]; h *= 0x100000001b3ull; }
  return h;
}

}  // namespace ek
