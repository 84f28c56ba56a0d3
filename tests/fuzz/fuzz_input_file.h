// libFuzzer hands a harness bytes; the readers under test take paths (they map the file, or
// resolve external data beside it). So each run writes its bytes to one private file first.
#pragma once
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace edgecc_fuzz {

// A directory of this process's own, in memory where the system has /dev/shm.
inline const std::string& fuzz_dir() {
  static const std::string dir = [] {
    std::string tmpl = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + "/edgecc-fuzz-XXXXXX";
    if (!mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }();
  return dir;
}

// Writes `size` bytes to fuzz_dir()/name and returns the path.
inline std::string write_fuzz_file(const char* name, const uint8_t* data, size_t size) {
  const std::string path = fuzz_dir() + "/" + name;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
  return path;
}

// Splits `data` into a part whose length the first 4 bytes give (clamped) and the rest,
// for harnesses that need two inputs from one byte string.
struct TwoParts {
  const uint8_t* first;
  size_t first_size;
  const uint8_t* second;
  size_t second_size;
};
inline TwoParts split_two(const uint8_t* data, size_t size) {
  if (size < 4) return {data, 0, data, 0};
  uint32_t n = uint32_t(data[0]) | uint32_t(data[1]) << 8 | uint32_t(data[2]) << 16 | uint32_t(data[3]) << 24;
  const size_t rest = size - 4;
  const size_t first = n < rest ? n : rest;
  return {data + 4, first, data + 4 + first, rest - first};
}

}  // namespace edgecc_fuzz
