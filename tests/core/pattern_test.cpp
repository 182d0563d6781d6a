#include "tend/core/pattern.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace tend;

namespace {
std::string refusal(const std::string& text) {
  try {
    Pattern p(text);
  } catch (const PatternError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(Pattern, FindsAMatchAnywhereInTheSubjectAsRegexSearchDid) {
  Pattern p(R"(listening on (port )?\d+)");
  EXPECT_TRUE(p.search("2026-01-01 server listening on port 8080 now"));
  EXPECT_TRUE(p.search("listening on 3000"));
  EXPECT_FALSE(p.search("listening on port"));
  EXPECT_TRUE(Pattern("^(gamma|delta)$").search("delta"));
  EXPECT_FALSE(Pattern("^(gamma|delta)$").search("a delta"));
  EXPECT_TRUE(Pattern("(?i)error").search("ERROR: disk"));
  EXPECT_EQ(p.text(), R"(listening on (port )?\d+)");
}

TEST(Pattern, ABackreferenceIsRefusedNamingThePatternAndWhy) {
  std::string what = refusal(R"((a)\1)");
  EXPECT_NE(what.find(R"("(a)\1")"), std::string::npos) << what;
  EXPECT_NE(what.find("backreferences"), std::string::npos) << what;
  EXPECT_NE(what.find("not supported"), std::string::npos) << what;
}

TEST(Pattern, LookaroundIsRefusedSayingSo) {
  std::string what = refusal("foo(?!bar)");
  EXPECT_NE(what.find("lookahead"), std::string::npos) << what;
  EXPECT_NE(what.find("\"foo(?!bar)\""), std::string::npos) << what;
}

TEST(Pattern, BadSyntaxIsRefusedWithTheEnginesReason) {
  std::string what = refusal("([");
  EXPECT_NE(what.find("\"([\""), std::string::npos) << what;
  EXPECT_NE(what.find("missing"), std::string::npos) << what;
}

TEST(Pattern, APatternOverTheLimitIsRefusedNamingTheLimitNotPrintingItWhole) {
  EXPECT_NO_THROW(Pattern(std::string(Pattern::max_length, 'x')));
  std::string what = refusal(std::string(100000, 'x'));
  EXPECT_NE(what.find("limit of 4096 bytes"), std::string::npos) << what;
  EXPECT_NE(what.find("100000 bytes"), std::string::npos) << what;
  EXPECT_LT(what.size(), 300u) << what;
}

TEST(Pattern, AnErrorShowsControlCharactersEscapedNotRaw) {
  std::string what = refusal("\x1b]0;owned\x07(");
  EXPECT_EQ(what.find('\x1b'), std::string::npos);
  EXPECT_NE(what.find("\\x1b"), std::string::npos) << what;
}

TEST(Pattern, PatternsThatMakeABacktrackerExplodeRunInLinearTimeOnLongLines) {
  // std::regex recursed per character on these (a 200 KB line overflowed
  // the daemon's stack) or took exponential time.
  const std::string line(2 << 20, 'a');
  EXPECT_FALSE(Pattern("a+b").search(line));
  EXPECT_FALSE(Pattern("(a|aa)+b").search(line));
  EXPECT_FALSE(Pattern("(a*)*b").search(line));
  EXPECT_TRUE(Pattern("(.*)a$").search(line));
  EXPECT_FALSE(Pattern("(x+x+)+y").search(std::string(100000, 'x')));
}

TEST(Pattern, DeeplyNestedGroupsWithinTheLimitCompileOrAreRefusedWithoutCrashing) {
  std::string nested = std::string(2000, '(') + "a" + std::string(2000, ')');
  EXPECT_TRUE(Pattern(nested).search("xa"));
  std::string repeats = "((a{100}){100}){100}";
  EXPECT_THROW(Pattern{repeats}, PatternError);
}

TEST(Pattern, CopiesShareTheCompiledProgram) {
  Pattern a("b+");
  Pattern b = a;
  EXPECT_TRUE(b.search("abbbc"));
  EXPECT_EQ(b.text(), "b+");
}
