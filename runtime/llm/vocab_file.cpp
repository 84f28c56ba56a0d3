// tokenizer.bin:
//   header (32 bytes): magic "EDGECCT1", u32 version, u32 reserved (0), u64 payload bytes,
//                      u64 FNV-1a 64 of the payload
//   payload: u8 kind, u8 add_bos, u8 add_eos, u8 add_space_prefix; i32 bos, eos, unk, pad;
//            u32 counts of tokens, scores, types, flags, merges, eog ids; string pre;
//            tokens (strings); scores (f32); types (i32); flags (u8); merges (strings);
//            eog ids (i32).  A string is a u32 byte length and the bytes. All little-endian.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <utility>

#include "runtime/llm/vocab.h"
#include "runtime/weights_format.h"

namespace ek {

namespace {

constexpr char kVocabMagic[8] = {'E', 'D', 'G', 'E', 'C', 'C', 'T', '1'};
constexpr uint32_t kVocabVersion = 1;
constexpr size_t kHeaderBytes = 32;

struct Writer {
  std::string out;
  void u8(uint8_t v) { out.push_back(char(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(char((v >> (8 * i)) & 0xFF));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(char((v >> (8 * i)) & 0xFF));
  }
  void i32(int32_t v) { u32(uint32_t(v)); }
  void f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    u32(bits);
  }
  void str(const std::string& s) {
    u32(uint32_t(s.size()));
    out += s;
  }
};

// Reads with bounds checks; the first failure sticks and later reads return zeros.
struct Reader {
  const uint8_t* p;
  size_t left;
  std::string why;

  bool need(size_t n, const char* what) {
    if (!why.empty()) return false;
    if (n > left) {
      why = std::string("truncated tokenizer file (reading ") + what + ")";
      return false;
    }
    return true;
  }
  uint8_t u8(const char* what) {
    if (!need(1, what)) return 0;
    --left;
    return *p++;
  }
  uint32_t u32(const char* what) {
    if (!need(4, what)) return 0;
    uint32_t v = uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
    p += 4;
    left -= 4;
    return v;
  }
  uint64_t u64(const char* what) {
    const uint64_t lo = u32(what);
    return lo | uint64_t(u32(what)) << 32;
  }
  int32_t i32(const char* what) { return int32_t(u32(what)); }
  float f32(const char* what) {
    const uint32_t bits = u32(what);
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  std::string str(const char* what) {
    const uint32_t n = u32(what);
    if (!need(n, what)) return {};
    std::string s(reinterpret_cast<const char*>(p), n);
    p += n;
    left -= n;
    return s;
  }
  // A count of items of at least `min_bytes` each must fit in what is left: a corrupt count
  // fails here instead of allocating.
  bool fits(uint32_t count, size_t min_bytes, const char* what) { return need(size_t(count) * min_bytes, what); }
};

}  // namespace

bool validate_vocab(const Vocab& v, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (v.kind != VocabKind::SPM && v.kind != VocabKind::BPE)
    return fail("unknown vocabulary kind " + std::to_string(int(v.kind)));
  const size_t n = v.tokens.size();
  if (n == 0) return fail("the vocabulary has no tokens");
  if (n > size_t(INT32_MAX)) return fail("too many tokens");
  if (!v.scores.empty() && v.scores.size() != n)
    return fail(std::to_string(v.scores.size()) + " scores for " + std::to_string(n) + " tokens");
  if (!v.token_types.empty() && v.token_types.size() != n)
    return fail(std::to_string(v.token_types.size()) + " token types for " + std::to_string(n) + " tokens");
  if (!v.token_flags.empty() && v.token_flags.size() != n)
    return fail(std::to_string(v.token_flags.size()) + " token flags for " + std::to_string(n) + " tokens");
  auto outside = [&](int32_t id, const char* what) {
    return fail(std::string(what) + " id " + std::to_string(id) + " is outside the vocabulary (" +
                std::to_string(n) + " tokens)");
  };
  auto valid = [&](int32_t id) { return id >= 0 && size_t(id) < n; };
  const std::pair<int32_t, const char*> specials[] = {{v.bos, "bos"}, {v.eos, "eos"}, {v.unk, "unk"}, {v.pad, "pad"}};
  for (const auto& [id, what] : specials)
    if (id != -1 && !valid(id)) return outside(id, what);
  for (int32_t id : v.eog_ids)
    if (!valid(id)) return outside(id, "end-of-generation");
  return true;
}

std::string serialize_vocab(const Vocab& v) {
  Writer w;
  w.u8(uint8_t(v.kind));
  w.u8(v.add_bos);
  w.u8(v.add_eos);
  w.u8(v.add_space_prefix);
  for (int32_t id : {v.bos, v.eos, v.unk, v.pad}) w.i32(id);
  for (size_t count : {v.tokens.size(), v.scores.size(), v.token_types.size(), v.token_flags.size(), v.merges.size(),
                       v.eog_ids.size()})
    w.u32(uint32_t(count));
  w.str(v.pre);
  for (const std::string& t : v.tokens) w.str(t);
  for (float s : v.scores) w.f32(s);
  for (int32_t t : v.token_types) w.i32(t);
  for (uint8_t f : v.token_flags) w.u8(f);
  for (const std::string& m : v.merges) w.str(m);
  for (int32_t id : v.eog_ids) w.i32(id);

  Writer h;
  h.out.assign(kVocabMagic, sizeof kVocabMagic);
  h.u32(kVocabVersion);
  h.u32(0);
  h.u64(w.out.size());
  h.u64(fnv1a64(w.out.data(), w.out.size()));
  return h.out + w.out;
}

bool parse_vocab(const uint8_t* bytes, size_t n, Vocab* out, std::string* error) {
  auto fail = [&](const std::string& why) {
    if (error) *error = why;
    return false;
  };
  if (n < kHeaderBytes) return fail("truncated tokenizer file (no header)");
  if (std::memcmp(bytes, kVocabMagic, sizeof kVocabMagic) != 0) return fail("not an edgecc tokenizer file (bad magic)");
  Reader h{bytes + 8, kHeaderBytes - 8, {}};
  const uint32_t version = h.u32("version");
  const uint32_t reserved = h.u32("reserved");
  const uint64_t payload_bytes = h.u64("payload size");
  const uint64_t checksum = h.u64("checksum");
  if (version != kVocabVersion)
    return fail("tokenizer format version " + std::to_string(version) + ", expected " + std::to_string(kVocabVersion));
  if (reserved != 0) return fail("tokenizer file header has nonzero reserved bits (corrupted file?)");
  if (payload_bytes > n - kHeaderBytes) return fail("truncated tokenizer file");
  if (payload_bytes < n - kHeaderBytes) return fail("tokenizer file has trailing bytes");
  const uint8_t* payload = bytes + kHeaderBytes;
  if (fnv1a64(payload, size_t(payload_bytes)) != checksum) return fail("tokenizer checksum mismatch (corrupted file)");

  Reader r{payload, size_t(payload_bytes), {}};
  Vocab v;
  v.kind = VocabKind(r.u8("kind"));
  v.add_bos = r.u8("flags") != 0;
  v.add_eos = r.u8("flags") != 0;
  v.add_space_prefix = r.u8("flags") != 0;
  v.bos = r.i32("special ids");
  v.eos = r.i32("special ids");
  v.unk = r.i32("special ids");
  v.pad = r.i32("special ids");
  const uint32_t n_tokens = r.u32("counts"), n_scores = r.u32("counts"), n_types = r.u32("counts"),
                 n_flags = r.u32("counts"), n_merges = r.u32("counts"), n_eog = r.u32("counts");
  v.pre = r.str("pre-tokenizer name");
  if (r.fits(n_tokens, 4, "tokens")) {
    v.tokens.reserve(n_tokens);
    for (uint32_t i = 0; i < n_tokens && r.why.empty(); ++i) v.tokens.push_back(r.str("tokens"));
  }
  if (r.fits(n_scores, 4, "scores")) {
    v.scores.resize(n_scores);
    for (float& s : v.scores) s = r.f32("scores");
  }
  if (r.fits(n_types, 4, "token types")) {
    v.token_types.resize(n_types);
    for (int32_t& t : v.token_types) t = r.i32("token types");
  }
  if (r.fits(n_flags, 1, "token flags")) {
    v.token_flags.resize(n_flags);
    for (uint8_t& f : v.token_flags) f = r.u8("token flags");
  }
  if (r.fits(n_merges, 4, "merges")) {
    v.merges.reserve(n_merges);
    for (uint32_t i = 0; i < n_merges && r.why.empty(); ++i) v.merges.push_back(r.str("merges"));
  }
  if (r.fits(n_eog, 4, "end-of-generation ids")) {
    v.eog_ids.resize(n_eog);
    for (int32_t& id : v.eog_ids) id = r.i32("end-of-generation ids");
  }
  if (!r.why.empty()) return fail(r.why);
  if (r.left != 0) return fail("tokenizer payload has " + std::to_string(r.left) + " unread bytes");
  std::string why;
  if (!validate_vocab(v, &why)) return fail("invalid tokenizer file: " + why);
  *out = std::move(v);
  return true;
}

bool write_vocab(const char* path, const Vocab& vocab, std::string* error) {
  std::string why;
  if (!validate_vocab(vocab, &why)) {
    if (error) *error = std::string(path) + ": " + why;
    return false;
  }
  const std::string bytes = serialize_vocab(vocab);
  std::FILE* f = std::fopen(path, "wb");
  bool ok = f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (f) ok = std::fclose(f) == 0 && ok;
  if (!ok && error) *error = std::string(path) + ": cannot write tokenizer file";
  return ok;
}

bool read_vocab(const char* path, Vocab* vocab, std::string* error) {
  std::FILE* f = std::fopen(path, "rb");
  if (!f) {
    if (error) *error = std::string(path) + ": cannot open tokenizer file";
    return false;
  }
  std::string bytes;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) bytes.append(buf, got);
  const bool read_error = std::ferror(f) != 0;
  std::fclose(f);
  std::string why = "cannot read tokenizer file";
  if (read_error || !parse_vocab(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), vocab, &why)) {
    if (error) *error = std::string(path) + ": " + why;
    return false;
  }
  return true;
}

}  // namespace ek
