// Text <-> token ids for LLM bundles, offline, matching llama.cpp's tokenizer for the same GGUF
// vocabulary: SPM (llm_tokenizer_spm: merges by score, byte fallback) and byte-level BPE
// (llm_tokenizer_bpe: a pre-tokenizer, then merges by rank). No exceptions: a vocabulary the
// tokenizer cannot serve leaves ok() false with error() saying why.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/llm/pretokenize.h"
#include "runtime/llm/vocab.h"

namespace ek {

class Tokenizer {
 public:
  explicit Tokenizer(Vocab vocab);

  // False when the vocabulary is inconsistent or needs a pre-tokenizer not implemented here;
  // encode() then returns {} (decode and token_to_piece still work when the vocabulary is
  // consistent).
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  // llama_tokenize(text, add_special, parse_special): add_special adds bos/eos as the vocabulary
  // asks; parse_special turns the text of control tokens ("<|im_end|>") into those tokens
  // (user-defined tokens are always matched, as in llama.cpp).
  std::vector<int32_t> encode(const std::string& text, bool add_special, bool parse_special = false) const;

  // llama_detokenize(remove_special = true, unparse_special = false): a leading bos / trailing
  // eos the vocabulary adds are dropped, control tokens print nothing, SPM's added space at
  // the start is dropped (unless a bos came first, as in llama.cpp), and BPE vocabularies that
  // ask for it get llama.cpp's clean-up of spaces before punctuation (" ," -> ","). So
  // decode(encode(text, false)) == text unless that clean-up applies. For the continuation of a
  // prompt, concatenate token_to_piece() instead: decode() treats ids as a whole text.
  std::string decode(const std::vector<int32_t>& ids) const;

  // One token's text for streaming output (llama_token_to_piece, special = false): SPM "▁" is a
  // space, <0xXX> byte tokens are the byte, BPE byte-level symbols are their bytes, control
  // tokens are empty. Pieces may end inside a UTF-8 sequence; concatenate before printing.
  std::string token_to_piece(int32_t id) const;

  int32_t n_vocab() const { return int32_t(vocab_.tokens.size()); }
  int32_t bos() const { return vocab_.bos; }
  int32_t eos() const { return vocab_.eos; }
  bool is_eog(int32_t id) const;
  const Vocab& vocab() const { return vocab_; }
  // The id of a token's exact text, or -1.
  int32_t token_id(const std::string& text) const;

 private:
  struct PairHash {
    size_t operator()(const std::pair<std::string, std::string>& p) const {
      return std::hash<std::string>()(p.first) * 31 + std::hash<std::string>()(p.second);
    }
  };

  int32_t type(int32_t id) const { return vocab_.token_types.empty() ? kTokenNormal : vocab_.token_types[size_t(id)]; }
  uint8_t flags(int32_t id) const { return vocab_.token_flags.empty() ? 0 : vocab_.token_flags[size_t(id)]; }
  float score(int32_t id) const { return vocab_.scores.empty() ? 0.0f : vocab_.scores[size_t(id)]; }
  int bpe_rank(const std::string& left, const std::string& right) const;
  int32_t spm_byte_token(uint8_t byte) const;

  // tokenizer_spm.cpp / tokenizer_bpe.cpp: one stretch of text without special tokens.
  void encode_spm(const std::string& text, std::vector<int32_t>* out) const;
  void encode_bpe(const std::string& text, std::vector<int32_t>* out) const;

  Vocab vocab_;
  bool ok_ = false;
  bool consistent_ = false;
  std::string error_;
  PreTokenizer pre_;
  std::unordered_map<std::string, int32_t> token_to_id_;
  std::unordered_map<std::pair<std::string, std::string>, int, PairHash> bpe_ranks_;
  std::vector<int32_t> special_tokens_;  // matched in text before tokenizing, longest first
  std::vector<int32_t> eog_;             // sorted
};

}  // namespace ek
