// Maps a weights file read-only and checks its header and checksum before use.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace ek {

// Drops the whole pages inside [data, data + bytes) of a read-only file mapping from this
// process's memory; they are read from the file again when touched. A hint: a no-op where the
// system has no madvise. (The compiler uses it too, for model files it has mapped.)
void drop_pages(const void* data, size_t bytes);

class WeightsFile {
 public:
  WeightsFile() = default;
  WeightsFile(const WeightsFile&) = delete;
  WeightsFile& operator=(const WeightsFile&) = delete;
  ~WeightsFile();

  // Payload bytes [offset, offset + bytes) of a table each token reads one row of.
  struct Range {
    uint64_t offset, bytes;
  };

  // Returns false and sets *error when the file is missing, truncated, of another format
  // version, of another size than the model expects, or corrupted. Checking reads every page;
  // the pages of `read_by_rows` tables leave memory again as soon as they are checked (they are
  // read from the file when a token touches them), so the table never sits whole in memory.
  bool open(const char* path, uint64_t expected_payload_bytes, std::string* error, const Range* read_by_rows = nullptr,
            size_t num_read_by_rows = 0);
  const uint8_t* payload() const { return payload_; }
  // Evicts the read_by_rows tables again: called after each step, so a table holds only the
  // pages of one step's rows (the kernel maps whole folios around each row it touches).
  void evict_read_by_rows() const;

 private:
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  const uint8_t* payload_ = nullptr;
  const Range* read_by_rows_ = nullptr;
  size_t num_read_by_rows_ = 0;
};

}  // namespace ek
