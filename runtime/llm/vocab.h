// A tokenizer vocabulary as llama.cpp reads it from GGUF (`tokenizer.ggml.*`), and its file in
// bundles (`tokenizer.bin`): little-endian, versioned, checksummed, every count checked against
// the file size, so a truncated or corrupted file is an error, never a crash.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ek {

enum class VocabKind : uint8_t {
  SPM = 1,  // `tokenizer.ggml.model` "llama": SentencePiece-style merges by score
  BPE = 2,  // "gpt2": byte-level BPE with ranked merges after a pre-tokenizer
};

// GGUF's `tokenizer.ggml.token_type` values.
enum TokenType : int32_t {
  kTokenUndefined = 0,
  kTokenNormal = 1,
  kTokenUnknown = 2,
  kTokenControl = 3,
  kTokenUserDefined = 4,
  kTokenUnused = 5,
  kTokenByte = 6,
};

// Per-token flags llama.cpp sets by model name (GGUF does not store them): whitespace next to
// a special token that the text splitting drops.
constexpr uint8_t kTokenLStrip = 1;
constexpr uint8_t kTokenRStrip = 2;

struct Vocab {
  VocabKind kind = VocabKind::SPM;
  std::string pre;                   // `tokenizer.ggml.pre`; "" when absent
  std::vector<std::string> tokens;   // id -> text
  std::vector<float> scores;         // empty, or one per token (SPM merge priority)
  std::vector<int32_t> token_types;  // empty (all normal), or one TokenType per token
  std::vector<uint8_t> token_flags;  // empty, or one kToken*Strip mask per token
  std::vector<std::string> merges;   // BPE: "left right" in rank order
  std::vector<int32_t> eog_ids;      // end-of-generation tokens (eos counts too, listed or not)
  int32_t bos = -1, eos = -1, unk = -1, pad = -1;  // -1: none
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = false;  // SPM: a space before the text (and dropped when decoding)
};

// Checks the sizes and ids agree (per-token arrays empty or one per token, special ids in
// range or -1). Returns false and sets *error (when given) otherwise.
bool validate_vocab(const Vocab& vocab, std::string* error);

bool write_vocab(const char* path, const Vocab& vocab, std::string* error);
bool read_vocab(const char* path, Vocab* vocab, std::string* error);
// The same format in memory.
std::string serialize_vocab(const Vocab& vocab);
bool parse_vocab(const uint8_t* bytes, size_t n, Vocab* vocab, std::string* error);

}  // namespace ek
