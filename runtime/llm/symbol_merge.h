// The merge loop llama.cpp's SPM and BPE tokenizers share (llm_tokenizer_spm / _bpe): the text
// starts as a linked list of one symbol per UTF-8 character, and the best adjacent pair (ties:
// the leftmost) merges until no pair can. What "best" is stays each tokenizer's own: SPM the
// highest token score, BPE the lowest merge rank.
#pragma once
#include <algorithm>
#include <queue>
#include <string>
#include <vector>

#include "runtime/llm/unicode.h"

namespace ek {

struct Symbol {
  int prev, next;    // neighbours in the list, -1 at the ends
  const char* text;  // into the caller's string, which must outlive the symbols
  size_t n;          // bytes; 0 once merged into its left neighbour
};

// One symbol per UTF-8 character (a sequence cut short by the end of the text is one symbol).
inline std::vector<Symbol> split_utf8_symbols(const std::string& text) {
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
  return symbols;
}

// Merges adjacent symbols until no pair may merge. `pair_cost(left, right, &cost)` returns
// false for a pair that may not merge; of those that may, the lowest cost merges first, ties
// going to the leftmost.
template <typename Cost, typename PairCost>
void merge_symbols(std::vector<Symbol>* symbols, PairCost pair_cost) {
  struct Bigram {
    int left, right;
    Cost cost;
    size_t size;  // bytes of the pair when queued
  };
  // priority_queue pops its greatest element, so "less" here means "merges later".
  auto merges_later = [](const Bigram& l, const Bigram& r) {
    return l.cost > r.cost || (l.cost == r.cost && l.left > r.left);
  };
  std::priority_queue<Bigram, std::vector<Bigram>, decltype(merges_later)> queue(merges_later);
  std::vector<Symbol>& s = *symbols;
  auto try_add = [&](int left, int right) {
    if (left == -1 || right == -1) return;
    Cost cost;
    if (!pair_cost(s[size_t(left)], s[size_t(right)], &cost)) return;
    queue.push({left, right, cost, s[size_t(left)].n + s[size_t(right)].n});
  };
  for (int i = 1; i < int(s.size()); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& left = s[size_t(b.left)];
    Symbol& right = s[size_t(b.right)];
    // Skip stale pairs. A symbol only ever absorbs its right neighbour, so while both sides
    // live they are still adjacent, and an unchanged size means unchanged text.
    if (left.n == 0 || right.n == 0 || left.n + right.n != b.size) continue;
    left.n += right.n;
    right.n = 0;
    left.next = right.next;
    if (right.next >= 0) s[size_t(right.next)].prev = b.left;
    try_add(left.prev, b.left);
    try_add(b.left, left.next);
  }
}

}  // namespace ek
