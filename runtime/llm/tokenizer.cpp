// The parts of the tokenizer both kinds share: lookups, special-token splitting, bos/eos,
// decoding. The merge algorithms are in tokenizer_spm.cpp and tokenizer_bpe.cpp.
#include "runtime/llm/tokenizer.h"

#include <algorithm>
#include <string_view>

#include "runtime/llm/unicode.h"

namespace ek {

namespace {

const char kSpmSpace[] = "\xe2\x96\x81";  // U+2581, SentencePiece's visible space

void replace_all(std::string* s, const std::string& from, const std::string& to) {
  std::string out;
  out.reserve(s->size());
  size_t pos = 0;
  for (size_t hit; (hit = s->find(from, pos)) != std::string::npos; pos = hit + from.size())
    out.append(*s, pos, hit - pos).append(to);
  out.append(*s, pos, std::string::npos);
  *s = std::move(out);
}

// isspace in the C locale, as llama.cpp's strip around special tokens uses it.
bool ascii_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "<0xXX>" -> the byte (llama.cpp's token_to_byte reads the two digits after "<0x").
uint8_t byte_of_token(const std::string& text) {
  int v = 0;
  for (size_t i = 3; i < 5 && i < text.size() && hex_digit(text[i]) >= 0; ++i) v = v * 16 + hex_digit(text[i]);
  return uint8_t(v);
}

// A stretch of the input: text still to tokenize, or a special token found in it.
struct Fragment {
  int32_t token;  // -1 for text
  size_t offset, length;
};

}  // namespace

Tokenizer::Tokenizer(Vocab vocab) : vocab_(std::move(vocab)) {
  if (!validate_vocab(vocab_, &error_)) {
    error_ = "invalid vocabulary: " + error_;
    return;
  }
  consistent_ = true;
  const int32_t n = n_vocab();
  token_to_id_.reserve(size_t(n));
  for (int32_t id = 0; id < n; ++id) token_to_id_[vocab_.tokens[size_t(id)]] = id;  // a repeated text: last id
  for (size_t rank = 0; rank < vocab_.merges.size(); ++rank) {
    const std::string& m = vocab_.merges[rank];
    const size_t space = m.find(' ', 1);
    std::pair<std::string, std::string> key;
    if (space != std::string::npos) key = {m.substr(0, space), m.substr(space + 1)};
    bpe_ranks_.emplace(std::move(key), int(rank));  // a repeated merge keeps its first rank
  }

  for (int32_t id = 0; id < n; ++id) {
    const int32_t t = type(id);
    if ((t == kTokenControl || t == kTokenUserDefined || t == kTokenUnknown) && !vocab_.tokens[size_t(id)].empty())
      special_tokens_.push_back(id);
  }
  // llama.cpp's order (std::sort, longest first, from id order): same input, same comparator,
  // so equally long tokens come out in the same order with the same standard library.
  std::sort(special_tokens_.begin(), special_tokens_.end(), [&](int32_t a, int32_t b) {
    return vocab_.tokens[size_t(a)].size() > vocab_.tokens[size_t(b)].size();
  });

  eog_ = vocab_.eog_ids;
  if (vocab_.eos >= 0) eog_.push_back(vocab_.eos);
  std::sort(eog_.begin(), eog_.end());
  eog_.erase(std::unique(eog_.begin(), eog_.end()), eog_.end());

  if (vocab_.add_bos && vocab_.bos < 0) {
    error_ = "the vocabulary asks for a bos token but has none";
    return;
  }
  if (vocab_.add_eos && vocab_.eos < 0) {
    error_ = "the vocabulary asks for an eos token but has none";
    return;
  }
  if (vocab_.kind == VocabKind::BPE && !find_pretokenizer(vocab_.pre, &pre_)) {
    error_ = "BPE pre-tokenizer '" + vocab_.pre + "' is not supported (supported: " + supported_pretokenizers() + ")";
    return;
  }
  ok_ = true;
}

int32_t Tokenizer::token_id(const std::string& text) const {
  auto it = token_to_id_.find(text);
  return it == token_to_id_.end() ? -1 : it->second;
}

int Tokenizer::bpe_rank(const std::string& left, const std::string& right) const {
  auto it = bpe_ranks_.find({left, right});
  return it == bpe_ranks_.end() ? -1 : it->second;
}

bool Tokenizer::is_eog(int32_t id) const { return std::binary_search(eog_.begin(), eog_.end(), id); }

std::vector<int32_t> Tokenizer::encode(const std::string& text, bool add_special, bool parse_special) const {
  if (!ok_) return {};

  // llama.cpp's tokenizer_st_partition: special tokens, longest first, cut the text into
  // fragments; without parse_special only user-defined tokens do.
  std::vector<Fragment> fragments;
  if (!text.empty()) fragments.push_back({-1, 0, text.size()});
  for (int32_t special : special_tokens_) {
    const int32_t t = type(special);
    if (!parse_special && (t == kTokenControl || t == kTokenUnknown)) continue;
    const std::string& needle = vocab_.tokens[size_t(special)];
    std::vector<Fragment> next;
    next.reserve(fragments.size());
    for (const Fragment& f : fragments) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t offset = f.offset, length = f.length;
      while (length > 0) {
        const size_t match = std::string_view(text.data(), offset + length).find(needle, offset);
        if (match == std::string::npos) {
          next.push_back({-1, offset, length});
          break;
        }
        size_t left = match - offset;
        if (flags(special) & kTokenLStrip)
          while (left > 0 && ascii_space(text[offset + left - 1])) --left;
        if (left > 0) next.push_back({-1, offset, left});
        next.push_back({special, 0, 0});
        const size_t end = match + needle.size();
        length = offset + length - end;
        offset = end;
        if (flags(special) & kTokenRStrip)
          while (length > 0 && ascii_space(text[offset])) ++offset, --length;
      }
    }
    fragments = std::move(next);
  }

  std::vector<int32_t> out;
  if (add_special && vocab_.add_bos) out.push_back(vocab_.bos);
  bool prev_special = true;  // SPM puts its space in front of the text and after special tokens
  for (const Fragment& f : fragments) {
    if (f.token >= 0) {
      out.push_back(f.token);
      prev_special = true;
      continue;
    }
    if (vocab_.kind == VocabKind::SPM) {
      std::string piece = vocab_.add_space_prefix && prev_special ? " " : "";
      piece.append(text, f.offset, f.length);
      replace_all(&piece, " ", kSpmSpace);
      encode_spm(piece, &out);
    } else {
      encode_bpe(text.substr(f.offset, f.length), &out);
    }
    prev_special = false;
  }
  if (add_special && vocab_.add_eos) out.push_back(vocab_.eos);
  return out;
}

std::string Tokenizer::token_to_piece(int32_t id) const {
  if (!consistent_ || id < 0 || id >= n_vocab()) return {};
  const std::string& text = vocab_.tokens[size_t(id)];
  switch (type(id)) {
    case kTokenUserDefined:
      return text;
    case kTokenByte:
      return std::string(1, char(byte_of_token(text)));
    case kTokenNormal:
      if (vocab_.kind == VocabKind::SPM) {
        std::string piece = text;
        replace_all(&piece, kSpmSpace, " ");
        return piece;
      } else {
        // Byte-level BPE: each code point stands for one byte. A code point outside that
        // alphabet (a broken vocabulary) is kept as UTF-8; llama.cpp prints an [UNK_BYTE] marker.
        std::string piece;
        for (uint32_t cp : utf8_to_codepoints(text)) {
          const int byte = codepoint_to_byte(cp);
          if (byte >= 0)
            piece.push_back(char(byte));
          else
            utf8_append(cp, &piece);
        }
        return piece;
      }
    default:  // control, unknown, unused, undefined: nothing to print
      return {};
  }
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  size_t begin = 0, end = ids.size();
  bool remove_space = vocab_.add_space_prefix;
  if (vocab_.add_bos && begin < end && ids[begin] == vocab_.bos) {
    remove_space = false;  // as llama.cpp: after a bos the first space stays
    ++begin;
  }
  if (vocab_.add_eos && begin < end && ids[end - 1] == vocab_.eos) --end;
  std::string text;
  for (size_t i = begin; i < end; ++i) {
    std::string piece = token_to_piece(ids[i]);
    if (remove_space && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    remove_space = false;
    text += piece;
  }
  if (vocab_.kind != VocabKind::BPE || !pre_.clean_spaces || text.empty()) return text;

  // llama.cpp's clean_up_tokenization_spaces, three passes over the bytes.
  std::string a(1, text[0]);
  for (size_t i = 1; i < text.size(); ++i) {  // " ?", " !", " .", " ,"
    const char x = text[i];
    if (text[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) a.pop_back();
    a.push_back(x);
  }
  std::string b(1, a[0]);
  for (size_t i = 1; i < a.size(); ++i) {  // " ' " -> "'"
    const char x = a[i];
    if (x == '\'' && i + 1 < a.size() && a[i - 1] == ' ' && a[i + 1] == ' ') {
      b.pop_back();
      a[++i] = '\0';  // llama.cpp blanks the next space in place (and skips it)
    }
    b.push_back(x);
  }
  std::string c(1, b[0]);
  for (size_t i = 1; i < b.size(); ++i) {  // " 's", " 'm", " 're", " 've"
    const char x = b[i];
    if (b[i - 1] == ' ' && x == '\'' && i + 1 < b.size()) {
      const char x1 = b[i + 1];
      if (x1 == 's' || x1 == 'm')
        c.pop_back();
      else if (i + 2 < b.size() && ((x1 == 'r' && b[i + 2] == 'e') || (x1 == 'v' && b[i + 2] == 'e')))
        c.pop_back();
    }
    c.push_back(x);
  }
  return c;
}

}  // namespace ek
