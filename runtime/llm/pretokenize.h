// Pre-tokenizers: how BPE vocabularies split text into words before merging, as llama.cpp does
// for each `tokenizer.ggml.pre` name. llama.cpp lists regexes per name and runs them one after
// the other, each splitting the pieces of the previous one; the regexes it hand-codes (GPT-2,
// Llama 3, Qwen 2) are ported here line by line, the few others it runs through std::regex are
// simple classes (punctuation runs, digits) written out. No std::regex.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ek {

enum class SplitStep : uint8_t {
  Gpt2,               // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
  Llama3,             // (?i:'s|..)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
                      //   \s*[\r\n]+|\s+(?!\S)|\s+
  Qwen2,              // as Llama3 with \p{N} (one digit per word)
  Qwen35,             // as Qwen2 with marks in letter runs: [\p{L}\p{M}]+
  PunctRuns,          // [\p{P}\$\+<=>\^~\|]+
  PunctRunsBacktick,  // [\p{P}\$\+<=>\^~\|`]+
  NumberEach,         // \p{N}
  NumberRuns,         // \p{N}+
  DigitTriples,       // [0-9][0-9][0-9]
};

struct PreTokenizer {
  std::vector<SplitStep> steps;
  bool clean_spaces = true;    // decode drops the space llama.cpp's cleanup drops (" ," -> ",")
  bool ignore_merges = false;  // a word that is itself a token is taken whole
  bool add_bos = false;        // llama.cpp's add_bos when the GGUF file does not say
};

// Looks up llama.cpp's pre-tokenizer of that name; false when it is not supported here.
bool find_pretokenizer(const std::string& name, PreTokenizer* out);
// The supported names, for error messages.
std::string supported_pretokenizers();

// Splits text into words. Words are re-encoded from code points (malformed UTF-8 becomes
// U+FFFD, as in llama.cpp).
std::vector<std::string> pretokenize(const std::string& text, const std::vector<SplitStep>& steps);

}  // namespace ek
