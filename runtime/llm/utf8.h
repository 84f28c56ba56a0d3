// UTF-8 helpers for streaming model output: tokens can end in the middle of a character, so
// text is released only up to the last complete one.
#pragma once
#include <string>

namespace ek {

// Length of the valid UTF-8 sequence at s[i], or 0.
inline size_t utf8_length(const std::string& s, size_t i) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

// Collects token pieces and hands out the text that ends on a complete character.
class Utf8Stream {
 public:
  std::string push(const std::string& piece) {
    pending_ += piece;
    size_t complete = pending_.size();
    for (size_t back = 1; back <= 3 && back <= pending_.size(); ++back) {
      const unsigned char c = static_cast<unsigned char>(pending_[pending_.size() - back]);
      if ((c & 0xC0) == 0x80) continue;  // a continuation byte: look further back for the lead
      const size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      if (need > back) complete = pending_.size() - back;
      break;
    }
    std::string out = pending_.substr(0, complete);
    pending_.erase(0, complete);
    return out;
  }
  // Whatever is left (an incomplete character at the very end).
  std::string flush() {
    std::string out;
    out.swap(pending_);
    return out;
  }

 private:
  std::string pending_;
};

}  // namespace ek
