// Byte-level BPE: llama.cpp's llm_tokenizer_bpe. The pre-tokenizer splits the text into words;
// each word's bytes become GPT-2's printable alphabet, start as one symbol per character, and
// the adjacent pair with the lowest merge rank merges first (ties: the leftmost).
#include "runtime/llm/symbol_merge.h"
#include "runtime/llm/tokenizer.h"
#include "runtime/llm/unicode.h"

namespace ek {

namespace {

std::string byte_encode(const std::string& word) {
  std::string out;
  out.reserve(word.size() * 2);
  for (char c : word) utf8_append(byte_to_codepoint(uint8_t(c)), &out);
  return out;
}

}  // namespace

void Tokenizer::encode_bpe(const std::string& text, std::vector<int32_t>* out) const {
  for (const std::string& raw_word : pretokenize(text, pre_.steps)) {
    const std::string word = byte_encode(raw_word);
    std::vector<Symbol> symbols;
    if (pre_.ignore_merges && token_id(word) >= 0) {
      symbols.push_back({-1, -1, word.data(), word.size()});
    } else {
      symbols = split_utf8_symbols(word);
    }
    // The lowest merge rank merges first.
    merge_symbols<int>(&symbols, [&](const Symbol& left, const Symbol& right, int* cost) {
      *cost = bpe_rank(std::string(left.text, left.n), std::string(right.text, right.n));
      return *cost >= 0;
    });

    for (const Symbol& s : symbols) {
      if (s.n == 0) continue;
      const std::string piece(s.text, s.n);
      const int32_t id = token_id(piece);
      if (id >= 0) {
        out->push_back(id);
        continue;
      }
      // As llama.cpp: each byte of the unknown piece on its own, where that byte is a token
      // (in practice only ASCII), and the rest dropped.
      for (char c : piece) {
        const int32_t byte_id = token_id(std::string(1, c));
        if (byte_id >= 0) out->push_back(byte_id);
      }
    }
  }
}

}  // namespace ek
