// JSON for generation results, shared by the bundle's model_generate tool and example apps:
// {"prompt_ids", "ids", "text", "prefill_tok_s", "decode_tok_s", "load_ms", "peak_rss_bytes"}.
#pragma once
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "runtime/llm/generate.h"
#include "runtime/llm/utf8.h"

namespace ek {

// A JSON string; bytes that are not valid UTF-8 (a model may emit any bytes) become U+FFFD.
inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = utf8_length(s, i);
    if (n == 0) { out += "\\ufffd"; ++i; continue; }
    if (c == '"' || c == '\\') { out += '\\'; out += char(c); }
    else if (c < 0x20) { char buf[8]; std::snprintf(buf, sizeof buf, "\\u%04x", c); out += buf; }
    else out.append(s, i, n);
    i += n;
  }
  return out + "\"";
}

inline std::string json_ids(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

// Peak resident memory of this process (Linux reports kilobytes).
inline long long peak_rss_bytes() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (long long)usage.ru_maxrss * 1024;
}

inline std::string generation_json(const std::vector<int32_t>& prompt_ids, const std::vector<int32_t>& ids,
                                   const std::string& text, const GenerateStats& stats, double load_ms) {
  char numbers[256];
  std::snprintf(numbers, sizeof numbers,
                "\"prefill_tok_s\": %.3f, \"decode_tok_s\": %.3f, \"load_ms\": %.3f, \"peak_rss_bytes\": %lld",
                stats.prefill_tok_s(), stats.decode_tok_s(), load_ms, peak_rss_bytes());
  return "{\"prompt_ids\": " + json_ids(prompt_ids) + ", \"ids\": " + json_ids(ids) + ", \"text\": " + json_string(text) +
         ", " + numbers + "}";
}

}  // namespace ek
