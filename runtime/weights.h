// Maps a weights file read-only and checks its header and checksum before use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ek {

class WeightsFile {
 public:
  WeightsFile() = default;
  WeightsFile(const WeightsFile&) = delete;
  WeightsFile& operator=(const WeightsFile&) = delete;
  ~WeightsFile();

  // Returns false and sets *error when the file is missing, truncated, of another format
  // version, of another size than the model expects, or corrupted.
  bool open(const char* path, uint64_t expected_payload_bytes, std::string* error);
  const uint8_t* payload() const { return payload_; }

 private:
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const uint8_t* payload_ = nullptr;
};

}  // namespace ek
