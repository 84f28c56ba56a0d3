// The activation arena: one aligned allocation made at init, sliced by compile-time offsets.
#pragma once
#include <cstddef>
#include <cstdlib>

namespace ek {

class Arena {
 public:
  explicit Arena(size_t bytes) : bytes_(bytes) {
    // aligned_alloc needs a size that is a multiple of the alignment.
    size_t rounded = (bytes + 63) / 64 * 64;
    base_ = static_cast<unsigned char*>(std::aligned_alloc(64, rounded ? rounded : 64));
  }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena() { std::free(base_); }
  unsigned char* base() const { return base_; }
  size_t bytes() const { return bytes_; }

 private:
  unsigned char* base_;
  size_t bytes_;
};

}  // namespace ek
