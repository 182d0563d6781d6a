// What a careless or hostile client of the same user can send the daemon,
// end to end through the real binary: none of it may kill the daemon, and
// each gets an error that names what was wrong.

#include <gtest/gtest.h>
#include <signal.h>

#include "cli/cli_support.hpp"
#include "mcp/mcp_process.hpp"
#include "tend/process/process_table.hpp"
#include "tend/process/spawn.hpp"
#include "tend/store/state_store.hpp"

using namespace tend;
using namespace tend::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

pid_t daemon_pid(TendHome& home) { return home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>(); }

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// `tend ARGS` run as nobody against `home`'s daemon; nullopt when this
// machine cannot switch uid.
std::optional<Result> tend_as_nobody(const TendHome& home, const std::vector<std::string>& args) {
  TaskSpec spec = TaskSpec::exec({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", TEND_BINARY});
  spec.argv.insert(spec.argv.end(), args.begin(), args.end());
  spec.env = {{"TEND_SOCKET", home.socket().string()}, {"TEND_STATE_DIR", home.state().string()}};
  spec.timeout = Duration(30s);
  Supervisor sup;
  auto task = sup.run(spec);
  auto status = sup.wait(task);
  Result r;
  r.exit_code = status && status->exit_code ? *status->exit_code : -1;
  r.out = task->output().read(0).data;
  r.err = task->output(Stream::stderr_stream).read(0).data;
  if (r.exit_code == 126 || r.exit_code == 127 || r.err.starts_with("setpriv")) return std::nullopt;
  return r;
}

}  // namespace

TEST(HostileInput, GrepWithABacktrackingPatternOnALongLineAnswersAndTheDaemonLivesOn) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "python3", "-c", "print('a' * 200000); print('tail b')"}).exit_code, 0);
  const pid_t before = daemon_pid(home);
  auto none = home.tend({"logs", "1", "--stdout", "--grep", "a+b"});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "");
  auto some = home.tend({"logs", "1", "--stdout", "--grep", "(a|aa)+$|b$"});
  EXPECT_EQ(some.exit_code, 0) << some.err;
  EXPECT_EQ(some.out, std::string(200000, 'a') + "\ntail b\n");
  EXPECT_EQ(daemon_pid(home), before);
}

TEST(HostileInput, PatternsOverTheLimitOrWithBackreferencesAreUsageErrorsThatNameThem) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "echo", "hello"}).exit_code, 0);
  const pid_t before = daemon_pid(home);
  auto huge = home.tend({"logs", "1", "--grep", std::string(100000, 'x')});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_NE(huge.err.find("\"grep\""), std::string::npos) << huge.err;
  EXPECT_NE(huge.err.find("limit of 4096 bytes"), std::string::npos) << huge.err;
  EXPECT_LT(huge.err.size(), 400u);  // named, not printed whole
  auto backref = home.tend({"run", "--ready-pattern", R"((a)\1)", "--", "sleep", "30"});
  EXPECT_EQ(backref.exit_code, 2);
  EXPECT_NE(backref.err.find("ready_pattern"), std::string::npos) << backref.err;
  EXPECT_NE(backref.err.find(R"("(a)\1")"), std::string::npos) << backref.err;
  EXPECT_NE(backref.err.find("backreferences"), std::string::npos) << backref.err;
  EXPECT_EQ(daemon_pid(home), before);
}

TEST(HostileInput, ARequestNestedTooDeepIsAnInvalidRequestAndTheConnectionGoesOn) {
  TendHome home;
  home.tend({"daemon", "start"});
  const pid_t before = daemon_pid(home);
  RawConnection c(home.socket());
  ASSERT_TRUE(c.connected());
  c.send(R"({"jsonrpc":"2.0","id":5,"method":"daemon.status","params":{"x":)" + nested_arrays(100000) + "}}\n");
  auto refused = c.receive();
  EXPECT_EQ(refused["error"]["code"], -32600) << refused;
  EXPECT_NE(refused["error"]["message"].get<std::string>().find("deeper than 64"), std::string::npos) << refused;
  // Just within the limit is fine.
  c.send(R"({"jsonrpc":"2.0","id":6,"method":"daemon.status","params":{"x":)" + nested_arrays(62) + "}}\n");
  EXPECT_TRUE(c.receive().contains("result"));
  EXPECT_EQ(c.call("daemon.status", json::object(), 7)["result"]["pid"], before);
}

TEST(HostileInput, CommandLinesOfHundredsOfKilobytesAreClassifiedWithoutKillingTheDaemon) {
  // The command policy's std::regex recursed once per character.
  TendHome home;
  home.tend({"daemon", "start"});
  const pid_t before = daemon_pid(home);
  RawConnection c(home.socket());
  auto answer = c.call("task.run", {{"argv", {"tsc", std::string(300000, 'a')}}});
  EXPECT_TRUE(answer.contains("result") || answer.contains("error")) << answer.dump().substr(0, 300);
  EXPECT_EQ(daemon_pid(home), before);
}

TEST(HostileInput, McpRefusesTooDeepJsonAndAHugeGrepAndGoesOn) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "echo", "hello"}).exit_code, 0);
  McpProcess mcp(home);
  mcp.initialize();
  mcp.send(R"({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"task_status","arguments":{"id":)" +
           nested_arrays(100000) + "}}}");
  auto deep = mcp.answer_to(nullptr);
  EXPECT_EQ(deep["error"]["code"], -32600) << deep;
  auto grep = mcp.call_tool(3, "task_output", {{"id", 1}, {"grep", std::string(10u << 20, 'x')}});
  EXPECT_TRUE(grep["isError"].get<bool>()) << grep.dump().substr(0, 300);
  const std::string text = grep["content"][0]["text"];
  EXPECT_NE(text.find("limit of 4096 bytes"), std::string::npos) << text.substr(0, 300);
  auto ok = mcp.call_tool(4, "task_output", {{"id", 1}, {"grep", "hel+o"}});
  EXPECT_NE(ok["content"][0]["text"].get<std::string>().find("hello"), std::string::npos) << ok;
}

TEST(HostileInput, AReadinessFailureShowsAFewShortLinesOfOutputNotMegabytes) {
  TendHome home;
  auto r = home.tend({"run", "--ready-pattern", "never printed", "--", "python3", "-c",
                      "print('x' * 2000000); print('the last words')"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("ended before it was ready"), std::string::npos) << r.err.substr(0, 500);
  EXPECT_NE(r.err.find("the last words"), std::string::npos) << r.err.substr(0, 500);
  EXPECT_NE(r.err.find("more bytes]"), std::string::npos) << r.err.substr(0, 500);
  EXPECT_LT(r.err.size(), 2000u);
  for (std::size_t at = 0, nl; at < r.err.size(); at = nl + 1) {
    nl = r.err.find('\n', at);
    if (nl == std::string::npos) nl = r.err.size();
    EXPECT_LE(nl - at, 200u) << r.err.substr(at, 300);
  }
}

TEST(HostileInput, AStoredPatternThisTendRefusesIsDroppedAndItsTaskKeepsRunning) {
  TendHome home;
  // What an older tend (std::regex patterns) left: a running task whose
  // ready and progress patterns use backreferences.
  std::filesystem::create_directories(home.state() / "logs");
  process::SpawnOptions so;
  so.shell_command = "exec sleep 60";
  so.stdout_file = home.state() / "logs" / "1.stdout";
  so.stderr_file = home.state() / "logs" / "1.stderr";
  auto child = process::spawn(so);
  TaskSpec spec = TaskSpec::shell("exec sleep 60");
  spec.ready.pattern = R"((a)\1)";
  spec.progress_pattern = R"((b)\1)";
  TaskStatus st;
  st.id = 1;
  st.state = TaskState::running;
  st.pid = child.pid;
  st.pid_start_time = process::read_process_info(child.pid)->start_time;
  st.started_at = Clock::now();
  st.attempts = 1;
  { store::StateStore(home.state() / "tend.db").save(spec, st); }

  auto status = home.tend_json({"status", "1", "--json"});
  EXPECT_EQ(status["state"], "running") << status;
  const std::string warnings = status["warnings"].dump();
  EXPECT_NE(warnings.find("ready pattern dropped"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("progress pattern dropped"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("backreferences"), std::string::npos) << warnings;
  EXPECT_NE(home.tend({"status", "1"}).out.find("warning"), std::string::npos);
  EXPECT_EQ(home.tend({"kill", "1"}).exit_code, 0);
  EXPECT_EQ(home.tend_json({"status", "1", "--json"})["state"], "killed");
}

TEST(HostileInput, AnotherUsersCliIsToldWhoseDaemonItIsNotThatTheConnectionClosed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run the CLI as another uid";
  TendHome home;
  home.tend({"daemon", "start"});
  const std::string expected = "permission denied: this daemon belongs to uid 0";
  // The socket's directory (0700) keeps the stranger out: EACCES, worded.
  auto kept_out = tend_as_nobody(home, {"ls"});
  if (!kept_out) GTEST_SKIP() << "cannot switch uid here";
  EXPECT_NE(kept_out->exit_code, 0);
  EXPECT_NE(kept_out->err.find(expected), std::string::npos) << kept_out->err;
  // With the file permissions opened, the daemon's peer check refuses it, and says so before hanging up.
  ::chmod(home.socket().parent_path().c_str(), 0755);
  ::chmod(home.socket().c_str(), 0777);
  auto refused = tend_as_nobody(home, {"ls"});
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->exit_code, 0);
  EXPECT_NE(refused->err.find(expected), std::string::npos) << refused->err;
  EXPECT_EQ(refused->err.find("closed the connection"), std::string::npos) << refused->err;
}
