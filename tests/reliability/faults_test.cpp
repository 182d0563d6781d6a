// Faults: tasks that misbehave in every way a task can, a daemon killed at
// random moments, a file size limit. Nothing is lost, nothing leaks, every
// end is told truthfully, and the daemon survives.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <random>

#include "cli/cli_support.hpp"
#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

namespace tend::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A file system of fixed size (tmpfs with size=), mounted for one test.
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& where, const std::string& size) : where_(where) {
    std::filesystem::create_directories(where_);
    if (::geteuid() != 0) {
      why_not_ = "needs root to mount a tmpfs of fixed size";
    } else if (::mount("tmpfs", where_.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) != 0) {
      why_not_ = std::string("cannot mount a tmpfs (") + std::strerror(errno) + "): needs CAP_SYS_ADMIN";
    } else {
      mounted_ = true;
    }
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  /// Empty when mounted; otherwise what is missing.
  const std::string& why_not() const { return why_not_; }

 private:
  std::filesystem::path where_;
  std::string why_not_;
  bool mounted_ = false;
};

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

TEST(Faults, AGigabyteWithoutANewlineMeetsTheDefaultCapAndKeepsHeadAndTail) {
  TempDir dir;
  SupervisorOptions options;
  options.log_dir = dir.path();
  Supervisor sup(options);
  // The default cap (1 GiB per stream) and 16 MiB more: those are dropped
  // from the middle, the first 960 MiB and the last 64 MiB are kept.
  constexpr std::uint64_t kCap = TaskSpec::kDefaultLogLimit, kTail = TaskSpec::kDefaultLogTail;
  constexpr std::uint64_t kWritten = kCap + (16u << 20);
  auto task = sup.run(TaskSpec::exec({"head", "-c", std::to_string(kWritten), "/dev/zero"}));
  auto status = sup.wait(task, Duration(180s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  const OutputLog& out = task->output();
  EXPECT_EQ(out.size(), kWritten);
  EXPECT_EQ(status->stdout_dropped.from, kCap - kTail);
  EXPECT_EQ(status->stdout_dropped.to, kWritten - kTail);
  const auto file = dir.path() / (std::to_string(task->id()) + ".stdout");
  EXPECT_EQ(std::filesystem::file_size(file), kWritten);  // offsets stay: the dropped part is a hole
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_LE(static_cast<std::uint64_t>(st.st_blocks) * 512, kCap + (1u << 20));
  // Reading it stays bounded: by cursor in chunks, and its tail.
  OutputRead chunk = out.read(kWritten - 1000, 1 << 20);
  EXPECT_EQ(chunk.data, std::string(1000, '\0'));
  EXPECT_EQ(out.tail(64), std::string(64, '\0'));
  OutputRead head = out.read(kCap - kTail - 10, 1 << 20);
  EXPECT_EQ(head.data.size(), 10u);  // up to the dropped range, then...
  OutputRead after = out.read(head.next_cursor, 10);
  EXPECT_EQ(after.skipped, 16u << 20);  // ...it says what it skipped
  EXPECT_EQ(after.next_cursor, kWritten - kTail + 10);
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
  json listed = home.tend_json({"ls", "--all", "--json"})["tasks"];
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
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"})["tasks"].size(), 2u);
}

TEST(Faults, ATaskThatFillsItsLogsDiskIsToldInItsStatus) {
  TempDir dir;
  for (bool direct : {true, false}) {
    SCOPED_TRACE(direct ? "the task writes its own log file" : "tend writes the log");
    const auto logs = dir.path() / (direct ? "direct" : "piped");
    SmallDisk disk(logs, "1m");
    if (!disk.why_not().empty()) GTEST_SKIP() << disk.why_not();
    SupervisorOptions options;
    options.log_dir = logs;
    options.direct_output_files = direct;
    Supervisor sup(options);
    auto task = sup.run(TaskSpec::exec({"head", "-c", "4000000", "/dev/zero"}));
    auto status = sup.wait(task, Duration(60s));
    ASSERT_TRUE(status);
    ASSERT_TRUE(status->disk_full_at) << status->reason;
    EXPECT_NE(status->output_note().find("output may be incomplete: disk full at "), std::string::npos);
    // What did fit is there, by cursor.
    EXPECT_GT(task->output().size(), 0u);
  }
}

TEST(Faults, AFullDiskNeitherStopsTheDaemonNorCorruptsItsStore) {
  TendHome home;
  SmallDisk disk(home.state(), "4m");
  if (!disk.why_not().empty()) GTEST_SKIP() << disk.why_not();
  Result filler = home.tend({"run", "--wait", "--", "head", "-c", "20000000", "/dev/zero"});
  EXPECT_NE(filler.exit_code, 0);  // head met ENOSPC
  json st = home.tend_json({"status", "1", "--json"});
  EXPECT_NE(st["output_note"].get<std::string>().find("output may be incomplete: disk full at"), std::string::npos)
      << st.dump();
  // With the disk full, the daemon still answers and still runs tasks.
  auto pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  Result more = home.tend({"run", "--wait", "--", "true"});
  EXPECT_EQ(more.exit_code, 0) << more.err;
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"})["tasks"].size(), 2u);
  EXPECT_EQ(home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>(), pid);
  // Room again, and a new daemon: the store reads back whole.
  EXPECT_EQ(home.tend({"rm", "1"}).exit_code, 0);
  ASSERT_EQ(home.tend({"daemon", "stop"}).exit_code, 0);
  json listed = home.tend_json({"ls", "--all", "--json"})["tasks"];
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["state"], "succeeded");
  ASSERT_EQ(home.tend({"daemon", "stop"}).exit_code, 0);  // before the disk goes
}

}  // namespace
}  // namespace tend::test
