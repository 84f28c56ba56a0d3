// The tokenizer vocabulary of a GGUF model (`tokenizer.ggml.*`), read as llama.cpp's
// llama_vocab::load reads it: its defaults for missing special ids and flags, and its fix-ups
// by token text (end-of-generation tokens, tokens it treats as control or user-defined,
// whitespace stripping around special tokens by model name).
#pragma once

#include "compiler/import/GgufFile.h"
#include "llvm/Support/Error.h"
#include "runtime/llm/vocab.h"

namespace edgecc {

// Errors name the file and the key: a missing or mistyped key, arrays of other lengths than
// the token list, a tokenizer model other than "llama" (SPM) or "gpt2" (BPE). A BPE
// pre-tokenizer the runtime does not implement is not an error here: ek::Tokenizer(vocab).ok()
// says whether the vocabulary can encode.
llvm::Expected<ek::Vocab> vocabFromGguf(const gguf::File& file);

}  // namespace edgecc
