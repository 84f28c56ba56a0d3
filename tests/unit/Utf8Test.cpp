// Generation output helpers: JSON strings stay valid UTF-8 whatever bytes a model emits, and
// streaming never splits a character. Expected values are written out by hand from RFC 3629.
#include <gtest/gtest.h>

#include <string>

#include "runtime/llm/json_output.h"
#include "runtime/llm/utf8.h"

namespace {

TEST(Utf8, AcceptsWellFormedSequences) {
  EXPECT_EQ(ek::utf8_length("a", 0), 1u);
  EXPECT_EQ(ek::utf8_length("\xC3\xA9", 0), 2u);          // é
  EXPECT_EQ(ek::utf8_length("\xE2\x96\x81", 0), 3u);      // ▁
  EXPECT_EQ(ek::utf8_length("\xF0\x9F\x98\x80", 0), 4u);  // 😀
  EXPECT_EQ(ek::utf8_length("\xF4\x8F\xBF\xBF", 0), 4u);  // U+10FFFF, the last code point
}

TEST(Utf8, RejectsIllFormedSequences) {
  for (const char* bad : {"\x80", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80", "\xF0\x80\x80\x80",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\xC3", "\xE2\x96"})
    EXPECT_EQ(ek::utf8_length(bad, 0), 0u) << "accepted an ill-formed sequence";
}

TEST(Utf8, JsonReplacesBadBytesAndEscapes) {
  EXPECT_EQ(ek::json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
  EXPECT_EQ(ek::json_string("\xED\xA0\x80x"), "\"\\ufffd\\ufffd\\ufffdx\"");  // a surrogate: three bad bytes
  EXPECT_EQ(ek::json_string("\xC3\xA9"), "\"\xC3\xA9\"");
}

TEST(Utf8, StreamHoldsBackIncompleteCharacters) {
  ek::Utf8Stream s;
  EXPECT_EQ(s.push("ab\xE2"), "ab");
  EXPECT_EQ(s.push("\x96"), "");
  EXPECT_EQ(s.push("\x81" "c"), "\xE2\x96\x81" "c");
  EXPECT_EQ(s.push("\xF0\x9F"), "");
  EXPECT_EQ(s.flush(), "\xF0\x9F");
}

}  // namespace
