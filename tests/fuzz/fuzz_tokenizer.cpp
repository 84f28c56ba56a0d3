// The tokenizer: a vocabulary file (tokenizer.bin, as bundles carry it) and a text. The first
// part of the input is the vocabulary, the rest the text (fuzz_input_file.h's split_two).
// Any vocabulary is accepted or refused with a reason; an accepted one encodes any text to ids
// inside the vocabulary and decodes them back without a crash.
#include "runtime/llm/tokenizer.h"
#include "runtime/llm/vocab.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const edgecc_fuzz::TwoParts parts = edgecc_fuzz::split_two(data, size);
  ek::Vocab vocab;
  std::string error;
  if (!ek::parse_vocab(parts.first, parts.first_size, &vocab, &error)) {
    if (error.empty()) __builtin_trap();
    return 0;
  }
  const int64_t n_tokens = int64_t(vocab.tokens.size());
  ek::Tokenizer tokenizer(std::move(vocab));
  if (!tokenizer.ok()) return 0;
  const std::string text(reinterpret_cast<const char*>(parts.second), parts.second_size);
  for (bool special : {false, true}) {
    const std::vector<int32_t> ids = tokenizer.encode(text, special, special);
    for (int32_t id : ids)
      if (id < 0 || id >= n_tokens) __builtin_trap();  // every id names a token
    (void)tokenizer.decode(ids);
    for (int32_t id : ids) (void)tokenizer.token_to_piece(id);
  }
  return 0;
}
