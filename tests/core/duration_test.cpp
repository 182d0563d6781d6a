#include "tend/core/duration.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace tend;
using namespace std::chrono_literals;

TEST(Duration, ParsesTheUnitsPeopleType) {
  EXPECT_EQ(parse_duration("500ms"), Duration(500));
  EXPECT_EQ(parse_duration("30s"), Duration(30s));
  EXPECT_EQ(parse_duration("1.5s"), Duration(1500));
  EXPECT_EQ(parse_duration("5m"), Duration(5min));
  EXPECT_EQ(parse_duration("1h"), Duration(1h));
  EXPECT_EQ(parse_duration("1m30s"), Duration(90s));
  EXPECT_EQ(parse_duration("10"), Duration(10s));
  EXPECT_EQ(parse_duration("0"), Duration(0));
}

TEST(Duration, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "5x", "-1s", "s", "1s5", "1..5s", "abc", ".", "1e999h", "99999999999999999d"}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
}

TEST(Duration, RejectsANumberTooLargeForADoubleWithoutThrowing) {
  // Found by fuzz/duration_fuzzer.cpp: std::stod threw std::out_of_range.
  EXPECT_FALSE(parse_duration("5" + std::string(400, '0')));
  EXPECT_FALSE(parse_duration("5" + std::string(400, '0') + "ms"));
}

TEST(Duration, FormatsReadably) {
  EXPECT_EQ(format_duration(Duration(250)), "250ms");
  EXPECT_EQ(format_duration(Duration(30s)), "30s");
  EXPECT_EQ(format_duration(Duration(1500)), "1.5s");
  EXPECT_EQ(format_duration(Duration(5min)), "5m");
  EXPECT_EQ(format_duration(Duration(3723s)), "1h2m3s");
}
