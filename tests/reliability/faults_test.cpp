// Faults: tasks that misbehave in every way a task can, a daemon killed at
// random moments, a file size limit. Nothing is lost, nothing leaks, every
// end is told truthfully, and the daemon survives.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <fstream>
#include <random>

#include "cli/cli_support.hpp"
#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

namespace tend::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::pair<std::string, std::string> marker(const std::string& tag) {
  return {tag.substr(0, tag.find('=')), tag.substr(tag.find('=') + 1)};
}

TEST(Faults, ATaskThatClosesStdoutEarlyIsFollowedToItsEnd) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell("echo before; exec 1>&-; sleep 0.3; echo after >&2; exit 4"));
  auto status = sup.wait(task, Duration(20s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::failed);
  EXPECT_EQ(status->exit_code, 4);
  EXPECT_EQ(task->output(Stream::stdout_stream).read(0).data, "before\n");
  EXPECT_EQ(task->output(Stream::stderr_stream).read(0).data, "after\n");
}

TEST(Faults, AGigabyteWithoutANewlineIsCapturedWhole) {
  TempDir dir;
  SupervisorOptions options;
  options.log_dir = dir.path();
  Supervisor sup(options);
  constexpr std::uint64_t kGiB = 1ull << 30;
  auto task = sup.run(TaskSpec::exec({"head", "-c", std::to_string(kGiB), "/dev/zero"}));
  auto status = sup.wait(task, Duration(120s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  const OutputLog& out = task->output();
  EXPECT_EQ(out.size(), kGiB);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / (std::to_string(task->id()) + ".stdout")), kGiB);
  // Reading it stays bounded: by cursor in chunks, and its tail.
  OutputRead chunk = out.read(kGiB - 1000, 1 << 20);
  EXPECT_EQ(chunk.data, std::string(1000, '\0'));
  EXPECT_EQ(out.tail(64), std::string(64, '\0'));
}

TEST(Faults, ATaskIgnoringEverySignalButKillIsKilledAfterItsGrace) {
  std::string tag = unique_tag();
  Supervisor sup;
  TaskSpec spec = TaskSpec::shell("trap '' TERM INT HUP QUIT USR1 USR2 ALRM PIPE; echo trapped; "
                                  "while :; do sleep 0.05; done");
  spec.env.push_back(marker(tag));
  spec.stop = process::StopLadder::parse("TERM,300,INT,300,HUP,300,KILL");
  auto task = sup.run(spec);
  ASSERT_TRUE(eventually([&] { return !task->output().read(0).data.empty(); }, 20s));
  TaskStatus status = sup.stop_and_wait(task);
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_TRUE(processes_with(tag).empty());
}

TEST(Faults, AForkBombUnderAProcessLimitIsStoppedWhole) {
  if (::geteuid() != 0 || !std::filesystem::exists("/usr/bin/setpriv")) {
    GTEST_SKIP() << "needs root and setpriv: a process limit does not bind root";
  }
  std::string tag = unique_tag();
  Supervisor sup;
  // As nobody, with at most 64 processes: the bomb fills its limit and keeps
  // trying. bash, not sh: dash has no `ulimit -u`, and a bomb without its
  // limit takes the whole machine's pids; so it refuses to start unless the
  // limit is really in place.
  TaskSpec spec = TaskSpec::exec({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "bash", "-c",
                                  "ulimit -u 64 && [ \"$(ulimit -u)\" = 64 ] || exit 99; echo armed; "
                                  "b() { b | b & }; b; sleep 1000"});
  spec.env.push_back(marker(tag));
  auto task = sup.run(spec);
  ASSERT_TRUE(eventually([&] { return processes_with(tag).size() >= 20 || task->finished(); }, 30s))
      << processes_with(tag).size();
  ASSERT_FALSE(task->finished()) << "the bomb did not start: " << task->output(Stream::stderr_stream).tail(500);
  TaskStatus status = sup.stop_and_wait(task, process::StopLadder::parse("TERM,500,KILL"));
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_TRUE(eventually([&] { return processes_with(tag).empty(); }, 20s)) << processes_with(tag).size() << " left";
  // Its orphans were ours (subreaper): the Supervisor reaps every one.
  EXPECT_TRUE(eventually([] { return zombie_children() == 0; }, 20s)) << zombie_children() << " zombies";
}

TEST(Faults, TenDaemonKillsAtRandomMomentsLoseNoTaskAndNoByte) {
  TendHome home;
  std::mt19937 random(std::random_device{}());
  std::map<std::string, int> lines_of;  // task id -> how many lines `seq` writes
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 3; ++i) {
      int n = 20000 + static_cast<int>(random() % 40000);
      Result r = home.tend({"run", "--", "seq", "1", std::to_string(n)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      lines_of[r.out.substr(0, r.out.find('\n'))] = n;
    }
    auto pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 200));  // the random moment
    ASSERT_GT(pid, 1);  // never kill(0) or kill(-1): that would hit the test itself
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    ASSERT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }));
  }
  // A new daemon takes every task up; each one's log is its whole output.
  std::vector<std::string> all;
  for (const auto& [id, n] : lines_of) all.push_back(id);
  std::vector<std::string> wait_args = {"wait"};
  wait_args.insert(wait_args.end(), all.begin(), all.end());
  wait_args.insert(wait_args.end(), {"--timeout", "60s"});
  Result r = home.tend(wait_args);
  EXPECT_NE(r.exit_code, 124) << "tasks still running after the restarts";
  json listed = home.tend_json({"ls", "--all", "--json"});
  EXPECT_EQ(listed.size(), lines_of.size());
  for (const auto& [id, n] : lines_of) {
    json st = home.tend_json({"status", id, "--json"});
    std::string state = st["state"];
    EXPECT_TRUE(state == "succeeded" || state == "lost") << "task " << id << ": " << state;
    std::string expected;
    for (int i = 1; i <= n; ++i) expected += std::to_string(i) + "\n";
    std::string on_disk = file_text(home.state() / "logs" / (id + ".stdout"));
    EXPECT_EQ(on_disk.size(), expected.size()) << "task " << id;
    EXPECT_TRUE(on_disk == expected) << "task " << id;
    Result logs = home.tend({"logs", id, "--stdout"});
    EXPECT_TRUE(logs.out == expected) << "task " << id << ": the log shows " << logs.out.size() << " bytes";
  }
}

TEST(Faults, AFileSizeLimitEndsTheTaskTruthfullyAndTheDaemonGoesOn) {
  TendHome home;
  // The daemon (and so its tasks) may write files of at most 1 MiB: a full
  // disk, as far as one task can tell.
  Result started = home.tend({"daemon", "start"}, 60s, {});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  auto pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  rlimit limit{1 << 20, 1 << 20};
  ASSERT_EQ(::prlimit(pid, RLIMIT_FSIZE, &limit, nullptr), 0);
  Result run = home.tend({"run", "--wait", "--", "head", "-c", "5000000", "/dev/zero"});
  EXPECT_NE(run.exit_code, 0);
  json st = home.tend_json({"status", "1", "--json"});
  // Ended by a signal nobody sent on purpose: failed, and the signal says why.
  EXPECT_EQ(st["state"], "failed") << st.dump();
  EXPECT_EQ(st["signal"], "SIGXFSZ") << st.dump();
  EXPECT_NE(st["reason"].get<std::string>().find("SIGXFSZ"), std::string::npos) << st.dump();
  EXPECT_EQ(std::filesystem::file_size(home.state() / "logs" / "1.stdout"), 1u << 20);
  // The daemon lives, its state is readable, and it still runs tasks.
  EXPECT_EQ(home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>(), pid);
  Result after = home.tend({"run", "--wait", "--", "echo", "still here"});
  EXPECT_EQ(after.exit_code, 0);
  EXPECT_EQ(after.out, "still here\n");
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"}).size(), 2u);
}

}  // namespace
}  // namespace tend::test
