#include "runtime/llm/pretokenize.h"

#include <cstring>

#include "runtime/llm/unicode.h"

namespace ek {

namespace {

struct NamedPreTokenizer {
  const char* names;  // space-separated aliases, as llama.cpp groups them
  std::vector<SplitStep> steps;
  bool clean_spaces;
  bool ignore_merges;
  bool add_bos;
};

// From llama.cpp's llama_vocab::impl::load (names -> pre type, clean_spaces, ignore_merges,
// add_bos) and llm_tokenizer_bpe (pre type -> regexes). An empty name is llama.cpp's
// fallback, "default". Columns: names, steps, clean_spaces, ignore_merges, add_bos.
const std::vector<NamedPreTokenizer>& table() {
  using S = SplitStep;
  static const std::vector<NamedPreTokenizer> t = {
      {"default", {S::PunctRuns, S::Gpt2, S::NumberRuns, S::DigitTriples}, true, false, false},
      {"gpt-2 phi-2 mpt olmo jais exaone4", {S::Gpt2}, true, false, false},
      {"trillion granite-docling", {S::Gpt2}, false, false, false},
      {"starcoder refact codeshell exaone minerva-7b mellum2", {S::NumberEach, S::Gpt2}, true, false, false},
      {"command-r smollm", {S::NumberEach, S::Gpt2}, false, false, false},
      {"falcon", {S::PunctRunsBacktick, S::Gpt2, S::DigitTriples}, true, false, false},
      {"llama3 llama-v3 llama-bpe falcon3 falcon-h1 pixtral midm-2.0 lfm2 jina-v5-nano", {S::Llama3}, true, true, true},
      {"dbrx smaug-bpe", {S::Llama3}, true, false, false},
      {"qwen2 deepseek-r1-qwen kormo f2llmv2", {S::Qwen2}, false, false, false},
      {"megrez stablelm2", {S::Qwen2}, true, false, false},
      {"qwen35", {S::Qwen35}, false, false, false},
  };
  return t;
}

bool has_name(const char* names, const std::string& name) {
  const char* p = names;
  while (*p) {
    const char* end = std::strchr(p, ' ');
    const size_t n = end ? size_t(end - p) : std::strlen(p);
    if (n == name.size() && name.compare(0, n, p, n) == 0) return true;
    if (!end) break;
    p = end + 1;
  }
  return false;
}

constexpr uint32_t kOutOfRange = 0xFFFFFFFF;

// One pass over the pieces (lengths in code points) of the previous step. `split` cuts one
// piece [ini, end) and appends the lengths of its words.
template <typename Split>
std::vector<size_t> split_pieces(const std::vector<size_t>& pieces, Split split) {
  std::vector<size_t> out;
  out.reserve(pieces.size());
  size_t start = 0;
  for (size_t len : pieces) {
    split(start, start + len, &out);
    start += len;
  }
  return out;
}

// The cursor helpers llama.cpp's hand-written regexes use: outside the piece there is no code
// point (class 0, kOutOfRange).
struct Piece {
  const std::vector<uint32_t>& cps;
  const std::vector<uint8_t>& cls;
  size_t ini, end;
  std::vector<size_t>* out;
  size_t prev_end;

  uint32_t cpt(size_t pos) const { return pos >= ini && pos < end ? cps[pos] : kOutOfRange; }
  uint8_t flags(size_t pos) const { return pos >= ini && pos < end ? cls[pos] : 0; }
  bool letter(size_t pos) const { return flags(pos) & kCpLetter; }
  bool number(size_t pos) const { return flags(pos) & kCpNumber; }
  bool space(size_t pos) const { return flags(pos) & kCpWhitespace; }
  // Ends the current word at `stop`; returns its length.
  size_t add(size_t stop) {
    const size_t len = stop - prev_end;
    if (len > 0) out->push_back(len);
    prev_end = stop;
    return len;
  }
  // The alternatives both hand-written regexes end with, on the `spaces` whitespace code
  // points at pos: \s+(?!\S)|\s+, else (no match) that one code point. Returns the word's end.
  size_t add_spaces_or_one(size_t pos, size_t spaces) {
    if (spaces > 1 && cpt(pos + spaces) != kOutOfRange) {
      pos += spaces - 1;  // \s+(?!\S): the last space goes with the next word
    } else if (spaces > 0) {
      pos += spaces;  // \s+
    } else {
      ++pos;  // no match
    }
    add(pos);
    return pos;
  }
};

uint32_t ascii_lower(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's|'t|'re|'ve|'m|'ll|'d (case-insensitive when asked); the length matched, or 0.
size_t contraction(const Piece& p, size_t pos, bool any_case) {
  if (p.cpt(pos) != '\'' || pos + 1 >= p.end) return 0;
  auto low = [&](size_t i) { return any_case ? ascii_lower(p.cpt(i)) : p.cpt(i); };
  const uint32_t c1 = low(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (pos + 2 < p.end) {
    const uint32_t c2 = low(pos + 2);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  }
  return 0;
}

// llama.cpp's unicode_regex_split_custom_gpt2.
void split_gpt2(Piece p) {
  for (size_t pos = p.ini; pos < p.end;) {
    const uint32_t cpt = p.cpt(pos);
    if (size_t n = contraction(p, pos, false)) {
      pos += p.add(pos + n);
      continue;
    }
    uint8_t flags2 = cpt == ' ' ? p.flags(pos + 1) : p.flags(pos);
    if (flags2 & kCpLetter) {  // <space>?\p{L}+
      pos += cpt == ' ';
      while (flags2 & kCpLetter) flags2 = p.flags(++pos);
      p.add(pos);
      continue;
    }
    if (flags2 & kCpNumber) {  // <space>?\p{N}+
      pos += cpt == ' ';
      while (flags2 & kCpNumber) flags2 = p.flags(++pos);
      p.add(pos);
      continue;
    }
    auto other = [](uint8_t f) { return !(f & (kCpWhitespace | kCpLetter | kCpNumber)) && f != 0; };
    if (other(flags2)) {  // <space>?[^\s\p{L}\p{N}]+
      pos += cpt == ' ';
      while (other(flags2)) flags2 = p.flags(++pos);
      p.add(pos);
      continue;
    }
    size_t num_whitespaces = 0;
    while (p.space(pos + num_whitespaces)) num_whitespaces++;
    pos = p.add_spaces_or_one(pos, num_whitespaces);
  }
}

// llama.cpp's unicode_regex_split_custom_llama3 / _qwen2 / _qwen35, which differ in how many
// digits a number word takes (3 or 1) and whether letter runs take marks (Qwen 3.5).
void split_llama3(Piece p, size_t max_digits, bool marks) {
  const uint8_t word_bits = marks ? (kCpLetter | kCpMark) : kCpLetter;
  for (size_t pos = p.ini; pos < p.end;) {
    const uint32_t cpt = p.cpt(pos);
    const uint8_t flags = p.flags(pos);
    if (size_t n = contraction(p, pos, true)) {
      pos += p.add(pos + n);
      continue;
    }
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (!(cpt == '\r' || cpt == '\n' || (flags & kCpNumber))) {
      if ((flags & word_bits) || (p.flags(pos + 1) & word_bits)) {
        pos++;
        while (p.flags(pos) & word_bits) pos++;
        p.add(pos);
        continue;
      }
    }
    if (flags & kCpNumber) {  // \p{N}{1,3} or \p{N}
      if (max_digits == 1) {
        p.add(++pos);
        continue;
      }
      size_t ini = pos;
      while (p.number(pos)) {
        if (++pos - ini >= max_digits) {
          p.add(pos);
          ini = pos;
        }
      }
      p.add(pos);
      continue;
    }
    // <space>?[^\s\p{L}\p{N}]+[\r\n]*  (the first test reads the current code point's class,
    // the loop the next ones', as in llama.cpp)
    const uint8_t stop_bits = kCpWhitespace | kCpNumber | word_bits;
    uint8_t flags2 = cpt == ' ' ? p.flags(pos + 1) : flags;
    if (!(flags2 & stop_bits) && flags != 0) {
      pos += cpt == ' ';
      while (!(flags2 & stop_bits) && flags2 != 0) flags2 = p.flags(++pos);
      uint32_t cpt2 = p.cpt(pos);
      while (cpt2 == '\r' || cpt2 == '\n') cpt2 = p.cpt(++pos);
      p.add(pos);
      continue;
    }
    size_t num_whitespaces = 0;
    size_t last_end_r_or_n = 0;
    while (p.space(pos + num_whitespaces)) {
      const uint32_t cpt2 = p.cpt(pos + num_whitespaces);
      if (cpt2 == '\r' || cpt2 == '\n') last_end_r_or_n = pos + num_whitespaces + 1;
      num_whitespaces++;
    }
    if (last_end_r_or_n > 0) {  // \s*[\r\n]+
      pos = last_end_r_or_n;
      p.add(pos);
      continue;
    }
    pos = p.add_spaces_or_one(pos, num_whitespaces);
  }
}

// What llama.cpp's std::regex fallback does with a pattern `X+` or `X`: every match becomes a
// word, and so does every stretch between matches.
void split_class(Piece p, bool (*in_class)(uint32_t cp, uint8_t cls), bool runs) {
  size_t pos = p.ini;
  while (pos < p.end) {
    if (!in_class(p.cps[pos], p.cls[pos])) {
      ++pos;
      continue;
    }
    p.add(pos);
    size_t stop = pos + 1;
    if (runs)
      while (stop < p.end && in_class(p.cps[stop], p.cls[stop])) ++stop;
    p.add(stop);
    pos = stop;
  }
  p.add(p.end);
}

// [0-9][0-9][0-9]: leftmost non-overlapping triples of ASCII digits.
void split_digit_triples(Piece p) {
  auto digit = [&](size_t i) { return i < p.end && p.cps[i] >= '0' && p.cps[i] <= '9'; };
  size_t pos = p.ini;
  while (pos < p.end) {
    if (digit(pos) && digit(pos + 1) && digit(pos + 2)) {
      p.add(pos);
      p.add(pos + 3);
      pos += 3;
    } else {
      ++pos;
    }
  }
  p.add(p.end);
}

bool punct_or_symbol(uint32_t cp, uint8_t cls) {
  return (cls & kCpPunct) || (cp != 0 && cp < 0x80 && std::strchr("$+<=>^~|", int(cp)) != nullptr);
}
bool punct_or_symbol_backtick(uint32_t cp, uint8_t cls) { return punct_or_symbol(cp, cls) || cp == '`'; }
bool is_number(uint32_t, uint8_t cls) { return cls & kCpNumber; }

}  // namespace

bool find_pretokenizer(const std::string& name, PreTokenizer* out) {
  const std::string key = name.empty() ? "default" : name;
  for (const NamedPreTokenizer& t : table()) {
    if (!has_name(t.names, key)) continue;
    out->steps = t.steps;
    out->clean_spaces = t.clean_spaces;
    out->ignore_merges = t.ignore_merges;
    out->add_bos = t.add_bos;
    return true;
  }
  return false;
}

std::string supported_pretokenizers() {
  std::string s;
  for (const NamedPreTokenizer& t : table()) s += (s.empty() ? "" : " ") + std::string(t.names);
  return s;
}

std::vector<std::string> pretokenize(const std::string& text, const std::vector<SplitStep>& steps) {
  const std::vector<uint32_t> cps = utf8_to_codepoints(text);
  std::vector<uint8_t> cls(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) cls[i] = codepoint_class(cps[i]);

  std::vector<size_t> pieces;
  if (!cps.empty()) pieces.push_back(cps.size());
  for (SplitStep step : steps) {
    pieces = split_pieces(pieces, [&](size_t ini, size_t end, std::vector<size_t>* out) {
      Piece p{cps, cls, ini, end, out, ini};
      switch (step) {
        case SplitStep::Gpt2: split_gpt2(p); break;
        case SplitStep::Llama3: split_llama3(p, 3, false); break;
        case SplitStep::Qwen2: split_llama3(p, 1, false); break;
        case SplitStep::Qwen35: split_llama3(p, 1, true); break;
        case SplitStep::PunctRuns: split_class(p, punct_or_symbol, true); break;
        case SplitStep::PunctRunsBacktick: split_class(p, punct_or_symbol_backtick, true); break;
        case SplitStep::NumberEach: split_class(p, is_number, false); break;
        case SplitStep::NumberRuns: split_class(p, is_number, true); break;
        case SplitStep::DigitTriples: split_digit_triples(p); break;
      }
    });
  }

  std::vector<std::string> words;
  words.reserve(pieces.size());
  size_t start = 0;
  for (size_t len : pieces) {
    std::string w;
    for (size_t i = start; i < start + len; ++i) utf8_append(cps[i], &w);
    words.push_back(std::move(w));
    start += len;
  }
  return words;
}

}  // namespace ek
