#include "tend/process/orphan_reaper.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "support/test_support.hpp"
#include "tend/process/pidfd.hpp"
#include "tend/process/spawn.hpp"

extern char** environ;

using namespace tend::process;
using namespace std::chrono_literals;
using tend::test::becomes_readable;

namespace {

bool is_child(pid_t pid) {
  auto children = list_children();
  return std::find(children.begin(), children.end(), pid) != children.end();
}

// Whether `pid` is a zombie child of ours (exited, not reaped).
bool is_unreaped(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

// Starts a shell that starts `sleep 60` in the background, says its pid and
// exits: the sleeper is orphaned, and as a subreaper we adopt it. Returns a
// pidfd for the sleeper, once it is our child.
Pidfd adopt_a_sleeper() {
  SpawnOptions o;
  o.shell_command = "sleep 60 & echo $!";
  SpawnedChild shell = spawn(o);
  std::string line;
  char c;
  while (::read(shell.stdout_fd.get(), &c, 1) == 1 && c != '\n') line += c;
  const pid_t sleeper = std::stoi(line);
  auto pidfd = Pidfd::open(sleeper);
  EXPECT_TRUE(becomes_readable(shell.pidfd.fd()));
  EXPECT_TRUE(shell.pidfd.try_reap().has_value());
  EXPECT_TRUE(tend::test::eventually([&] { return is_child(sleeper); }));
  return pidfd ? std::move(*pidfd) : Pidfd();
}

class OrphanReaper : public ::testing::Test {
 protected:
  void SetUp() override { become_subreaper(); }
};

}  // namespace

TEST_F(OrphanReaper, BecomesASubreaper) { EXPECT_TRUE(is_subreaper()); }

TEST(OrphanReaperChildren, ListsChildrenSpawnedFromAnyThread) {
  SpawnedChild child;
  std::thread([&] {
    SpawnOptions o;
    o.argv = {"sleep", "60"};
    child = spawn(o);
  }).join();
  EXPECT_TRUE(is_child(child.pid));  // though the thread that spawned it is gone
  child.pidfd.send_signal(SIGKILL);
  EXPECT_TRUE(becomes_readable(child.pidfd.fd()));
  EXPECT_TRUE(child.pidfd.try_reap().has_value());
}

TEST_F(OrphanReaper, AdoptsAnEscapedGrandchildAndReapsItWhenItDies) {
  Pidfd sleeper = adopt_a_sleeper();
  ASSERT_TRUE(sleeper);
  EXPECT_FALSE(SpawnedChildren::contains(sleeper.pid()));
  EXPECT_EQ(reap_orphans(), 0u);  // alive: nothing to reap
  EXPECT_TRUE(is_child(sleeper.pid()));

  EXPECT_TRUE(sleeper.send_signal(SIGKILL));
  EXPECT_TRUE(becomes_readable(sleeper.fd()));
  EXPECT_GE(reap_orphans(), 1u);
  EXPECT_FALSE(is_unreaped(sleeper.pid()));
  EXPECT_FALSE(is_child(sleeper.pid()));
}

TEST_F(OrphanReaper, LeavesChildrenTendSpawnedToTheirPidfds) {
  SpawnOptions o;
  o.shell_command = "exit 7";
  SpawnedChild child = spawn(o);
  ASSERT_TRUE(becomes_readable(child.pidfd.fd()));
  reap_orphans();
  EXPECT_TRUE(is_unreaped(child.pid));  // its exit status is still there for its pidfd
  EXPECT_EQ(child.pidfd.try_reap(), ExitStatus::from_exit(7));
}

TEST_F(OrphanReaper, ReapsAnExitedChildTendDidNotSpawn) {
  // The host's own child, say: reap_orphans() cannot tell it from an adopted
  // one (the header's warning), and reaps it.
  pid_t pid = -1;
  const char* argv[] = {"true", nullptr};
  ASSERT_EQ(::posix_spawnp(&pid, "true", nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  auto pidfd = Pidfd::open(pid);
  ASSERT_TRUE(pidfd);
  ASSERT_TRUE(becomes_readable(pidfd->fd()));
  EXPECT_GE(reap_orphans(), 1u);
  EXPECT_FALSE(is_unreaped(pid));
}

TEST_F(OrphanReaper, WithinALimitWaitsForAdoptedChildrenJustKilled) {
  Pidfd sleeper = adopt_a_sleeper();
  ASSERT_TRUE(sleeper);
  EXPECT_TRUE(sleeper.send_signal(SIGKILL));
  // No wait for the death here: reap_orphans_within() does that itself.
  EXPECT_GE(reap_orphans_within(10s), 1u);
  EXPECT_FALSE(is_unreaped(sleeper.pid()));
  EXPECT_FALSE(is_child(sleeper.pid()));
}

TEST_F(OrphanReaper, WithinALimitGivesUpOnAdoptedChildrenThatLiveOn) {
  Pidfd sleeper = adopt_a_sleeper();
  ASSERT_TRUE(sleeper);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(reap_orphans_within(200ms), 0u);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 150ms);  // it waited for the sleeper ...
  EXPECT_LT(took, 5s);     // ... but not past its limit (generously, on a loaded machine)
  EXPECT_FALSE(sleeper.has_exited());
  sleeper.send_signal(SIGKILL);
  EXPECT_TRUE(becomes_readable(sleeper.fd()));
  reap_orphans();
}
