#include "tend/process/stop_ladder.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include "tend/process/signals.hpp"

using namespace tend::process;
using namespace std::chrono_literals;

TEST(Signals, ParsesNamesAndNumbers) {
  EXPECT_EQ(parse_signal("TERM"), SIGTERM);
  EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(parse_signal("sigint"), SIGINT);
  EXPECT_EQ(parse_signal("15"), 15);
  EXPECT_FALSE(parse_signal(""));
  EXPECT_FALSE(parse_signal("TERMINATE"));
  EXPECT_FALSE(parse_signal("0"));
  EXPECT_FALSE(parse_signal("999"));
  EXPECT_FALSE(parse_signal("15x"));
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(99), "signal 99");
}

TEST(StopLadder, StandardIsTermGraceKill) {
  auto ladder = StopLadder::standard();
  ASSERT_EQ(ladder.steps.size(), 2u);
  EXPECT_EQ(ladder.steps[0].signal, SIGTERM);
  EXPECT_EQ(ladder.steps[0].wait, 5000ms);
  EXPECT_EQ(ladder.steps[1].signal, SIGKILL);
}

TEST(StopLadder, ParsesTermseqAndAlwaysEndsInKill) {
  auto ladder = StopLadder::parse("INT,200,TERM,1s");
  ASSERT_TRUE(ladder);
  ASSERT_EQ(ladder->steps.size(), 3u);
  EXPECT_EQ(ladder->steps[0].signal, SIGINT);
  EXPECT_EQ(ladder->steps[0].wait, 200ms);
  EXPECT_EQ(ladder->steps[1].wait, 1000ms);
  EXPECT_EQ(ladder->steps[2].signal, SIGKILL);
  EXPECT_EQ(StopLadder::parse("TERM,5000,KILL,25")->to_string(), "TERM,5000,KILL,25");
}

TEST(StopLadder, RejectsNonsense) {
  EXPECT_FALSE(StopLadder::parse(""));
  EXPECT_FALSE(StopLadder::parse("BOGUS,100"));
  EXPECT_FALSE(StopLadder::parse("TERM,-5"));
  // Found by fuzz/signal_fuzzer.cpp: a wait too long for milliseconds was undefined behaviour.
  EXPECT_FALSE(StopLadder::parse("INT,1111111111111111111111m"));
  EXPECT_FALSE(StopLadder::parse("INT,1e300s"));
  EXPECT_FALSE(StopLadder::parse("TERM,abc"));
  EXPECT_FALSE(StopLadder::parse("TERM,100,"));
}
