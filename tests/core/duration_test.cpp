#include "tend/core/duration.hpp"

#include <gtest/gtest.h>

#include <limits>
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

TEST(Duration, AnythingOverAHundredYearsIsRefusedNamingTheLimit) {
  // 2562048h is just past 2^63-1 ns: before, it passed and a task given it
  // ended at once as timed out (now + timeout wrapped to the past).
  for (const char* too_long : {"2562048h", "36525d1ms", "99999999999999999d", "5" "000000000000000000000000s"}) {
    try {
      duration_of_text(too_long);
      ADD_FAILURE() << too_long << " was taken";
    } catch (const DurationError& e) {
      EXPECT_NE(std::string(e.what()).find("longer than the limit of 100 years"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(duration_of_text("36524d"), Duration(36524 * 24h));
  EXPECT_EQ(kMaxDuration, std::chrono::duration_cast<Duration>(std::chrono::years(100)));
}

TEST(Duration, AnEmptyDurationIsAnErrorNotNone) {
  EXPECT_THROW(duration_of_text(""), DurationError);
  EXPECT_FALSE(parse_duration(""));
}

TEST(Duration, MillisecondsFromAClientAreCheckedAgainstTheSameLimit) {
  EXPECT_EQ(duration_of_ms(0), Duration(0));
  EXPECT_EQ(duration_of_ms(kMaxDuration.count()), kMaxDuration);
  EXPECT_THROW(duration_of_ms(kMaxDuration.count() + 1), DurationError);
  EXPECT_THROW(duration_of_ms(std::numeric_limits<std::int64_t>::max()), DurationError);
  EXPECT_THROW(duration_of_ms(-1), DurationError);
}

TEST(Duration, SecondsFromAClientRefuseNanInfinityNegativesAndTheTooLong) {
  EXPECT_EQ(duration_of_seconds(1.5), Duration(1500));
  EXPECT_EQ(duration_of_seconds(0), Duration(0));
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity(), -0.5, 1e10, 1e300}) {
    EXPECT_THROW(duration_of_seconds(bad), DurationError) << bad;
  }
  try {
    duration_of_seconds(1e10);
  } catch (const DurationError& e) {
    EXPECT_NE(std::string(e.what()).find("100 years"), std::string::npos) << e.what();
  }
}
