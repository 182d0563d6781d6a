#include "tend/process/process_table.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include <algorithm>

#include "support/test_support.hpp"
#include "tend/process/spawn.hpp"

using namespace tend::process;
using namespace std::chrono_literals;

namespace {

constexpr const char* kVariable = "TEND_TABLE_TEST";

// A shell script in its own process group, `marker` in its environment.
SpawnedChild spawn_marked(const std::string& script, const std::string& marker) {
  SpawnOptions o;
  o.shell_command = script;
  o.set_env = {{kVariable, marker.substr(marker.find('=') + 1)}};
  return spawn(o);
}

std::vector<pid_t> sorted(std::vector<pid_t> pids) {
  std::sort(pids.begin(), pids.end());
  return pids;
}

// Kills what the markers name (the escapee has left the group) and reaps the leaders.
void kill_all(std::vector<SpawnedChild*> children, const std::vector<std::string>& markers) {
  for (const auto& marker : markers) {
    for (pid_t pid : tend::test::processes_with(marker)) {
      if (auto fd = Pidfd::open(pid)) fd->send_signal(SIGKILL);
    }
  }
  for (auto* child : children) {
    pollfd p{child->pidfd.fd(), POLLIN, 0};
    ::poll(&p, 1, 10'000);
    child->pidfd.try_reap();
  }
}

}  // namespace

TEST(ProcessTable, ASnapshotFindsWhatAFullScanFindsForEveryTask) {
  auto tag = tend::test::unique_tag();
  // "/1" is a prefix of "/12": markers must match whole, not by prefix.
  std::string marker_a = std::string(kVariable) + "=" + tag + "/1";
  std::string marker_b = std::string(kVariable) + "=" + tag + "/12";
  // a: a grandchild that leaves the group and session (only the marker ties
  // it to a); b: a background child in b's group.
  SpawnedChild a = spawn_marked("(setsid sleep 1000 &); exec sleep 1000", marker_a);
  SpawnedChild b = spawn_marked("sleep 1000 & exec sleep 1000", marker_b);
  // Settled: a's subshell gone and its escapee running sleep; b's child past its exec.
  ASSERT_TRUE(tend::test::eventually([&] {
    return !tend::test::settled_processes_with(marker_a, 2, "sleep").empty() &&
           !tend::test::settled_processes_with(marker_b, 2, "sleep").empty();
  }));

  ProcessSnapshot snapshot = ProcessSnapshot::take();
  snapshot.read_environment_entries(kVariable);
  EXPECT_EQ(snapshot.task_processes(a.pid, marker_a), sorted(tend::test::processes_with(marker_a)));
  EXPECT_EQ(snapshot.task_processes(b.pid, marker_b), sorted(tend::test::processes_with(marker_b)));
  EXPECT_EQ(snapshot.task_processes(a.pid, marker_a), find_task_processes(a.pid, marker_a));
  EXPECT_EQ(snapshot.task_processes(b.pid, marker_b), find_task_processes(b.pid, marker_b));
  // Without the marker only the group and its descendants: not the escapee.
  EXPECT_EQ(snapshot.task_processes(a.pid, ""), std::vector<pid_t>{a.pid});
  EXPECT_EQ(snapshot.task_processes(b.pid, "").size(), 2u);
  kill_all({&a, &b}, {marker_a, marker_b});
}

TEST(ProcessTable, ASnapshotRefusesAMarkerWhoseEnvironmentItDidNotRead) {
  ProcessSnapshot snapshot = ProcessSnapshot::take();
  EXPECT_THROW(snapshot.task_processes(::getpid(), "TEND_TABLE_TEST=x"), std::logic_error);
  snapshot.read_environment_entries("OTHER_VARIABLE");
  EXPECT_THROW(snapshot.task_processes(::getpid(), "TEND_TABLE_TEST=x"), std::logic_error);
}

TEST(ProcessTable, ASnapshotKnowsOurChildren) {
  SpawnOptions o;
  o.argv = {"sleep", "1000"};
  SpawnedChild child = spawn(o);
  ProcessSnapshot snapshot = ProcessSnapshot::take();
  auto children = snapshot.children_of(::getpid());
  EXPECT_NE(std::find(children.begin(), children.end(), child.pid), children.end());
  EXPECT_TRUE(child.pidfd.send_signal(SIGKILL));
  kill_all({&child}, {});
}
