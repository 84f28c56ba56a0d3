// The runtime tokenizer against llama.cpp: its reference vocabularies (models/ggml-vocab-*.gguf)
// and expected ids (.inp / .out, the cases tests/test-tokenizer-0.cpp checks), its round trips
// (test-tokenizer-1-*), and the tokenizer.bin format.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <ostream>
#include <memory>
#include <sstream>

#include "compiler/import/GgufFile.h"
#include "compiler/import/GgufVocab.h"
#include "runtime/llm/pretokenize.h"
#include "runtime/llm/tokenizer.h"
#include "runtime/llm/unicode.h"
#include "runtime/weights_format.h"

namespace {

std::string llamaSrc() {
  const char* dir = std::getenv("EDGECC_LLAMA_SRC");
  return dir ? dir : "";
}

bool isDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string vocabPath(const std::string& name) { return llamaSrc() + "/models/ggml-vocab-" + name + ".gguf"; }

// The reference directory is required: a missing one is a failure, not a skip.
::testing::AssertionResult haveReference() {
  const std::string dir = llamaSrc();
  if (dir.empty())
    return ::testing::AssertionFailure() << "EDGECC_LLAMA_SRC is not set (llama.cpp source with models/ggml-vocab-*; "
                                            "scripts/setup_llama_ref.sh creates it)";
  if (!isDir(dir + "/models"))
    return ::testing::AssertionFailure() << "EDGECC_LLAMA_SRC=" << dir
                                         << " has no models/ directory: run scripts/setup_llama_ref.sh";
  return ::testing::AssertionSuccess();
}

std::string readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Vocabularies are large (up to 256k tokens); each is read once per run.
llvm::Expected<ek::Vocab> loadVocab(const std::string& name) {
  static std::map<std::string, std::unique_ptr<ek::Vocab>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  auto file = edgecc::gguf::File::open(vocabPath(name));
  if (!file) return file.takeError();
  auto vocab = edgecc::vocabFromGguf(**file);
  if (!vocab) return vocab.takeError();
  cache[name] = std::make_unique<ek::Vocab>(*vocab);
  return std::move(*vocab);
}

const ek::Tokenizer& tokenizerFor(const std::string& name) {
  static std::map<std::string, std::unique_ptr<ek::Tokenizer>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  auto vocab = loadVocab(name);
  if (!vocab) {
    ADD_FAILURE() << llvm::toString(vocab.takeError());
    vocab = ek::Vocab();
  }
  return *(cache[name] = std::make_unique<ek::Tokenizer>(std::move(*vocab)));
}

struct Case {
  std::string text;
  std::vector<int32_t> ids;
};

// test-tokenizer-0.cpp's reading: inputs separated by "\n__ggml_vocab_test__\n", one line of
// space-separated ids per input (leading/trailing spaces stripped).
std::vector<Case> readCases(const std::string& name, std::string* error) {
  const std::string raw = readFile(vocabPath(name) + ".inp");
  std::vector<std::string> inputs;
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t pos = 0; pos < raw.size();) {
    const size_t next = raw.find(sep, pos);
    if (next == std::string::npos) {
      inputs.push_back(raw.substr(pos));
      break;
    }
    inputs.push_back(raw.substr(pos, next - pos));
    pos = next + sep.size();
  }
  std::ifstream out(vocabPath(name) + ".out");
  std::vector<std::vector<int32_t>> outputs;
  for (std::string line; std::getline(out, line);) {
    std::istringstream ids(line);
    std::vector<int32_t> row;
    for (int32_t id; ids >> id;) row.push_back(id);
    outputs.push_back(row);
  }
  if (inputs.empty() || inputs.size() != outputs.size()) {
    *error = name + ": " + std::to_string(inputs.size()) + " inputs, " + std::to_string(outputs.size()) + " outputs";
    return {};
  }
  std::vector<Case> cases;
  for (size_t i = 0; i < inputs.size(); ++i) cases.push_back({inputs[i], outputs[i]});
  return cases;
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return "[" + s + "]";
}

// --- llama.cpp's reference cases ----------------------------------------------------------

struct VocabExpectation {
  const char* name;
  bool supported;  // false: the import or the tokenizer must refuse it with a clear error
};

// Every ggml-vocab file with cases. Unsupported: WordPiece (bert), Gemma 4's SPM-style BPE,
// and the DeepSeek pre-tokenizers (regexes with large literal character classes).
const VocabExpectation kVocabs[] = {
    {"llama-spm", true}, {"phi-3", true},     {"gpt-2", true},          {"mpt", true},
    {"starcoder", true}, {"refact", true},    {"command-r", true},      {"falcon", true},
    {"llama-bpe", true}, {"qwen2", true},     {"qwen35", true},         {"bert-bge", false},
    {"gemma-4", false},  {"deepseek-llm", false}, {"deepseek-coder", false},
};

// Test names (and ctest's) show the file, not the struct's bytes.
void PrintTo(const VocabExpectation& e, std::ostream* os) { *os << "ggml-vocab-" << e.name << ".gguf"; }

class ReferenceCases : public ::testing::TestWithParam<VocabExpectation> {};

TEST_P(ReferenceCases, MatchLlamaCpp) {
  ASSERT_TRUE(haveReference());
  const VocabExpectation& e = GetParam();
  ASSERT_TRUE(exists(vocabPath(e.name))) << vocabPath(e.name) << " is missing";
  if (!e.supported) {
    auto vocab = loadVocab(e.name);
    if (!vocab) {
      const std::string why = llvm::toString(vocab.takeError());
      std::printf("ggml-vocab-%s.gguf: refused at import: %s\n", e.name, why.c_str());
      EXPECT_NE(why.find("not supported"), std::string::npos) << why;
      return;
    }
    const ek::Tokenizer& tok = tokenizerFor(e.name);
    EXPECT_FALSE(tok.ok());
    EXPECT_NE(tok.error().find("not supported"), std::string::npos) << tok.error();
    EXPECT_TRUE(tok.encode("Hello world", false).empty());
    std::printf("ggml-vocab-%s.gguf: refused: %s\n", e.name, tok.error().substr(0, 60).c_str());
    return;
  }

  const ek::Tokenizer& tok = tokenizerFor(e.name);
  ASSERT_TRUE(tok.ok()) << tok.error();
  std::string error;
  const std::vector<Case> cases = readCases(e.name, &error);
  ASSERT_FALSE(cases.empty()) << error;
  size_t passed = 0;
  for (const Case& c : cases) {
    const std::vector<int32_t> got = tok.encode(c.text, /*add_special=*/false, /*parse_special=*/false);
    if (got == c.ids)
      ++passed;
    else
      ADD_FAILURE() << e.name << ": '" << c.text << "'\n  want " << show(c.ids) << "\n  got  " << show(got);
  }
  std::printf("ggml-vocab-%s.gguf: %zu/%zu cases match llama.cpp\n", e.name, passed, cases.size());
}

INSTANTIATE_TEST_SUITE_P(Vocab, ReferenceCases, ::testing::ValuesIn(kVocabs),
                         [](const ::testing::TestParamInfo<VocabExpectation>& info) {
                           std::string n = info.param.name;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// Reference vocabularies without cases: they import and can encode.
TEST(ReferenceVocabs, WithoutCasesLoad) {
  ASSERT_TRUE(haveReference());
  for (const char* name : {"baichuan", "aquila", "gpt-neox"}) {
    const ek::Tokenizer& tok = tokenizerFor(name);
    EXPECT_TRUE(tok.ok()) << name << ": " << tok.error();
    EXPECT_EQ(tok.decode(tok.encode("Hello world", false)), "Hello world") << name;
  }
}

// --- round trips (llama.cpp's test-tokenizer-1-spm / -bpe) -----------------------------------

// Every code point but surrogates and the unassigned planes decodes back to itself, except
// U+2581 (SPM's space marker), as llama.cpp's tests skip it too.
void expectCodepointRoundTrip(const std::string& name) {
  const ek::Tokenizer& tok = tokenizerFor(name);
  ASSERT_TRUE(tok.ok()) << tok.error();
  size_t failures = 0;
  for (uint32_t cp = 0; cp < 0x110000; ++cp) {
    if ((cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x40000 && cp <= 0xE0000) || cp == 0x2581) continue;
    std::string s;
    ek::utf8_append(cp, &s);
    const std::string back = tok.decode(tok.encode(s, false, true));
    if (back != s && ++failures <= 5)
      ADD_FAILURE() << name << ": U+" << std::hex << cp << " decodes to " << back.size() << " bytes";
  }
  EXPECT_EQ(failures, 0u);
}

TEST(TokenizerRoundTrip, SpmEveryCodepoint) {
  ASSERT_TRUE(haveReference());
  expectCodepointRoundTrip("llama-spm");
}

TEST(TokenizerRoundTrip, BpeEveryCodepoint) {
  ASSERT_TRUE(haveReference());
  expectCodepointRoundTrip("gpt-2");
  expectCodepointRoundTrip("llama-bpe");
}

// test-tokenizer-1-spm: every token's text tokenizes to something that decodes to that text.
TEST(TokenizerRoundTrip, SpmEveryToken) {
  ASSERT_TRUE(haveReference());
  const ek::Tokenizer& tok = tokenizerFor("llama-spm");
  ASSERT_TRUE(tok.ok()) << tok.error();
  size_t failures = 0;
  for (int32_t id = 0; id < tok.n_vocab(); ++id) {
    const std::string s = tok.decode({id});
    const std::string back = tok.decode(tok.encode(s, false, true));
    if (back != s && ++failures <= 5) ADD_FAILURE() << "token " << id << " '" << s << "' -> '" << back << "'";
  }
  EXPECT_EQ(failures, 0u);
}

TEST(TokenizerRoundTrip, TextDecodesBack) {
  ASSERT_TRUE(haveReference());
  for (const char* name : {"llama-spm", "gpt-2", "llama-bpe", "qwen2"}) {
    const ek::Tokenizer& tok = tokenizerFor(name);
    ASSERT_TRUE(tok.ok()) << tok.error();
    for (const char* text : {"Hello world", " leading space", "tabs\tand\nnewlines\n\n", "Grüße, 世界! 🦙",
                             "3333333 x=1+2", "it's we'll"})
      EXPECT_EQ(tok.decode(tok.encode(text, false)), text) << name;
  }
}

// --- behaviour at the API ---------------------------------------------------------------------

TEST(Tokenizer, SpecialTokensBosEosAndPieces) {
  ASSERT_TRUE(haveReference());
  const ek::Tokenizer& spm = tokenizerFor("llama-spm");
  ASSERT_TRUE(spm.ok()) << spm.error();
  EXPECT_EQ(spm.bos(), 1);
  EXPECT_EQ(spm.eos(), 2);
  EXPECT_TRUE(spm.is_eog(2));
  EXPECT_FALSE(spm.is_eog(1));
  const std::vector<int32_t> ids = spm.encode("Hello", true);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 1);                                   // add_bos
  EXPECT_EQ(std::vector<int32_t>(ids.begin() + 1, ids.end()), spm.encode("Hello", false));
  EXPECT_EQ(spm.token_to_piece(spm.token_id("\xE2\x96\x81Hello")), " Hello");  // ▁ -> space
  EXPECT_EQ(spm.token_to_piece(spm.token_id("<0x0A>")), "\n");                 // byte token
  EXPECT_EQ(spm.token_to_piece(1), "");                                       // control
  EXPECT_EQ(spm.token_to_piece(-1), "");
  EXPECT_EQ(spm.token_to_piece(spm.n_vocab()), "");
  // As llama.cpp: after a bos, the first space stays; without one, SPM's added space goes.
  EXPECT_EQ(spm.decode(ids), " Hello");
  EXPECT_EQ(spm.decode(spm.encode("Hello", false)), "Hello");

  const ek::Tokenizer& gpt2 = tokenizerFor("gpt-2");
  ASSERT_TRUE(gpt2.ok()) << gpt2.error();
  EXPECT_EQ(gpt2.encode("Hello", true), gpt2.encode("Hello", false));  // gpt-2 adds no bos
  EXPECT_TRUE(gpt2.is_eog(50256));
  EXPECT_EQ(gpt2.token_to_piece(gpt2.token_id("\xC4\xA0world")), " world");  // Ġ -> space
  EXPECT_EQ(gpt2.token_to_piece(50256), "");                                // <|endoftext|>
  // Control-token text is text unless parse_special.
  const std::vector<int32_t> plain = gpt2.encode("a<|endoftext|>b", false);
  const std::vector<int32_t> parsed = gpt2.encode("a<|endoftext|>b", false, true);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 50256), 0);
  EXPECT_EQ(parsed, (std::vector<int32_t>{gpt2.token_id("a"), 50256, gpt2.token_id("b")}));
  // llama.cpp's clean-up of spaces before punctuation when decoding.
  EXPECT_EQ(gpt2.decode(gpt2.encode("a , b", false)), "a, b");

  const ek::Tokenizer& llama3 = tokenizerFor("llama-bpe");
  ASSERT_TRUE(llama3.ok()) << llama3.error();
  EXPECT_EQ(llama3.encode("Hi", true).front(), 128000);  // llama3 pre-tokenizer: add_bos by default
  EXPECT_TRUE(llama3.is_eog(llama3.token_id("<|eot_id|>")));
}

TEST(Tokenizer, UnsupportedPreTokenizerIsAClearError) {
  ek::Vocab v;
  v.kind = ek::VocabKind::BPE;
  v.pre = "deepseek-llm";
  v.tokens = {"a", "b", "ab"};
  v.merges = {"a b"};
  ek::Tokenizer tok(v);
  EXPECT_FALSE(tok.ok());
  EXPECT_NE(tok.error().find("pre-tokenizer 'deepseek-llm' is not supported"), std::string::npos) << tok.error();
  EXPECT_TRUE(tok.encode("ab", false).empty());
  EXPECT_EQ(tok.decode({2}), "ab");  // decoding needs no pre-tokenizer

  v.pre = "gpt-2";
  ek::Tokenizer gpt2(v);
  ASSERT_TRUE(gpt2.ok()) << gpt2.error();
  EXPECT_EQ(gpt2.encode("ab", false), std::vector<int32_t>{2});
}

TEST(Tokenizer, InconsistentVocabIsAnError) {
  ek::Vocab v;
  v.tokens = {"a", "b"};
  v.scores = {0.f};
  ek::Tokenizer tok(v);
  EXPECT_FALSE(tok.ok());
  EXPECT_NE(tok.error().find("1 scores for 2 tokens"), std::string::npos) << tok.error();
  v.scores.clear();
  v.bos = 7;
  EXPECT_NE(ek::Tokenizer(v).error().find("bos id 7 is outside"), std::string::npos);
  EXPECT_EQ(ek::Tokenizer(ek::Vocab()).error(), "invalid vocabulary: the vocabulary has no tokens");
}

// --- pre-tokenizer pieces -----------------------------------------------------------------

TEST(PreTokenizer, Gpt2Words) {
  ek::PreTokenizer pre;
  ASSERT_TRUE(ek::find_pretokenizer("gpt-2", &pre));
  EXPECT_EQ(ek::pretokenize("Hello world's  3.14\n\n x", pre.steps),
            (std::vector<std::string>{"Hello", " world", "'s", " ", " 3", ".", "14", "\n\n", " x"}));
  ASSERT_TRUE(ek::find_pretokenizer("llama-bpe", &pre));
  EXPECT_EQ(ek::pretokenize("12345 I'M", pre.steps), (std::vector<std::string>{"123", "45", " I", "'M"}));
  EXPECT_FALSE(ek::find_pretokenizer("no-such-pre", &pre));
  EXPECT_TRUE(ek::pretokenize("", pre.steps).empty());
}

TEST(Unicode, ClassesAndUtf8) {
  EXPECT_EQ(ek::codepoint_class('a'), ek::kCpLetter);
  EXPECT_EQ(ek::codepoint_class('7'), ek::kCpNumber);
  EXPECT_EQ(ek::codepoint_class(' '), ek::kCpOther | ek::kCpWhitespace);
  EXPECT_EQ(ek::codepoint_class(0x3000), ek::kCpOther | ek::kCpWhitespace);
  EXPECT_EQ(ek::codepoint_class(0x0416), ek::kCpLetter);  // Ж
  EXPECT_EQ(ek::codepoint_class(0x0301), ek::kCpMark);
  EXPECT_EQ(ek::codepoint_class(0x00BF), ek::kCpPunct);  // ¿
  EXPECT_EQ(ek::codepoint_class(0x10FFFF), ek::kCpOther);
  EXPECT_EQ(ek::codepoint_class(0x110000), ek::kCpOther);
  EXPECT_EQ(ek::utf8_to_codepoints("a\xC3\xA9\xF0\x9F\xA6\x99"), (std::vector<uint32_t>{'a', 0xE9, 0x1F999}));
  EXPECT_EQ(ek::utf8_to_codepoints("\x80x\xE2\x82"), (std::vector<uint32_t>{0xFFFD, 'x', 0xFFFD, 0xFFFD}));
  for (int b = 0; b < 256; ++b) EXPECT_EQ(ek::codepoint_to_byte(ek::byte_to_codepoint(uint8_t(b))), b);
  EXPECT_EQ(ek::byte_to_codepoint(' '), 0x120u);  // Ġ
}

// --- tokenizer.bin ------------------------------------------------------------------------

std::string tempPath(const char* name) {
  const char* tmp = std::getenv("TMPDIR");
  return std::string(tmp ? tmp : "/tmp") + "/edgecc-tokenizer-test-" + std::to_string(::getpid()) + "-" + name;
}

ek::Vocab smallVocab() {
  ek::Vocab v;
  v.kind = ek::VocabKind::BPE;
  v.pre = "gpt-2";
  v.tokens = {"a", "b", "ab", "<|end|>", std::string("n\0ul", 4)};
  v.scores = {0.f, -1.f, -2.5f, 0.f, 3.f};
  v.token_types = {1, 1, 1, 3, 4};
  v.token_flags = {0, 0, 0, ek::kTokenRStrip, 0};
  v.merges = {"a b"};
  v.eog_ids = {3};
  v.bos = -1;
  v.eos = 3;
  v.pad = 3;
  v.add_eos = true;
  return v;
}

void expectSameVocab(const ek::Vocab& a, const ek::Vocab& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.pre, b.pre);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.scores, b.scores);
  EXPECT_EQ(a.token_types, b.token_types);
  EXPECT_EQ(a.token_flags, b.token_flags);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.eog_ids, b.eog_ids);
  EXPECT_EQ(std::vector<int32_t>({a.bos, a.eos, a.unk, a.pad}), std::vector<int32_t>({b.bos, b.eos, b.unk, b.pad}));
  EXPECT_EQ(a.add_bos, b.add_bos);
  EXPECT_EQ(a.add_eos, b.add_eos);
  EXPECT_EQ(a.add_space_prefix, b.add_space_prefix);
}

TEST(VocabFile, RoundTrip) {
  const std::string path = tempPath("small.bin");
  std::string error;
  const ek::Vocab v = smallVocab();
  ASSERT_TRUE(ek::write_vocab(path.c_str(), v, &error)) << error;
  ek::Vocab back;
  ASSERT_TRUE(ek::read_vocab(path.c_str(), &back, &error)) << error;
  expectSameVocab(v, back);
  std::remove(path.c_str());
}

TEST(VocabFile, RoundTripOfReferenceVocabsEncodesTheSame) {
  ASSERT_TRUE(haveReference());
  for (const char* name : {"llama-spm", "gpt-2", "phi-3"}) {
    auto v = loadVocab(name);
    ASSERT_TRUE(bool(v)) << llvm::toString(v.takeError());
    const std::string path = tempPath(name);
    std::string error;
    ASSERT_TRUE(ek::write_vocab(path.c_str(), *v, &error)) << error;
    ek::Vocab back;
    ASSERT_TRUE(ek::read_vocab(path.c_str(), &back, &error)) << error;
    std::remove(path.c_str());
    expectSameVocab(*v, back);
    const ek::Tokenizer a(*v), b(back);
    const std::string text = " Hello, y'all! 🦙 <|endoftext|>\n\t3333";
    EXPECT_EQ(a.encode(text, true, true), b.encode(text, true, true)) << name;
  }
}

TEST(VocabFile, TruncatedOrCorruptIsAnError) {
  const std::string bytes = ek::serialize_vocab(smallVocab());
  ek::Vocab out;
  std::string error;
  ASSERT_TRUE(ek::parse_vocab(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out, &error)) << error;
  for (size_t n = 0; n < bytes.size(); ++n) {
    error.clear();
    EXPECT_FALSE(ek::parse_vocab(reinterpret_cast<const uint8_t*>(bytes.data()), n, &out, &error)) << n;
    EXPECT_FALSE(error.empty()) << n;
  }
  std::string longer = bytes + "x";
  EXPECT_FALSE(ek::parse_vocab(reinterpret_cast<const uint8_t*>(longer.data()), longer.size(), &out, &error));
  EXPECT_NE(error.find("trailing"), std::string::npos) << error;
  for (size_t i = 0; i < bytes.size(); ++i) {  // any flipped byte: bad magic, version, size or checksum
    std::string bad = bytes;
    bad[i] = char(bad[i] ^ 0x40);
    EXPECT_FALSE(ek::parse_vocab(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), &out, &error)) << i;
  }

  // A truncated file on disk names the file.
  const std::string path = tempPath("truncated.bin");
  {
    std::ofstream f(path, std::ios::binary);
    f.write(bytes.data(), std::streamsize(bytes.size() / 2));
  }
  EXPECT_FALSE(ek::read_vocab(path.c_str(), &out, &error));
  EXPECT_NE(error.find(path + ": truncated tokenizer file"), std::string::npos) << error;
  std::remove(path.c_str());
  EXPECT_FALSE(ek::read_vocab((path + ".missing").c_str(), &out, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
}

// A checksum-valid payload with lying counts still fails cleanly (no huge allocation).
TEST(VocabFile, CorruptCountsAreAnError) {
  ek::Vocab v = smallVocab();
  std::string bytes = ek::serialize_vocab(v);
  // Payload layout: 4 flag bytes, 4 ids, then the counts; set the token count to 2^31.
  const size_t count_at = 32 + 4 + 16;
  bytes[count_at + 3] = char(0x80);
  const uint64_t sum = ek::fnv1a64(bytes.data() + 32, bytes.size() - 32);
  for (int i = 0; i < 8; ++i) bytes[24 + i] = char((sum >> (8 * i)) & 0xFF);
  ek::Vocab out;
  std::string error;
  EXPECT_FALSE(ek::parse_vocab(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &out, &error));
  EXPECT_NE(error.find("truncated tokenizer file (reading tokens)"), std::string::npos) << error;
}

// --- GGUF import errors ---------------------------------------------------------------------

// A minimal GGUF v3 writer: metadata only, no tensors.
struct GgufWriter {
  std::string out;
  uint64_t n_kv = 0;
  void raw(const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void str(const std::string& s) { u64(s.size()); out += s; }
  void key(const std::string& k, uint32_t type) { str(k); u32(type); ++n_kv; }
  void string(const std::string& k, const std::string& v) { key(k, 8); str(v); }
  void strings(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9);
    u32(8);
    u64(v.size());
    for (const std::string& s : v) str(s);
  }
  void floats(const std::string& k, const std::vector<float>& v) {
    key(k, 9);
    u32(6);
    u64(v.size());
    for (float f : v) raw(&f, 4);
  }
  void u32key(const std::string& k, uint32_t v) { key(k, 4); u32(v); }
  std::string file() const {
    std::string h = "GGUF";
    uint32_t version = 3;
    uint64_t tensors = 0;
    h.append(reinterpret_cast<const char*>(&version), 4);
    h.append(reinterpret_cast<const char*>(&tensors), 8);
    h.append(reinterpret_cast<const char*>(&n_kv), 8);
    return h + out;
  }
};

std::string importError(const GgufWriter& w) {
  const std::string path = tempPath("vocab.gguf");
  {
    std::ofstream f(path, std::ios::binary);
    const std::string bytes = w.file();
    f.write(bytes.data(), std::streamsize(bytes.size()));
  }
  auto file = edgecc::gguf::File::open(path);
  std::string result;
  if (!file) {
    result = "open: " + llvm::toString(file.takeError());
  } else {
    auto v = edgecc::vocabFromGguf(**file);
    result = v ? "ok" : llvm::toString(v.takeError());
  }
  std::remove(path.c_str());
  return result;
}

TEST(GgufVocab, ClearErrors) {
  {
    GgufWriter w;
    w.strings("tokenizer.ggml.tokens", {"a"});
    EXPECT_NE(importError(w).find("missing metadata 'tokenizer.ggml.model'"), std::string::npos) << importError(w);
  }
  {
    GgufWriter w;
    w.string("tokenizer.ggml.model", "bert");
    w.strings("tokenizer.ggml.tokens", {"a"});
    EXPECT_NE(importError(w).find("tokenizer model 'bert' (tokenizer.ggml.model) is not supported"), std::string::npos)
        << importError(w);
  }
  {
    GgufWriter w;
    w.string("tokenizer.ggml.model", "llama");
    EXPECT_NE(importError(w).find("missing metadata 'tokenizer.ggml.tokens'"), std::string::npos) << importError(w);
  }
  {
    GgufWriter w;
    w.string("tokenizer.ggml.model", "llama");
    w.strings("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
    w.floats("tokenizer.ggml.scores", {0, 0, 0});
    EXPECT_NE(importError(w).find("'tokenizer.ggml.scores' has 3 entries for 4 tokens"), std::string::npos)
        << importError(w);
  }
  {
    GgufWriter w;
    w.string("tokenizer.ggml.model", "gpt2");
    w.string("tokenizer.ggml.pre", "gpt-2");
    w.strings("tokenizer.ggml.tokens", {"a", "b", "ab"});
    EXPECT_NE(importError(w).find("missing metadata 'tokenizer.ggml.merges'"), std::string::npos) << importError(w);
    w.strings("tokenizer.ggml.merges", {"a b"});
    w.u32key("tokenizer.ggml.eos_token_id", 2);
    EXPECT_EQ(importError(w), "ok");
  }
}

}  // namespace
