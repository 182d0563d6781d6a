#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <fstream>

#include "cli/cli_support.hpp"
#include "tend/version.hpp"

using namespace tend;
using namespace tend::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST(Cli, RunLsStatusLogsWaitKillRoundTrip) {
  TendHome home;
  auto run = home.tend({"run", "--name", "greet", "--", "sh", "-c", "echo hello; echo oops >&2"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "1\n");
  EXPECT_EQ(home.tend({"wait", "greet"}).exit_code, 0);

  auto status = home.tend_json({"status", "1", "--json"});
  for (const char* field : {"id", "name", "kind", "state", "exit_code", "signal", "reason", "command", "cwd",
                            "started_at", "ended_at", "duration_ms"}) {
    EXPECT_TRUE(status.contains(field)) << field;
  }
  EXPECT_EQ(status["state"], "succeeded");
  EXPECT_EQ(status["name"], "greet");
  EXPECT_EQ(status["command"], "sh -c 'echo hello; echo oops >&2'");
  EXPECT_EQ(home.tend({"logs", "greet", "--stdout"}).out, "hello\n");
  EXPECT_EQ(home.tend({"logs", "1", "--stderr"}).err, "oops\n");
  auto logs = home.tend_json({"logs", "1", "--json", "--stdout"});
  EXPECT_EQ(logs["data"], "hello\n");
  EXPECT_EQ(logs["next_cursor"], 6);
  EXPECT_EQ(home.tend_json({"logs", "1", "--json", "--stdout", "--since", "6"})["data"], "");

  auto ls = home.tend_json({"ls", "--json"})["tasks"];
  ASSERT_EQ(ls.size(), 1u);
  EXPECT_NE(home.tend({"ls"}).out.find("succeeded"), std::string::npos);

  ASSERT_EQ(home.tend({"run", "--", "sleep", "30"}).out, "2\n");
  auto waited = home.tend({"wait", "2", "--timeout", "200ms"});
  EXPECT_EQ(waited.exit_code, 124);
  EXPECT_EQ(home.tend_json({"status", "2", "--json"})["state"], "running");  // a wait timeout stops nothing
  auto kill = home.tend({"kill", "2"});
  EXPECT_EQ(kill.exit_code, 0);
  EXPECT_EQ(home.tend_json({"status", "2", "--json"})["state"], "killed");
  EXPECT_EQ(home.tend({"wait", "2"}).exit_code, 1);  // a killed task has failed

  // A task that had ended is left alone, and the answer says so.
  auto again = home.tend({"kill", "1"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "1 succeeded: had already ended; nothing was sent\n");
  EXPECT_EQ(home.tend({"kill", "--signal", "USR1", "2"}).out, "2: not running\n");
  EXPECT_EQ(home.tend_json({"status", "1", "--json"})["state"], "succeeded");
}

TEST(Cli, OneVersionEverywhere) {
  TendHome home;
  auto version = home.tend({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out, std::string("tend ") + tend::kVersion + "\n");
  ASSERT_EQ(home.tend({"daemon", "start"}).exit_code, 0);
  EXPECT_EQ(home.tend_json({"daemon", "status", "--json"})["version"], tend::kVersion);
}

TEST(Cli, LogsPrintsAllOfABigBinaryOutputByteForByte) {
  // More than one answer's 16 MiB, and bytes that are not UTF-8.
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "head", "-c", "20000000", "/dev/urandom"}).exit_code, 0);
  auto shown = home.tend({"logs", "1", "--stdout"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  std::string on_disk = file_text(home.state() / "logs" / "1.stdout");
  EXPECT_EQ(on_disk.size(), 20000000u);
  EXPECT_TRUE(shown.out == on_disk) << shown.out.size() << " bytes shown";
}

TEST(Cli, ExitCodesFollowTimeout1) {
  TendHome home;
  EXPECT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", "exit 3"}).exit_code, 3);
  EXPECT_EQ(home.tend({"run", "--wait", "--timeout", "300ms", "--", "sleep", "30"}).exit_code, 124);
  EXPECT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", "kill -USR1 $$"}).exit_code, 128 + SIGUSR1);
  auto streamed = home.tend({"run", "--wait", "--", "sh", "-c", "echo one; echo two >&2"});
  EXPECT_EQ(streamed.out, "one\n");
  EXPECT_EQ(streamed.err, "two\n");
  // A program that never ran: the shell's 127, and the reason on stderr.
  TempDir dir;
  std::ofstream(dir.path() / "data") << "\x01\x02 not a program\n";
  std::filesystem::permissions(dir.path() / "data", std::filesystem::perms::owner_all);
  auto not_a_program = home.tend({"run", "--wait", "--", (dir.path() / "data").string()});
  EXPECT_EQ(not_a_program.exit_code, 127);
  EXPECT_NE(not_a_program.err.find("could not start: cannot run"), std::string::npos) << not_a_program.err;
  EXPECT_NE(not_a_program.err.find("Exec format error"), std::string::npos) << not_a_program.err;
  auto missing = home.tend({"run", "--wait", "--", "tend-no-such-program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("no such program: tend-no-such-program"), std::string::npos) << missing.err;
}

TEST(Cli, MistakesAreUsageErrorsThatNameTheProblem) {
  TendHome home;
  auto bad_duration = home.tend({"run", "--timeout", "5x", "--", "true"});
  EXPECT_EQ(bad_duration.exit_code, 2);
  EXPECT_NE(bad_duration.err.find("tend: --timeout: invalid duration \"5x\""), std::string::npos) << bad_duration.err;
  auto no_task = home.tend({"status", "42"});
  EXPECT_EQ(no_task.exit_code, 2);
  EXPECT_NE(no_task.err.find("tend: no task 42"), std::string::npos) << no_task.err;
  EXPECT_EQ(home.tend({"frobnicate"}).exit_code, 2);
  EXPECT_EQ(home.tend({"run"}).exit_code, 2);
  EXPECT_EQ(home.tend({"wait", "nosuchname"}).exit_code, 2);
  auto missing = home.tend({"run", "--", "tend-no-such-program"});
  EXPECT_EQ(missing.exit_code, 127);  // it fails at once, as in a shell; its status says why too
  auto st = home.tend_json({"status", "1", "--json"});
  EXPECT_EQ(st["state"], "failed");
  EXPECT_NE(st["reason"].get<std::string>().find("tend-no-such-program"), std::string::npos);
}

TEST(Cli, ReadyPatternReturnsOnceReadyOrFailsWithTheTail) {
  TendHome home;
  auto ready = home.tend({"run", "--ready-pattern", "listening", "--", "sh", "-c",
                          "sleep 0.2; echo listening; exec sleep 30"});
  EXPECT_EQ(ready.exit_code, 0) << ready.err;
  EXPECT_EQ(home.tend_json({"status", "1", "--json"})["ready"], true);
  auto crash = home.tend({"run", "--ready-port", "1", "--", "sh", "-c", "echo 'bind failed' >&2; exit 1"});
  EXPECT_EQ(crash.exit_code, 1);
  EXPECT_NE(crash.err.find("bind failed"), std::string::npos) << crash.err;
}

TEST(Cli, LogsFollowStreamsWhileTheTaskWritesAndEndsWithIt) {
  TendHome home;
  home.tend({"run", "--", "sh", "-c", "for i in 1 2 3 4 5; do echo tick$i; sleep 0.1; done"});
  auto follow = home.tend({"logs", "-f", "1"}, std::chrono::seconds(20));
  EXPECT_EQ(follow.exit_code, 0);
  EXPECT_EQ(follow.out, "tick1\ntick2\ntick3\ntick4\ntick5\n");
}

TEST(Cli, WaitAnyReturnsTheFirst) {
  TendHome home;
  home.tend({"run", "--", "sleep", "5"});
  home.tend({"run", "--", "sleep", "0.2"});
  home.tend({"run", "--", "sleep", "3"});
  auto r = home.tend_json({"wait", "1", "2", "3", "--any", "--json"});
  ASSERT_EQ(r["finished"].size(), 1u);
  EXPECT_EQ(r["finished"][0]["id"], 2);
}

TEST(Cli, ParallelLimitHoldsForAThousandQueuedTasks) {
  TendHome home;
  ASSERT_EQ(home.tend({"parallel", "4"}).exit_code, 0);
  RawConnection watcher(home.socket());
  ASSERT_TRUE(watcher.connected());
  watcher.call("events.subscribe", json::object());
  RawConnection submitter(home.socket());
  for (int i = 0; i < 1000; ++i) {
    // The first eight last long enough that the limit is reached however
    // slowly the rest are submitted (under ThreadSanitizer, say).
    auto r = submitter.call("task.run", {{"argv", {"sleep", i < 8 ? "1" : "0.01"}}}, i + 1);
    ASSERT_TRUE(r.contains("result")) << r.dump();
  }
  int running = 0, most = 0, exited = 0;
  while (exited < 1000) {
    auto note = watcher.receive();
    ASSERT_FALSE(note.is_null());
    auto kind = note["params"]["kind"];
    if (kind == "started") most = std::max(most, ++running);
    if (kind == "exited") --running, ++exited;
  }
  EXPECT_LE(most, 4);
  EXPECT_EQ(most, 4);
  auto all = home.tend_json({"ls", "--all", "--json"})["tasks"];
  ASSERT_EQ(all.size(), 1000u);
  for (const auto& t : all) EXPECT_EQ(t["state"], "succeeded");
}

namespace {
long rss_kib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return -1;
}
}  // namespace

TEST(Cli, AClientThatStopsReadingCostsTheDaemonBoundedMemory) {
  TendHome home;
  ASSERT_EQ(home.tend({"ls"}).exit_code, 0);  // starts the daemon
  RawConnection slow(home.socket());
  ASSERT_TRUE(slow.call("events.subscribe", {{"output", true}})["result"]["subscribed"]);
  RawConnection other(home.socket());
  int pid = other.call("daemon.status", json::object())["result"]["pid"];
  long before = rss_kib(pid);
  // 64 MiB of NUL bytes: as JSON events, six times that for a client that
  // reads none of them.
  auto run = other.call("task.run", {{"argv", {"head", "-c", "67108864", "/dev/zero"}}});
  auto id = run["result"]["id"];
  auto waited = other.call("task.wait", {{"ids", {id}}, {"timeout_ms", 60000}});
  ASSERT_EQ(waited["result"]["finished"].size(), 1u) << waited.dump();
  EXPECT_EQ(waited["result"]["finished"][0]["state"], "succeeded");
  long after = rss_kib(pid);
  EXPECT_LT(after - before, 48 * 1024) << before << " KiB before, " << after << " KiB after";
  // The slow client is still served: every event that is not output, and
  // output events until it fell behind; the rest it reads by cursor.
  std::uint64_t shown = 0, received = 0;
  while (true) {
    auto m = slow.receive();
    ASSERT_FALSE(m.is_null()) << "the connection closed";
    const auto& p = m["params"];
    if (p["kind"] == "output") {
      std::uint64_t end = p["cursor_end"];
      std::uint64_t size = p["data"].get<std::string>().size();
      EXPECT_EQ(end - size, shown) << "a gap before the client fell behind";
      shown = end;
      received += size;
    }
    if (p["kind"] == "exited") break;
  }
  EXPECT_GT(received, 0u);
  EXPECT_LT(shown, 67108864u);  // the end of the stream it did not get as events
  EXPECT_EQ(other.call("task.output", {{"id", id}, {"since", 67108864 - 3}})["result"]["data"], std::string(3, '\0'));
}

TEST(Cli, TheDaemonSurvivesGarbageHugeLinesAndDepartingClients) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sleep", "30"}).exit_code, 0);
  {
    RawConnection c(home.socket());
    c.send("this is not json\n");
    auto e = c.receive();
    EXPECT_EQ(e["error"]["code"], -32700);
    // A number too large for a double: also a parse error, on the same connection.
    c.send(R"({"jsonrpc":"2.0","id":6,"method":"daemon.status","params":{"x":1E400}})" "\n");
    EXPECT_EQ(c.receive()["error"]["code"], -32700);
    c.send(R"({"jsonrpc":"2.0","id":7,"method":"no.such.method"})" "\n");
    EXPECT_EQ(c.receive()["error"]["code"], -32601);
    c.send(R"({"jsonrpc":"2.0","id":8,"method":"task.status","params":{"id":[1]}})" "\n");
    auto wrong = c.receive();
    EXPECT_EQ(wrong["error"]["code"], -32602);
    EXPECT_EQ(wrong["id"], 8);
    c.send(R"({"jsonrpc":"2.0","id":9,"method":"task.run","params":{"argv":"true"}})" "\n");
    auto msg = c.receive()["error"]["message"].get<std::string>();
    EXPECT_NE(msg.find("argv"), std::string::npos) << msg;
    // A 20 MiB line: an error, and the same connection still works.
    std::string huge(20u << 20, 'x');
    c.send(huge + "\n");
    auto too_long = c.receive();
    EXPECT_NE(too_long["error"]["message"].get<std::string>().find("longer than 16 MiB"), std::string::npos);
    EXPECT_EQ(c.call("daemon.status", json::object())["result"]["tasks"]["running"], 1);
  }
  {
    // A client that disconnects in the middle of a long wait.
    RawConnection c(home.socket());
    c.send(R"({"jsonrpc":"2.0","id":1,"method":"task.wait","params":{"ids":[1]}})" "\n");
  }
  auto ls = home.tend({"ls"});
  EXPECT_EQ(ls.exit_code, 0);
  EXPECT_NE(ls.out.find("running"), std::string::npos);
}

TEST(Cli, ArgumentsAreNeverShellInterpretedWithoutShell) {
  TendHome home;
  TempDir dir;
  const std::string pwned = (dir.path() / "pwned").string();
  auto run = home.tend({"run", "--wait", "--cwd", dir.path().string(), "--", "echo", "$(touch " + pwned + ")", "`touch pwned`",
                        "; touch pwned", "&& touch pwned"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "$(touch " + pwned + ") `touch pwned` ; touch pwned && touch pwned\n");
  EXPECT_FALSE(std::filesystem::exists(pwned));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "pwned"));
}

TEST(Cli, SocketAndStateArePrivate) {
  TendHome home;
  home.tend({"run", "--", "true"});
  struct stat st {};
  ASSERT_EQ(::stat(home.socket().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(home.socket().parent_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((home.state() / "tend.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  home.tend({"wait", "1"});
  ASSERT_EQ(::stat((home.state() / "logs" / "1.stdout").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(Cli, AnotherUidIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to connect as another uid";
  if (!std::filesystem::exists("/usr/bin/setpriv") || !std::filesystem::exists("/usr/bin/python3")) {
    GTEST_SKIP() << "needs setpriv and /usr/bin/python3 to connect as another uid";
  }
  TendHome home;
  home.tend({"daemon", "start"});
  // Open the file permissions, so that only the peer-credential check stands in the way.
  ::chmod(home.socket().parent_path().c_str(), 0755);
  ::chmod(home.socket().c_str(), 0777);
  Supervisor sup;
  auto spec = TaskSpec::exec({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                              // The daemon answers a stranger at once, then hangs up.
                              "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); "
                              "print(s.recv(4096).decode())",
                              home.socket().string()});
  auto task = sup.run(spec);
  auto status = sup.wait(task, Duration(20s));
  ASSERT_TRUE(status);
  if (status->exit_code == 126 || status->exit_code == 127 ||
      task->output(Stream::stderr_stream).read(0).data.find("setpriv") == 0) {
    GTEST_SKIP() << "cannot switch uid here: " << task->output(Stream::stderr_stream).read(0).data;
  }
  auto out = task->output().read(0).data;
  EXPECT_NE(out.find("permission denied"), std::string::npos)
      << out << task->output(Stream::stderr_stream).read(0).data;
  EXPECT_EQ(out.find("\"result\""), std::string::npos) << out;
}
