// The command line does what a user means (issue 14): repeatable options
// before `--`, task references, durations, names and what tables print.

#include <gtest/gtest.h>

#include "cli/cli_support.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CliArguments, ARepeatableOptionRightBeforeTheCommandLeavesTheCommandAlone) {
  TendHome home;
  auto one = home.tend({"run", "--wait", "--env", "A=1", "--", "sh", "-c", "echo $A"});
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_EQ(one.out, "1\n");
  auto two = home.tend({"run", "--wait", "--env", "A=1", "--env", "B=2", "--", "sh", "-c", "echo $A$B"});
  EXPECT_EQ(two.exit_code, 0) << two.err;
  EXPECT_EQ(two.out, "12\n");
  auto after = home.tend({"run", "--wait", "--after", "1", "--after", "2", "--", "sh", "-c", "echo after"});
  EXPECT_EQ(after.exit_code, 0) << after.err;
  EXPECT_EQ(after.out, "after\n");
}

TEST(CliArguments, AnEmptyTaskReferenceIsAUsageErrorAndStopsNothing) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).exit_code, 0);
  for (const char* command : {"kill", "status", "logs", "wait", "rm", "pause", "send"}) {
    std::vector<std::string> args = {command, ""};
    if (std::string(command) == "send") args.push_back("text");
    auto r = home.tend(args);
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.out << r.err;
    EXPECT_TRUE(has(r.err, "empty task reference")) << command << ": " << r.err;
  }
  EXPECT_EQ(state_of(home, "1"), "running");
  EXPECT_EQ(home.tend({"kill", "1"}).exit_code, 0);
}

TEST(CliArguments, IdsNoTaskCanHaveAreNoTaskNotACrash) {
  TendHome home;
  for (const char* id : {"99999999999999999999", "9223372036854775808", "0"}) {
    auto r = home.tend({"logs", id});
    EXPECT_EQ(r.exit_code, 2) << id << ": " << r.err;
    EXPECT_TRUE(has(r.err, std::string("tend: no task ") + id)) << r.err;
  }
  auto named = home.tend({"kill", "-5"});
  EXPECT_EQ(named.exit_code, 2) << named.err;
}

TEST(CliArguments, DurationsOverAHundredYearsAreRefusedNamingTheLimit) {
  TendHome home;
  auto run = home.tend({"run", "--wait", "--timeout", "2562048h", "--", "true"});
  EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
  EXPECT_TRUE(has(run.err, "--timeout: \"2562048h\" is longer than the limit of 100 years")) << run.err;
  for (const char* option : {"--idle-timeout", "--ready-timeout", "--grace"}) {
    auto r = home.tend({"run", option, "99999999999d", "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << option << ": " << r.err;
    EXPECT_TRUE(has(r.err, "100 years")) << option << ": " << r.err;
  }
  // Only the refused ones: nothing was started.
  EXPECT_EQ(home.tend_json({"ls", "--json"})["tasks"].size(), 0u);
  auto fine = home.tend({"run", "--wait", "--timeout", "36500d", "--", "true"});
  EXPECT_EQ(fine.exit_code, 0) << fine.err;
  EXPECT_EQ(state_of(home, "1"), "succeeded");
}

TEST(CliArguments, AnEmptyDurationIsRefusedNotIgnored) {
  TendHome home;
  auto run = home.tend({"run", "--timeout", "", "--", "true"});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_TRUE(has(run.err, "--timeout: invalid duration \"\"")) << run.err;
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).exit_code, 0);
  auto wait = home.tend({"wait", "1", "--timeout", ""});
  EXPECT_EQ(wait.exit_code, 2) << wait.err;
  auto kill = home.tend({"kill", "1", "--grace", ""});
  EXPECT_EQ(kill.exit_code, 2) << kill.err;
  EXPECT_EQ(state_of(home, "1"), "running");
  EXPECT_EQ(home.tend({"kill", "1"}).exit_code, 0);
}

TEST(CliArguments, TheDaemonRefusesTimeoutsPastTheLimitFromAnyClient) {
  TendHome home;
  home.tend({"daemon", "start"});
  RawConnection c(home.socket());
  ASSERT_TRUE(c.connected());
  for (const json& ms : {json(9223372036854775807LL), json(18446744073709551615ULL), json(-1)}) {
    json r = c.call("task.run", {{"argv", {"true"}}, {"timeout_ms", ms}});
    ASSERT_TRUE(r.contains("error")) << r.dump();
    EXPECT_EQ(r["error"]["code"], -32602);
    EXPECT_TRUE(has(r["error"]["message"], "\"timeout_ms\"")) << r.dump();
  }
  json r = c.call("task.run", {{"argv", {"true"}}, {"timeout_ms", 9223372036854775807LL}});
  EXPECT_TRUE(has(r["error"]["message"], "100 years")) << r.dump();
  EXPECT_EQ(c.call("task.list", json::object())["result"]["tasks"].size(), 0u);
}

TEST(CliArguments, NamesWithControlCharactersSlashesOrTooManyBytesAreRefused) {
  TendHome home;
  for (const std::string& name : {std::string("a\nb"), std::string("\x1b[2Jgone"), std::string("web/dev"),
                                  std::string(65, 'n'), std::string("123")}) {
    auto r = home.tend({"run", "--name", name, "--", "true"});
    EXPECT_EQ(r.exit_code, 2) << escape_controls(name) << ": " << r.err;
    EXPECT_TRUE(has(r.err, "invalid params: \"name\"")) << r.err;
  }
  EXPECT_EQ(home.tend_json({"ls", "--json"})["tasks"].size(), 0u);
  RawConnection c(home.socket());
  json r = c.call("task.run", {{"argv", {"true"}}, {"name", ""}});
  EXPECT_EQ(r["error"]["code"], -32602) << r.dump();
  EXPECT_TRUE(has(r["error"]["message"], "\"name\" is empty")) << r.dump();
  EXPECT_EQ(home.tend({"run", "--wait", "--name", "café-日本", "--", "true"}).exit_code, 0);
}

TEST(CliArguments, TablesShowControlCharactersAsEscapesNotRawBytes) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", "exit 3", "x\n1 fake succeeded", "\x1b[2J"}).exit_code, 3);
  auto ls = home.tend({"ls"});
  EXPECT_EQ(ls.exit_code, 0);
  EXPECT_FALSE(has(ls.out, "\x1b")) << ls.out;
  EXPECT_FALSE(has(ls.out, "\n1 fake")) << ls.out;
  EXPECT_TRUE(has(ls.out, "x\\n1 fake succeeded")) << ls.out;
  EXPECT_TRUE(has(ls.out, "\\x1b[2J")) << ls.out;
  auto status = home.tend({"status", "1"});
  EXPECT_FALSE(has(status.out, "\x1b")) << status.out;
  EXPECT_TRUE(has(status.out, "x\\n1 fake succeeded")) << status.out;
}

TEST(CliArguments, ALiveTasksNameIsItsOwnUntilItEndsOrIsReplaced) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--name", "dup", "--", "true"}).exit_code, 0);  // 1, ended
  ASSERT_EQ(home.tend({"run", "--name", "dup", "--", "sleep", "60"}).exit_code, 0);     // 2, live
  auto second = home.tend({"run", "--name", "dup", "--", "sleep", "60"});
  EXPECT_EQ(second.exit_code, 2) << second.out << second.err;
  EXPECT_TRUE(has(second.err, "task 2")) << second.err;
  EXPECT_EQ(home.tend_json({"ls", "--json"})["tasks"].size(), 2u);
  // A name refers to its live task, not the newest.
  EXPECT_EQ(home.tend_json({"status", "dup", "--json"})["id"], 2);

  auto replaced = home.tend({"run", "--name", "dup", "--replace", "--", "sleep", "60"});
  EXPECT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(replaced.out, "3\n");
  EXPECT_EQ(state_of(home, "2"), "killed");
  EXPECT_EQ(state_of(home, "dup"), "running");
  EXPECT_EQ(home.tend_json({"status", "dup", "--json"})["id"], 3);
  EXPECT_EQ(home.tend({"run", "--replace", "--", "true"}).exit_code, 2);  // --replace needs --name
  EXPECT_EQ(home.tend({"kill", "dup"}).exit_code, 0);
  EXPECT_EQ(state_of(home, "3"), "killed");
  // Ended, the name is free again, and refers to the newest that ended.
  EXPECT_EQ(home.tend_json({"status", "dup", "--json"})["id"], 3);
  EXPECT_EQ(home.tend({"run", "--wait", "--name", "dup", "--", "true"}).exit_code, 0);
  EXPECT_EQ(home.tend_json({"status", "dup", "--json"})["id"], 4);
}

}  // namespace
}  // namespace tend::test
