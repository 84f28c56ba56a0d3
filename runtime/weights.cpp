#include "runtime/weights.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/parallel.h"
#include "runtime/weights_format.h"

#if defined(_WIN32)
#error "weights.cpp: add a MapViewOfFile branch for Windows"
#else
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace ek {

WeightsFile::~WeightsFile() {
  if (map_) munmap(map_, map_bytes_);
}

void drop_pages(const void* data, size_t bytes) {
#if defined(MADV_DONTNEED)
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (uintptr_t(data) + page - 1) / page * page, end = (uintptr_t(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
#else
  (void)data;
  (void)bytes;
#endif
}

bool WeightsFile::open(const char* path, uint64_t expected_payload_bytes, std::string* error, const Range* read_by_rows,
                       size_t num_read_by_rows) {
  // Opening again replaces the previous file; on failure nothing stays loaded.
  if (map_) munmap(map_, map_bytes_);
  map_ = nullptr;
  map_bytes_ = 0;
  payload_ = nullptr;
  auto fail = [&](const std::string& why) {
    if (error) *error = std::string(path) + ": " + why;
    return false;
  };
  int fd = ::open(path, O_RDONLY);
  if (fd < 0) return fail("cannot open weights file");
  struct stat st;
  if (fstat(fd, &st) != 0) { ::close(fd); return fail("cannot stat weights file"); }
  const size_t size = size_t(st.st_size);
  if (size < sizeof(WeightsHeader)) { ::close(fd); return fail("truncated weights file (no header)"); }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return fail("mmap failed");
  map_ = map;
  map_bytes_ = size;
  WeightsHeader h;
  std::memcpy(&h, map, sizeof h);
  if (std::memcmp(h.magic, kWeightsMagic, sizeof h.magic) != 0) return fail("not an edgecc weights file (bad magic)");
  if (h.version != kWeightsVersion)
    return fail("weights format version " + std::to_string(h.version) + ", expected " + std::to_string(kWeightsVersion));
  if (h.payload_bytes != expected_payload_bytes)
    return fail("weights payload is " + std::to_string(h.payload_bytes) + " bytes, the model expects " +
                std::to_string(expected_payload_bytes));
  // Compared without adding to the header's value: a hostile 2^64 - 32 must not wrap to "fits".
  if (h.payload_bytes > size - sizeof(WeightsHeader)) return fail("truncated weights file");
  payload_ = static_cast<const uint8_t*>(map) + sizeof(WeightsHeader);
  // The whole payload is checked here, its sections on all threads: this also pages the
  // weights in, which the first token would otherwise do.
  const size_t n = size_t(h.payload_bytes), sections = (n + kChecksumSection - 1) / kChecksumSection;
  std::vector<uint64_t> hashes(sections);
  uint64_t* out = hashes.data();
  const uint8_t* payload = payload_;
  parallel_for(int64_t(sections), 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const size_t at = size_t(s) * kChecksumSection;
      const size_t len = std::min(kChecksumSection, n - at);
      out[s] = section_hash(payload + at, len);
      for (size_t r = 0; r < num_read_by_rows; ++r) {  // this section's part of a table read by rows
        const uint64_t from = std::max<uint64_t>(at, read_by_rows[r].offset);
        const uint64_t to = std::min<uint64_t>(at + len, read_by_rows[r].offset + read_by_rows[r].bytes);
        if (to > from) drop_pages(payload + from, size_t(to - from));
      }
    }
  });
  uint64_t sum = 0;
  for (uint64_t section : hashes) sum = fold_section(sum, section);
  if (sum != h.checksum) {
    payload_ = nullptr;
    return fail("weights checksum mismatch (corrupted file)");
  }
  read_by_rows_ = read_by_rows;
  num_read_by_rows_ = num_read_by_rows;
  return true;
}

void WeightsFile::evict_read_by_rows() const {
  if (!payload_) return;
  for (size_t r = 0; r < num_read_by_rows_; ++r) drop_pages(payload_ + read_by_rows_[r].offset, size_t(read_by_rows_[r].bytes));
}

}  // namespace ek
