// Byte-level BPE: llama.cpp's llm_tokenizer_bpe. The pre-tokenizer splits the text into words;
// each word's bytes become GPT-2's printable alphabet, start as one symbol per character, and
// the adjacent pair with the lowest merge rank merges first (ties: the leftmost).
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
  std::string text;  // the pair when queued; a pair that changed since is stale
  int rank;
};

struct ByPriority {
  bool operator()(const Bigram& l, const Bigram& r) const {
    return l.rank > r.rank || (l.rank == r.rank && l.left > r.left);
  }
};

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
      for (size_t offset = 0; offset < word.size();) {
        const int index = int(symbols.size());
        Symbol s;
        s.text = word.data() + offset;
        s.n = std::min(utf8_sequence_length(word[offset]), word.size() - offset);
        offset += s.n;
        s.prev = index - 1;
        s.next = offset == word.size() ? -1 : index + 1;
        symbols.push_back(s);
      }
    }

    std::priority_queue<Bigram, std::vector<Bigram>, ByPriority> queue;
    auto add_bigram = [&](int left, int right) {
      if (left == -1 || right == -1) return;
      std::string l(symbols[size_t(left)].text, symbols[size_t(left)].n);
      std::string r(symbols[size_t(right)].text, symbols[size_t(right)].n);
      const int rank = bpe_rank(l, r);
      if (rank < 0) return;
      queue.push({left, right, l + r, rank});
    };
    for (int i = 1; i < int(symbols.size()); ++i) add_bigram(i - 1, i);

    while (!queue.empty()) {
      const Bigram b = queue.top();
      queue.pop();
      Symbol& left = symbols[size_t(b.left)];
      Symbol& right = symbols[size_t(b.right)];
      if (left.n == 0 || right.n == 0) continue;
      if (std::string(left.text, left.n) + std::string(right.text, right.n) != b.text) continue;
      left.n += right.n;
      right.n = 0;
      left.next = right.next;
      if (right.next >= 0) symbols[size_t(right.next)].prev = b.left;
      add_bigram(left.prev, b.left);
      add_bigram(b.left, left.next);
    }

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
