#include "tend/core/terminal_text.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace tend;

TEST(TerminalText, EscapeControlsMakesControlBytesVisible) {
  EXPECT_EQ(escape_controls("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(escape_controls("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(escape_controls(std::string("nul\0", 4)), "nul\\x00");
  EXPECT_EQ(escape_controls("del\x7f"), "del\\x7f");
  EXPECT_EQ(escape_controls("c1\xc2\x9b"), "c1\\u009b");
}

TEST(TerminalText, EscapeControlsKeepsPrintableUtf8AndShowsInvalidBytes) {
  EXPECT_EQ(escape_controls("café 日本 \\n"), "café 日本 \\n");
  EXPECT_EQ(escape_controls("bad\xff\xfe"), "bad\\xff\\xfe");
  EXPECT_EQ(escape_controls("cut\xe6\x97"), "cut\\xe6\\x97");
  EXPECT_EQ(escape_controls("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate
}
