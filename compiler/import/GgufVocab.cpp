#include "compiler/import/GgufVocab.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <set>
#include <unordered_map>

#include "runtime/llm/pretokenize.h"

namespace edgecc {

namespace {

using ek::Vocab;

bool contains_any(const std::string& s, std::initializer_list<const char*> parts) {
  for (const char* p : parts)
    if (s.find(p) != std::string::npos) return true;
  return false;
}

// Reads an optional special-token id as llama.cpp does: a value outside the vocabulary
// keeps the default (llama.cpp warns and does the same).
int32_t special_id(const gguf::File& file, const char* key, int32_t fallback, size_t n_tokens) {
  if (fallback >= 0 && size_t(fallback) >= n_tokens) fallback = -1;
  const gguf::Value* v = file.find(std::string("tokenizer.ggml.") + key);
  if (!v || !v->isInteger()) return fallback;
  const int64_t id = v->asInt();
  return id >= 0 && uint64_t(id) < n_tokens ? int32_t(id) : fallback;
}

llvm::Expected<bool> optional_bool(const gguf::File& file, const std::string& key, bool fallback) {
  const gguf::Value* v = file.find(key);
  if (!v) return fallback;
  if (!v->isInteger()) return file.error("metadata '" + key + "' is not a bool");
  return v->asInt() != 0;
}

// llama.cpp's fix-ups by token text, after the GGUF arrays are read (llama_vocab::impl::load,
// "auto-detect special tokens by text" through "Handle per token attributes").
void apply_text_rules(const gguf::File& file, Vocab* v) {
  const size_t n = v->tokens.size();
  if (v->token_types.empty()) v->token_types.assign(n, ek::kTokenNormal);
  std::unordered_map<std::string, int32_t> id_of;  // a repeated text: its last id, as llama.cpp
  for (size_t i = 0; i < n; ++i) id_of[v->tokens[i]] = int32_t(i);
  auto id = [&](const char* text) {
    auto it = id_of.find(text);
    return it == id_of.end() ? -1 : it->second;
  };
  auto make_control = [&](int32_t t) {
    // llama.cpp adds the control attribute; for splitting and printing that is a control token.
    if (t >= 0) v->token_types[size_t(t)] = ek::kTokenControl;
  };

  // The first candidate (in id order) of each kind when the file names none; llama.cpp takes
  // whichever its hash map yields first, which only differs for vocabularies with several.
  auto detect = [&](const char* key, std::initializer_list<const char*> texts,
                    std::initializer_list<const char*> old_keys) {
    int32_t found = special_id(file, key, -1, n);
    for (const char* k : old_keys)  // deprecated names of the same key
      if (found < 0) found = special_id(file, k, -1, n);
    if (found >= 0) return found;
    for (size_t i = 0; i < n && found < 0; ++i)
      for (const char* t : texts)
        if (v->tokens[i] == t && id_of[t] == int32_t(i)) found = int32_t(i);
    make_control(found);
    return found;
  };
  const int32_t eot = detect("eot_token_id",
                             {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                              "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>",
                              "<end_of_utterance>"},
                             {});
  const int32_t eom = detect("eom_token_id", {"<|eom_id|>"}, {});
  detect("fim_pre_token_id",
         {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
          "<|prefix|>"},
         {"prefix_token_id"});
  detect("fim_suf_token_id",
         {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
          "<|suffix|>"},
         {"suffix_token_id"});
  detect("fim_mid_token_id",
         {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
          "<|middle|>"},
         {"middle_token_id"});
  const int32_t fim_pad = detect("fim_pad_token_id", {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}, {});
  const int32_t fim_rep =
      detect("fim_rep_token_id", {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}, {});
  const int32_t fim_sep = detect("fim_sep_token_id", {"<|file_sep|>"}, {});

  std::set<int32_t> eog;
  for (int32_t t : {fim_pad, fim_rep, fim_sep})
    if (t >= 0) eog.insert(t);
  static const char* const kEogTexts[] = {
      "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
      "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
      "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~["};
  for (const char* text : kEogTexts) {
    const int32_t t = id(text);
    if (t < 0) continue;
    eog.insert(t);
    make_control(t);
  }
  // gpt-oss: these print as text.
  for (const char* text : {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"})
    if (id(text) >= 0) v->token_types[size_t(id(text))] = ek::kTokenUserDefined;
  for (int32_t t : {v->eos, eot, eom})
    if (t >= 0) eog.insert(t);
  // o200k_harmony and solar-open: "<|end|>" ends a message, not the generation.
  auto in_eog = [&](const char* text) { return id(text) >= 0 && eog.count(id(text)) > 0; };
  const bool harmony = in_eog("<|return|>") && in_eog("<|call|>");
  const bool solar = in_eog("<|calls|>") && in_eog("<|flush|>");
  if (in_eog("<|end|>") && (harmony || solar)) {
    eog.erase(id("<|end|>"));
    v->token_types[size_t(id("<|end|>"))] = ek::kTokenUserDefined;
  }
  // gemma4 and paddleocr: "</s>" is text.
  if (in_eog("<|tool_response>") && in_eog("</s>")) {
    eog.erase(id("</s>"));
    v->token_types[size_t(id("</s>"))] = ek::kTokenNormal;
  }
  v->eog_ids.assign(eog.begin(), eog.end());

  // Whitespace llama.cpp strips next to special tokens, by model name.
  std::string name = file.find("general.name") && file.find("general.name")->type == gguf::ValueType::String
                         ? file.find("general.name")->s
                         : "";
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  const std::string arch = file.find("general.architecture") ? file.find("general.architecture")->s : "";
  auto set_flag = [&](int32_t t, uint8_t flag, bool on) {
    if (t < 0) return;
    if (v->token_flags.empty()) v->token_flags.assign(n, 0);
    uint8_t& f = v->token_flags[size_t(t)];
    f = on ? uint8_t(f | flag) : uint8_t(f & ~flag);
  };
  if (contains_any(v->pre, {"jina-v2-de", "jina-v2-es", "jina-v2-code"}) ||
      contains_any(arch, {"nomic-bert-moe", "jina-bert-v3"})) {
    set_flag(id("<mask>"), ek::kTokenLStrip, true);
  } else if (contains_any(name, {"phi-3", "phi3"})) {
    for (size_t i = 0; i < n; ++i) {
      const int32_t t = v->token_types[i];
      if (t == ek::kTokenControl || t == ek::kTokenUserDefined || t == ek::kTokenUnknown)
        set_flag(int32_t(i), ek::kTokenRStrip, true);
    }
    set_flag(id("</s>"), ek::kTokenRStrip, true);
    for (const char* text : {"<unk>", "<s>", "<|endoftext|>"}) set_flag(id(text), ek::kTokenRStrip, false);
  } else if (contains_any(name, {"modern-bert"})) {
    set_flag(id("[MASK]"), ek::kTokenLStrip, true);
  }
}

}  // namespace

llvm::Expected<Vocab> vocabFromGguf(const gguf::File& file) {
  Vocab v;
  auto model = file.getString("tokenizer.ggml.model");
  if (!model) return model.takeError();
  if (*model == "llama") {
    v.kind = ek::VocabKind::SPM;
  } else if (*model == "gpt2") {
    v.kind = ek::VocabKind::BPE;
  } else {
    return file.error("tokenizer model '" + *model + "' (tokenizer.ggml.model) is not supported; supported: " +
                      "'llama' (SentencePiece), 'gpt2' (byte-level BPE)");
  }
  if (const gguf::Value* pre = file.find("tokenizer.ggml.pre")) {
    if (pre->type != gguf::ValueType::String) return file.error("metadata 'tokenizer.ggml.pre' is not a string");
    v.pre = pre->s;
  }

  auto tokens = file.getStrings("tokenizer.ggml.tokens");
  if (!tokens) return tokens.takeError();
  v.tokens = std::move(*tokens);
  const size_t n = v.tokens.size();
  if (n == 0) return file.error("'tokenizer.ggml.tokens' is empty");
  if (n > size_t(INT32_MAX)) return file.error("'tokenizer.ggml.tokens' has too many tokens");
  for (size_t i = 0; i < n; ++i)
    if (v.tokens[i].empty()) v.tokens[i] = "[EMPTY_" + std::to_string(i) + "]";  // as llama.cpp

  // Longer score and type arrays are accepted (llama.cpp reads the first n); shorter are not.
  auto too_short = [&](const char* key, size_t got) {
    return file.error("'" + std::string(key) + "' has " + std::to_string(got) + " entries for " + std::to_string(n) +
                      " tokens");
  };
  if (file.find("tokenizer.ggml.scores")) {
    auto scores = file.getFloats("tokenizer.ggml.scores");
    if (!scores) return scores.takeError();
    if (scores->size() < n) return too_short("tokenizer.ggml.scores", scores->size());
    scores->resize(n);
    v.scores = std::move(*scores);
  }
  if (file.find("tokenizer.ggml.token_type")) {
    auto types = file.getInts("tokenizer.ggml.token_type");
    if (!types) return types.takeError();
    if (types->size() < n) return too_short("tokenizer.ggml.token_type", types->size());
    v.token_types.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const int64_t t = (*types)[i];
      v.token_types[i] = t >= ek::kTokenNormal && t <= ek::kTokenByte ? int32_t(t) : ek::kTokenUndefined;
    }
  }
  if (v.kind == ek::VocabKind::BPE) {
    auto merges = file.getStrings("tokenizer.ggml.merges");
    if (!merges) return merges.takeError();
    v.merges = std::move(*merges);
  }

  // llama.cpp's defaults per kind, then the file's values.
  ek::PreTokenizer pre;
  const bool spm = v.kind == ek::VocabKind::SPM;
  v.bos = special_id(file, "bos_token_id", spm ? 1 : 11, n);
  v.eos = special_id(file, "eos_token_id", spm ? 2 : 11, n);
  v.unk = special_id(file, "unknown_token_id", spm ? 0 : -1, n);
  v.pad = special_id(file, "padding_token_id", -1, n);
  v.add_space_prefix = spm;
  v.add_bos = spm || (ek::find_pretokenizer(v.pre, &pre) && pre.add_bos);
  v.add_eos = false;
  auto add_bos = optional_bool(file, "tokenizer.ggml.add_bos_token", v.add_bos);
  if (!add_bos) return add_bos.takeError();
  auto add_eos = optional_bool(file, "tokenizer.ggml.add_eos_token", v.add_eos);
  if (!add_eos) return add_eos.takeError();
  auto add_space = optional_bool(file, "tokenizer.ggml.add_space_prefix", v.add_space_prefix);
  if (!add_space) return add_space.takeError();
  v.add_bos = *add_bos;
  v.add_eos = *add_eos;
  v.add_space_prefix = *add_space;
  if (v.add_bos && v.bos < 0)
    return file.error("the tokenizer adds a bos token but has none (tokenizer.ggml.bos_token_id)");
  if (v.add_eos && v.eos < 0)
    return file.error("the tokenizer adds an eos token but has none (tokenizer.ggml.eos_token_id)");

  apply_text_rules(file, &v);

  std::string why;
  if (!ek::validate_vocab(v, &why)) return file.error("tokenizer: " + why);
  return v;
}

}  // namespace edgecc
