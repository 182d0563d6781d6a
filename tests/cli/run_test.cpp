// `tend run` as a user meets it: what it says when the program cannot start,
// the limits a task gets, --wait's timeouts and Ctrl-C, and --port.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "cli/cli_support.hpp"

using namespace tend;
using namespace tend::test;
using namespace std::chrono_literals;
using nlohmann::json;

TEST(CliRun, AProgramThatCannotStartIsReportedAtOnceWithAShellsStatus) {
  TendHome home;
  auto missing = home.tend({"run", "--", "tend-no-such-program"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_EQ(missing.out, "1\n");  // the task exists, failed: ls and status show it
  EXPECT_TRUE(contains(missing.err, "tend: task 1 could not start: no such program: tend-no-such-program"))
      << missing.err;

  auto bad_cwd = home.tend({"run", "--cwd", "/tend-no-such-dir", "--", "true"});
  EXPECT_EQ(bad_cwd.exit_code, 127);
  EXPECT_TRUE(contains(bad_cwd.err, "could not start: cannot use working directory /tend-no-such-dir")) << bad_cwd.err;

  TempDir dir;
  std::ofstream(dir.path() / "script") << "#!/bin/sh\necho hi\n";
  std::filesystem::permissions(dir.path() / "script", std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto by_path = home.tend({"run", "--", (dir.path() / "script").string()});
  EXPECT_EQ(by_path.exit_code, 126);  // there, but not executable
  EXPECT_TRUE(contains(by_path.err, "Permission denied")) << by_path.err;
  auto in_path = home.tend({"run", "--env", "PATH=" + dir.path().string(), "--", "script"});
  EXPECT_EQ(in_path.exit_code, 126);
  EXPECT_TRUE(contains(in_path.err, "could not start: cannot run script")) << in_path.err;

  auto empty = home.tend({"run", "--", ""});
  EXPECT_EQ(empty.exit_code, 127);
  EXPECT_TRUE(contains(empty.err, "could not start: empty program name")) << empty.err;

  auto st = home.tend_json({"status", "1", "--json"});
  EXPECT_EQ(st["state"], "failed");
  EXPECT_EQ(st["exit_code"], 127);
  EXPECT_TRUE(contains(st["start_failure"].get<std::string>(), "no such program")) << st.dump();
  // A task that ran has none.
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);
  EXPECT_TRUE(home.tend_json({"status", "6", "--json"})["start_failure"].is_null());
}

TEST(CliRun, LsShowsAShortEscapedReasonForFailedTasks) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);
  EXPECT_FALSE(contains(home.tend({"ls"}).out, "REASON"));  // only when a task has one
  // A name with a newline and an escape sequence: neither may reach the terminal.
  home.tend({"run", "--", "tend-x\n\x1b[2Jprogram-with-a-long-name-that-goes-on-and-on"});
  home.tend({"run", "--wait", "--", "sh", "-c", "exit 3"});
  auto ls = home.tend({"ls"});
  std::istringstream lines(ls.out);
  std::string header, ok, missing, exit3;
  std::getline(lines, header);
  std::getline(lines, ok);
  std::getline(lines, missing);
  std::getline(lines, exit3);
  EXPECT_TRUE(contains(header, "REASON")) << ls.out;
  // Cut to 48 bytes at most, "..." included, between escapes.
  EXPECT_TRUE(contains(missing, "  could not start: no such program: tend-x\\n...  ")) << missing;
  EXPECT_FALSE(contains(ls.out, "\x1b")) << ls.out;
  EXPECT_TRUE(contains(exit3, "exited with code 3")) << exit3;
}

TEST(CliRun, ATaskStartedByHandHasNoHiddenLimits) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sleep", "200"}).exit_code, 0);
  auto st = home.tend_json({"status", "1", "--json"});
  EXPECT_EQ(st["limits"]["timeout"], (json{{"ms", nullptr}, {"from", "none"}})) << st.dump();
  EXPECT_EQ(st["limits"]["idle_timeout"], (json{{"ms", nullptr}, {"from", "none"}})) << st.dump();
  auto page = home.tend({"status", "1"}).out;
  EXPECT_TRUE(std::regex_search(page, std::regex("timeout +none\n"))) << page;
  EXPECT_TRUE(std::regex_search(page, std::regex("idle +none\n"))) << page;
  EXPECT_TRUE(std::regex_search(page, std::regex("log limit +1.0 GiB per stream\n"))) << page;

  ASSERT_EQ(home.tend({"run", "--timeout", "5m", "--idle-timeout", "0", "--", "sleep", "200"}).exit_code, 0);
  st = home.tend_json({"status", "2", "--json"});
  EXPECT_EQ(st["limits"]["timeout"], (json{{"ms", 300000}, {"from", "given"}})) << st.dump();
  EXPECT_EQ(st["limits"]["idle_timeout"], (json{{"ms", nullptr}, {"from", "given"}})) << st.dump();
  page = home.tend({"status", "2"}).out;
  EXPECT_TRUE(contains(page, "5m (asked for)")) << page;
  home.tend({"kill", "1", "2"});

  auto help = home.tend({"run", "--help"}).out;
  EXPECT_TRUE(contains(help, "runs until it ends")) << help;
  EXPECT_TRUE(contains(help, "1G")) << help;
}

TEST(CliRun, WaitThatTimesOutSaysSoBeforeExiting124) {
  TendHome home;
  auto r = home.tend({"run", "--wait", "--timeout", "1s", "--", "sleep", "30"});
  EXPECT_EQ(r.exit_code, 124);
  EXPECT_TRUE(contains(r.err, "tend: task 1 timed out after 1s; stopped (")) << r.err;
}

TEST(CliRun, CtrlCDuringWaitIsPassedToTheTaskAndTheWaitGoesOn) {
  TendHome home;
  ASSERT_EQ(home.tend({"daemon", "start"}).exit_code, 0);
  auto cli = home.start({"run", "--wait", "--", "sh", "-c",
                         "trap 'echo caught INT; exit 3' INT; echo started; while :; do sleep 0.05; done"});
  ASSERT_TRUE(home.wait_for_output(cli, "started\n"));
  home.signal(cli, SIGINT);  // as a terminal's Ctrl-C: to the CLI alone
  auto r = home.finish(cli);
  EXPECT_EQ(r.exit_code, 3);  // the task's own status, as a shell's foreground job
  EXPECT_EQ(r.out, "started\ncaught INT\n");
  EXPECT_TRUE(contains(r.err, "sent SIGINT to task 1")) << r.err;
}

TEST(CliRun, ASecondCtrlCDetachesAndTheTaskGoesOn) {
  TendHome home;
  ASSERT_EQ(home.tend({"daemon", "start"}).exit_code, 0);
  auto cli = home.start({"run", "--wait", "--", "sh", "-c", "trap '' INT; echo started; exec sleep 60"});
  ASSERT_TRUE(home.wait_for_output(cli, "started\n"));
  home.signal(cli, SIGINT);
  // The first is passed on (and ignored); two at once would be one pending signal.
  ASSERT_TRUE(home.wait_for_output(cli, "sent SIGINT to task 1", Stream::stderr_stream));
  home.signal(cli, SIGINT);
  auto r = home.finish(cli);
  EXPECT_EQ(r.exit_code, 130);
  EXPECT_TRUE(contains(r.err, "task 1 goes on. Stop it with: tend kill 1")) << r.err;
  EXPECT_EQ(home.tend_json({"status", "1", "--json"})["state"], "running");
  home.tend({"kill", "1"});
}

TEST(CliRun, PortIsPrintedWithTheIdAndListed) {
  TendHome home;
  auto plain = home.tend({"run", "--port", "--", "sleep", "30"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(plain.out, m, std::regex("1 port (\\d+)\n"))) << plain.out;
  const std::string port = m[1];
  auto ready = home.tend({"run", "--port", "--ready-pattern", "up", "--", "sh", "-c", "echo up; exec sleep 30"});
  ASSERT_EQ(ready.exit_code, 0) << ready.err;
  EXPECT_TRUE(std::regex_match(ready.out, std::regex("2 ready on port \\d+\n"))) << ready.out;
  EXPECT_EQ(home.tend({"run", "--", "sleep", "30"}).out, "3\n");

  auto ls = home.tend({"ls"}).out;
  EXPECT_TRUE(contains(ls, "PORT")) << ls;
  EXPECT_TRUE(std::regex_search(ls, std::regex("\n1 .* " + port + " +sleep 30\n"))) << ls;
  EXPECT_TRUE(std::regex_search(ls, std::regex("\n3 .* - +sleep 30\n"))) << ls;
  // --json is the task as before, its port a field of it.
  EXPECT_TRUE(home.tend_json({"run", "--json", "--port", "--", "sleep", "30"})["port"].is_number());
  home.tend({"kill", "1", "2", "3", "4"});
  EXPECT_FALSE(contains(home.tend({"run", "--wait", "--", "true"}).out, "port"));
}

TEST(CliRun, StdinKeepsItsPipeOpenForSendWhileTheTaskWritesItsOwnLogFiles) {
  // The daemon's tasks write their output files themselves; their stdin is
  // still the daemon's to write (it was dropped with the output pipes once).
  TendHome home;
  auto started = home.tend({"run", "--stdin", "--name", "reader", "--", "sh", "-c", "read line; echo \"got $line\""});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto sent = home.tend({"send", "reader", "hello", "--eof"});
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(home.tend({"wait", "reader", "--timeout", "30s"}).exit_code, 0);
  auto logs = home.tend({"logs", "reader"});
  EXPECT_TRUE(contains(logs.out, "got hello")) << logs.out << logs.err;
}
