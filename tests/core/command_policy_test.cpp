#include "tend/core/command_policy.hpp"

#include <gtest/gtest.h>

using namespace tend;

TEST(CommandPolicy, KnownLongRunningCommandsGetNoTimeout) {
  auto policy = CommandPolicy::standard();
  for (const char* cmd : {"npm run dev", "python -m http.server 8000", "python3 -m http.server", "uvicorn app:app",
                          "yarn start", "tail -f /var/log/syslog", "cargo watch -x test", "jest --watch"}) {
    EXPECT_EQ(policy.classify(cmd), CommandClass::long_running) << cmd;
    EXPECT_FALSE(policy.defaults_for(cmd).wall) << cmd;
  }
}

TEST(CommandPolicy, BuildsGetLongerTimeoutsThanQuickCommands) {
  auto policy = CommandPolicy::standard();
  for (const char* cmd : {"make -j8", "cmake --build build", "cargo build --release", "ninja -C build", "npm run build"}) {
    EXPECT_EQ(policy.classify(cmd), CommandClass::build) << cmd;
  }
  EXPECT_EQ(policy.classify("ls -la"), CommandClass::quick);
  EXPECT_EQ(policy.defaults_for("ls -la").wall, Duration(std::chrono::seconds(120)));
  EXPECT_GT(*policy.defaults_for("make").idle, *policy.defaults_for("ls").idle);
}

TEST(CommandPolicy, CustomRulesWin) {
  auto policy = CommandPolicy::standard();
  policy.add_rule(R"(^my-server\b)", CommandClass::long_running);
  EXPECT_EQ(policy.classify("my-server --port 1"), CommandClass::long_running);
  EXPECT_THROW(policy.add_rule("([", CommandClass::quick), PatternError);
}

TEST(CommandPolicy, ARememberedAnswerNeverOutlivesANewRule) {
  auto policy = CommandPolicy::standard();
  EXPECT_EQ(policy.classify("my-tool --check"), CommandClass::quick);
  EXPECT_EQ(policy.classify("my-tool --check"), CommandClass::quick);  // now remembered
  CommandPolicy before = policy;
  policy.add_rule(R"(^my-tool\b)", CommandClass::long_running);
  EXPECT_EQ(policy.classify("my-tool --check"), CommandClass::long_running);
  EXPECT_EQ(before.classify("my-tool --check"), CommandClass::quick);  // a copy keeps its own table
  before.add_rule(R"(^my-tool\b)", CommandClass::build);
  EXPECT_EQ(before.classify("my-tool --check"), CommandClass::build);
  EXPECT_EQ(policy.classify("my-tool --check"), CommandClass::long_running);
}

TEST(CommandPolicy, ManyDistinctCommandsStayCorrectPastTheMemoCapacity) {
  auto policy = CommandPolicy::standard();
  for (int i = 0; i < 10000; ++i) {
    std::string quick = "echo " + std::to_string(i);
    std::string server = "npm run dev -- --port " + std::to_string(i);
    ASSERT_EQ(policy.classify(quick), CommandClass::quick) << quick;
    ASSERT_EQ(policy.classify(server), CommandClass::long_running) << server;
  }
}

TEST(CommandPolicy, AWatcherOfABuildToolIsLongRunningAndTheToolAloneABuild) {
  auto policy = CommandPolicy::standard();
  EXPECT_EQ(policy.classify("tsc --watch"), CommandClass::long_running);
  EXPECT_EQ(policy.classify("npx tsc -p . --watch --pretty"), CommandClass::long_running);
  EXPECT_EQ(policy.classify("tsc -p ."), CommandClass::build);
}

TEST(CommandPolicy, ACommandLineOfMegabytesIsClassifiedWithoutExhaustingTheStack) {
  // std::regex recursed once per character here (a lookahead with .* over
  // the rest of the line): 200 KB of arguments killed the daemon.
  auto policy = CommandPolicy::standard();
  EXPECT_EQ(policy.classify("tsc " + std::string(2 << 20, 'a')), CommandClass::build);
  EXPECT_EQ(policy.classify(std::string(2 << 20, 'a') + " --watch"), CommandClass::long_running);
}
