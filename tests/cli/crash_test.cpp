#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>

#include "cli/cli_support.hpp"

using namespace tend;
using namespace tend::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Every line is the next integer from 0: no value missing, none twice.
::testing::AssertionResult counts_without_gaps(const std::string& text, long& last) {
  std::istringstream in(text);
  std::string line;
  long expected = 0;
  while (std::getline(in, line)) {
    if (in.eof() && !text.empty() && text.back() != '\n') break;  // a line cut by the kill
    if (line != std::to_string(expected)) {
      return ::testing::AssertionFailure() << "expected " << expected << ", found \"" << line << "\"";
    }
    ++expected;
  }
  last = expected - 1;
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(Crash, SigkillOfTheDaemonLosesNoTaskAndNoByte) {
  TendHome home;
  // A pause every 1000 lines bounds the output (and so the test's time) by
  // the clock, not by how fast the daemon drains it: under ASan a slow daemon
  // let unthrottled counters write gigabytes and the test ran past its limit.
  const char* counter = "i=0; while :; do echo $i; i=$((i+1)); [ $((i % 1000)) -ne 0 ] || sleep 0.01; done";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(home.tend({"run", "--shell", "--", counter}).exit_code, 0);
  ASSERT_TRUE(eventually([&] {
    auto ls = home.tend_json({"ls", "--json"})["tasks"];
    for (const auto& t : ls) {
      if (home.tend_json({"logs", std::to_string(t["id"].get<int>()), "--json", "--tail", "1"})["data"] == "") return false;
    }
    return true;
  }));
  auto daemon_pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  ASSERT_GT(daemon_pid, 1);  // never kill(0) or kill(-1): that would hit the test itself
  ASSERT_EQ(::kill(daemon_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return ::kill(daemon_pid, 0) != 0; }));

  // The next command starts a new daemon, which takes the tasks up again.
  auto ls = home.tend_json({"ls", "--json"})["tasks"];
  ASSERT_EQ(ls.size(), 3u);
  for (const auto& t : ls) {
    std::string state = t["state"];
    EXPECT_TRUE(state == "running" || state == "lost") << state;
    EXPECT_NE(state, "succeeded");
  }
  ASSERT_EQ(home.tend({"kill", "1", "2", "3"}).exit_code, 0);
  for (int id = 1; id <= 3; ++id) {
    auto st = home.tend_json({"status", std::to_string(id), "--json"});
    EXPECT_NE(st["state"], "succeeded");
    auto out = home.tend({"logs", std::to_string(id), "--stdout"}).out;
    long last = -1;
    EXPECT_TRUE(counts_without_gaps(out, last)) << "task " << id;
    EXPECT_GT(last, 10) << "task " << id;
    // The file holds what the task wrote, the log shows the file: compare.
    std::ifstream file(home.state() / "logs" / (std::to_string(id) + ".stdout"), std::ios::binary);
    std::string on_disk((std::istreambuf_iterator<char>(file)), {});
    // Not EXPECT_EQ: its line diff of megabytes would take minutes.
    EXPECT_TRUE(on_disk == out) << "task " << id << ": " << on_disk.size() << " bytes on disk, " << out.size()
                                << " shown";
  }
}

TEST(Crash, ACliWhoseDaemonDiesMidRequestSaysSoAndWhereToLookAndStartsNoOther) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sh", "-c", "echo started; exec sleep 60"}).exit_code, 0);
  const auto daemon_pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  ASSERT_GT(daemon_pid, 1);
  // A `tend logs -f` in the middle of its request when the daemon dies.
  Supervisor runner;
  TaskSpec spec = TaskSpec::exec({TEND_BINARY, "logs", "-f", "1"});
  spec.env = {{"TEND_SOCKET", home.socket().string()}, {"TEND_STATE_DIR", home.state().string()}};
  auto follower = runner.run(spec);
  ASSERT_TRUE(eventually([&] { return follower->output().read(0).data == "started\n"; }, 20s));
  ASSERT_EQ(::kill(daemon_pid, SIGSEGV), 0);
  auto ended = runner.wait(follower, Duration(20s));
  ASSERT_TRUE(ended);
  EXPECT_NE(ended->exit_code.value_or(0), 0);
  const std::string said = follower->output(Stream::stderr_stream).read(0).data;
  const std::string log = (home.state() / "daemon.log").string();
  EXPECT_NE(said.find("the daemon died while answering; see " + log), std::string::npos) << said;
  // Its log says what killed it, in its own words.
  std::ifstream in(log);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("tend daemon (pid " + std::to_string(daemon_pid) + ") died of SIGSEGV"), std::string::npos)
      << text;
  // The CLI started no other daemon: the socket is still the dead one's.
  EXPECT_FALSE(RawConnection(home.socket()).connected());
  // The next command does, and it takes the task up again (then stops it).
  EXPECT_EQ(home.tend({"kill", "1"}).exit_code, 0);
}
