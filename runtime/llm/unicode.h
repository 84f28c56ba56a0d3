// UTF-8 and the code point classes the pre-tokenizers ask about. Decoding follows llama.cpp
// (a byte that starts no valid sequence becomes U+FFFD and decoding resumes at the next
// byte), so tokenization of malformed text matches it too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ek {

// Class bits of a code point (runtime/llm/unicode_tables.h). Every code point has at least
// one bit; 0 means "no code point" (past the end of a word).
constexpr uint8_t kCpOther = 0x01;       // symbols, separators, controls, unassigned
constexpr uint8_t kCpNumber = 0x02;      // \p{N}
constexpr uint8_t kCpLetter = 0x04;      // \p{L}
constexpr uint8_t kCpMark = 0x08;        // \p{M}
constexpr uint8_t kCpPunct = 0x10;       // \p{P}
constexpr uint8_t kCpWhitespace = 0x20;  // \s (Unicode White_Space)

uint8_t codepoint_class(uint32_t cp);

// Length of the UTF-8 sequence a lead byte announces (1 for stray continuation bytes).
size_t utf8_sequence_length(char lead);
// Decodes the code point at *offset and advances it; malformed input gives U+FFFD.
uint32_t utf8_decode(const std::string& s, size_t* offset);
std::vector<uint32_t> utf8_to_codepoints(const std::string& s);
// Appends the UTF-8 of cp; values past U+10FFFF append U+FFFD.
void utf8_append(uint32_t cp, std::string* out);

// GPT-2's byte-level alphabet: every byte as a printable code point, and back.
uint32_t byte_to_codepoint(uint8_t byte);
// Returns -1 for a code point outside the alphabet.
int codepoint_to_byte(uint32_t cp);

}  // namespace ek
