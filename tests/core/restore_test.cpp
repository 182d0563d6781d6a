#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>

#include <fstream>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"
#include "tend/process/process_table.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

// A process started the way a daemon starts a task (writing its own log
// files), but by nobody who will be around: what a crashed daemon leaves.
TaskStatus orphaned_task(TaskId id, const std::filesystem::path& dir, const std::string& command,
                         const std::string& marker = "") {
  process::SpawnOptions so;
  so.shell_command = command;
  if (!marker.empty()) so.set_env.emplace_back(marker.substr(0, marker.find('=')), marker.substr(marker.find('=') + 1));
  so.stdout_file = dir / (std::to_string(id) + ".stdout");
  so.stderr_file = dir / (std::to_string(id) + ".stderr");
  auto child = process::spawn(so);
  TaskStatus st;
  st.id = id;
  st.state = TaskState::running;
  st.pid = child.pid;
  st.pid_start_time = process::read_process_info(child.pid)->start_time;
  st.started_at = Clock::now();
  st.attempts = 1;
  st.marker = marker;
  // The test process stays its parent (and reaps it at exit); for the
  // Supervisor it is somebody else's process, as after a daemon restart.
  return st;
}

}  // namespace

TEST(DirectOutputFiles, TheTaskWritesItsLogFilesAndReadsSeeEveryByte) {
  test::TempDir dir;
  Supervisor sup(test::direct_files(dir.path()));
  std::string streamed;
  std::mutex m;
  auto sub = sup.subscribe([&](const Event& e) {
    std::lock_guard lock(m);
    if (e.kind == Event::Kind::output && e.stream == Stream::stdout_stream) streamed += e.data;
  });
  auto task = sup.run(TaskSpec::shell("for i in $(seq 1 2000); do echo line$i; done; echo oops >&2"));
  auto status = sup.wait(task, Duration(20s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  std::string expected;
  for (int i = 1; i <= 2000; ++i) expected += "line" + std::to_string(i) + "\n";
  EXPECT_EQ(test::file_text(dir.path() / "1.stdout"), expected);
  EXPECT_EQ(task->output().read(0, 1 << 20).data, expected);
  EXPECT_EQ(task->output(Stream::stderr_stream).read(0).data, "oops\n");
  std::lock_guard lock(m);
  EXPECT_EQ(streamed, expected);
}

TEST(DirectOutputFiles, ATerminalStillGoesThroughItsPty) {
  test::TempDir dir;
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.run(TaskSpec::terminal_shell("python3 -c 'import sys; print(sys.stdout.isatty())'"));
  sup.wait(task, Duration(20s));
  EXPECT_EQ(task->output().read(0).data, "True\r\n");
}

TEST(Restore, AFinishedTaskKeepsItsStateOutputAndTimes) {
  test::TempDir dir;
  TaskStatus recorded;
  TaskSpec spec = TaskSpec::shell("echo hello; exit 3");
  {
    Supervisor first(test::direct_files(dir.path()));
    auto t = first.run(spec);
    recorded = *first.wait(t, Duration(10s));
  }
  // As a daemon restarted later would find it: ended a while ago.
  recorded.started_at = *recorded.started_at - 1h;
  recorded.ended_at = *recorded.ended_at - 1h;
  Supervisor second(test::direct_files(dir.path()));
  auto task = second.restore(spec, recorded);
  EXPECT_EQ(task->id(), recorded.id);
  EXPECT_EQ(task->state(), TaskState::failed);
  EXPECT_EQ(task->status().exit_code, 3);
  EXPECT_EQ(task->output().read(0).data, "hello\n");
  EXPECT_TRUE(second.poll(task));
  // Its times are the recorded ones, not the restore's.
  EXPECT_EQ(task->status().ended_at, recorded.ended_at);
  EXPECT_EQ(task->status().started_at, recorded.started_at);
  EXPECT_LE(std::chrono::abs(task->status().duration - recorded.duration), 5ms);
  // New tasks get new ids.
  EXPECT_GT(second.run(TaskSpec::exec({"true"}))->id(), recorded.id);
}

TEST(Restore, ARunningTaskWhoseProcessLivesIsReadoptedAndFollowed) {
  test::TempDir dir;
  auto recorded = orphaned_task(7, dir.path(), "echo before; exec sleep 30");
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.restore(TaskSpec::shell("…"), recorded);
  EXPECT_EQ(task->state(), TaskState::running);
  ASSERT_TRUE(test::eventually([&] { return task->output().read(0).data == "before\n"; }));
  auto status = sup.stop_and_wait(task);
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_NE(status.reason.find("exit status unknown"), std::string::npos) << status.reason;
  EXPECT_FALSE(process::read_process_info(recorded.pid).value_or(process::ProcessInfo{}).state != 'Z');
  ::waitpid(recorded.pid, nullptr, 0);
}

TEST(Restore, AReadoptedTaskThatEndsByItselfIsLostNotSucceeded) {
  test::TempDir dir;
  auto recorded = orphaned_task(3, dir.path(), "sleep 0.3; echo done");
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.restore(TaskSpec::shell("sleep 0.3; echo done"), recorded);
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::lost);
  EXPECT_FALSE(status->exit_code);
  EXPECT_EQ(task->output().read(0).data, "done\n");
  ::waitpid(recorded.pid, nullptr, 0);
}

TEST(Restore, ARunningTaskWhoseProcessIsGoneIsLost) {
  test::TempDir dir;
  auto recorded = orphaned_task(5, dir.path(), "echo gone");
  ::waitpid(recorded.pid, nullptr, 0);
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.restore(TaskSpec::shell("echo gone"), recorded);
  EXPECT_EQ(task->state(), TaskState::lost);
  EXPECT_NE(task->status().reason.find("was gone"), std::string::npos);
  EXPECT_EQ(task->output().read(0).data, "gone\n");
}

TEST(Restore, AReusedPidIsNotMistakenForTheTask) {
  test::TempDir dir;
  auto recorded = orphaned_task(9, dir.path(), "exec sleep 30");
  recorded.pid_start_time += 1;  // same pid, another process
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.restore(TaskSpec::shell("sleep 30"), recorded);
  EXPECT_EQ(task->state(), TaskState::lost);
  ::kill(recorded.pid, SIGKILL);
  ::waitpid(recorded.pid, nullptr, 0);
}

TEST(Restore, AQueuedTaskIsQueuedAgain) {
  test::TempDir dir;
  TaskStatus st;
  st.id = 4;
  st.state = TaskState::queued;
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.restore(TaskSpec::exec({"true"}), st);
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
}

// The old Supervisor's marker is in the record: a later one finds the task's
// escapee by it, though the escapee is neither its child nor in the group.
TEST(Restore, AnEscapeeOfATaskTakenUpIsStoppedWithIt) {
  test::TempDir dir;
  auto tag = test::unique_tag();
  auto marker = "TEND_TASK=4242-0badf00d/7";
  auto recorded = orphaned_task(7, dir.path(), "export " + tag + "; (setsid sleep 1000 &); exec sleep 1000", marker);
  // The escapee must exist (and its subshell be gone) before the task is taken up.
  ASSERT_TRUE(test::eventually([&] { return !test::settled_processes_with(tag, 2, "sleep").empty(); }));
  Supervisor sup(test::direct_files(dir.path()));
  auto task = sup.restore(TaskSpec::shell("…"), recorded);
  ASSERT_EQ(task->state(), TaskState::running);
  EXPECT_EQ(task->status().marker, marker);
  auto status = sup.stop_and_wait(task);
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_TRUE(test::eventually([&] { return test::processes_with(tag).empty(); }))
      << test::processes_with(tag).size() << " left";
}

TEST(Restore, ATasksMarkerIsInItsStatus) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"true"}));
  EXPECT_EQ(task->status().marker.rfind("TEND_TASK=", 0), 0u) << task->status().marker;
  sup.wait(task, Duration(10s));
}
