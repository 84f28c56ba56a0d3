// SPM: llama.cpp's llm_tokenizer_spm. The text (spaces already "▁") starts as one symbol per
// UTF-8 character; the adjacent pair whose concatenation is the highest-scoring token merges
// first (ties: the leftmost), until no pair is a token. Symbols that are not tokens fall back
// to <0xXX> byte tokens.
#include "runtime/llm/symbol_merge.h"
#include "runtime/llm/tokenizer.h"

namespace ek {

int32_t Tokenizer::spm_byte_token(uint8_t byte) const {
  static const char* hex = "0123456789ABCDEF";
  const char name[7] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>', 0};
  int32_t id = token_id(name);
  if (id < 0) id = token_id(std::string(1, char(byte)));
  // llama.cpp throws here; a vocabulary without byte tokens gets unk instead.
  return id >= 0 ? id : vocab_.unk;
}

void Tokenizer::encode_spm(const std::string& text, std::vector<int32_t>* out) const {
  std::vector<Symbol> symbols = split_utf8_symbols(text);
  if (symbols.empty()) return;
  // The highest score merges first: its negation is the cost.
  merge_symbols<float>(&symbols, [&](const Symbol& left, const Symbol& right, float* cost) {
    const int32_t id = token_id(std::string(left.text, left.n + right.n));
    if (id < 0) return false;
    *cost = -score(id);
    return true;
  });

  // Every merged symbol is a token (it merged because it was one), so llama.cpp's rev_merge
  // re-segmentation never finds work: a symbol is a token, or a character that is not one.
  for (int i = 0; i != -1; i = symbols[size_t(i)].next) {
    const Symbol& s = symbols[size_t(i)];
    const int32_t id = token_id(std::string(s.text, s.n));
    if (id >= 0) {
      out->push_back(id);
      continue;
    }
    for (size_t j = 0; j < s.n; ++j) {
      const int32_t byte_id = spm_byte_token(uint8_t(s.text[j]));
      if (byte_id >= 0) out->push_back(byte_id);
    }
  }
}

}  // namespace ek
