#include "runtime/llm/unicode.h"

#include <algorithm>

#include "runtime/llm/unicode_tables.h"

namespace ek {

uint8_t codepoint_class(uint32_t cp) {
  if (cp >= 0x110000) return kCpOther;
  // The last range starting at or before cp.
  const uint32_t key = (cp << 8) | 0xFF;
  const uint32_t* it = std::upper_bound(kUnicodeRanges, kUnicodeRanges + kUnicodeRangeCount, key);
  return uint8_t(it[-1] & 0xFF);
}

size_t utf8_sequence_length(char lead) {
  static const size_t kLength[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLength[uint8_t(lead) >> 4];
}

uint32_t utf8_decode(const std::string& s, size_t* offset) {
  const size_t i = *offset;
  const uint8_t c = uint8_t(s[i]);
  auto cont = [&](size_t k) { return i + k < s.size() && (uint8_t(s[i + k]) & 0xC0) == 0x80; };
  auto bits = [&](size_t k) { return uint32_t(uint8_t(s[i + k]) & 0x3F); };
  // Like llama.cpp: lead bytes pick the length, continuation bytes are checked, overlong forms
  // and surrogates are not rejected.
  if (c < 0x80) { *offset = i + 1; return c; }
  if ((c & 0xE0) == 0xC0 && cont(1)) { *offset = i + 2; return (uint32_t(c & 0x1F) << 6) | bits(1); }
  if ((c & 0xF0) == 0xE0 && cont(1) && cont(2)) {
    *offset = i + 3;
    return (uint32_t(c & 0x0F) << 12) | (bits(1) << 6) | bits(2);
  }
  if ((c & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
    *offset = i + 4;
    return (uint32_t(c & 0x07) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
  }
  *offset = i + 1;
  return 0xFFFD;
}

std::vector<uint32_t> utf8_to_codepoints(const std::string& s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t offset = 0; offset < s.size();) cps.push_back(utf8_decode(s, &offset));
  return cps;
}

void utf8_append(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

namespace {

// Printable Latin-1 bytes stand for themselves; the others take U+0100.. in byte order.
bool byte_is_printable(int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE; }

struct ByteAlphabet {
  static constexpr uint32_t kCodepoints = 256 + 68;  // 68 bytes are not printable
  uint32_t to_cp[256];
  int16_t to_byte[kCodepoints];
  ByteAlphabet() {
    uint32_t next = 256;
    for (uint32_t cp = 0; cp < kCodepoints; ++cp) to_byte[cp] = -1;
    for (int b = 0; b < 256; ++b) {
      to_cp[b] = byte_is_printable(b) ? uint32_t(b) : next++;
      to_byte[to_cp[b]] = int16_t(b);
    }
  }
};

const ByteAlphabet& byte_alphabet() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t byte) { return byte_alphabet().to_cp[byte]; }

int codepoint_to_byte(uint32_t cp) {
  return cp < ByteAlphabet::kCodepoints ? byte_alphabet().to_byte[cp] : -1;
}

}  // namespace ek
