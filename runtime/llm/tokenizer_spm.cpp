// SPM: llama.cpp's llm_tokenizer_spm. The text (spaces already "▁") starts as one symbol per
// UTF-8 character; the adjacent pair whose concatenation is the highest-scoring token merges
// first (ties: the leftmost), until no pair is a token. Symbols that are not tokens fall back
// to <0xXX> byte tokens.
#include <algorithm>
#include <queue>

#include "runtime/llm/tokenizer.h"
#include "runtime/llm/unicode.h"

namespace ek {

namespace {

struct Symbol {
  int prev, next;
  const char* text;
  size_t n;  // 0 once merged into its left neighbour
};

struct Bigram {
  int left, right;
  float score;
  size_t size;  // bytes of the pair when queued; a pair that changed since is stale
};

struct ByPriority {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.score < r.score || (l.score == r.score && l.left > r.left);
  }
};

}  // namespace

int32_t Tokenizer::spm_byte_token(uint8_t byte) const {
  static const char* hex = "0123456789ABCDEF";
  const char name[7] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>', 0};
  int32_t id = token_id(name);
  if (id < 0) id = token_id(std::string(1, char(byte)));
  // llama.cpp throws here; a vocabulary without byte tokens gets unk instead.
  return id >= 0 ? id : vocab_.unk;
}

void Tokenizer::encode_spm(const std::string& text, std::vector<int32_t>* out) const {
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    const int index = int(symbols.size());
    Symbol s;
    s.text = text.data() + offset;
    s.n = std::min(utf8_sequence_length(text[offset]), text.size() - offset);
    offset += s.n;
    s.prev = index - 1;
    s.next = offset == text.size() ? -1 : index + 1;
    symbols.push_back(s);
  }
  if (symbols.empty()) return;

  std::priority_queue<Bigram, std::vector<Bigram>, ByPriority> queue;
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    const std::string pair(symbols[size_t(left)].text, symbols[size_t(left)].n + symbols[size_t(right)].n);
    const int32_t id = token_id(pair);
    if (id < 0) return;
    queue.push({left, right, score(id), pair.size()});
  };
  for (int i = 1; i < int(symbols.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = symbols[size_t(b.left)];
    Symbol& right = symbols[size_t(b.right)];
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[size_t(right.next)].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }

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
