#include "tend/process/pidfd.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <string>
#include <system_error>

#include "support/test_support.hpp"
#include "tend/process/orphan_reaper.hpp"
#include "tend/process/spawn.hpp"

using namespace tend::process;
using tend::test::becomes_readable;

namespace {

// Its stdin is a pipe the test holds, so `read line` waits until the test
// closes it (with the default /dev/null it would end at once, and whether a
// check saw it running would be a race).
SpawnedChild start_shell(const std::string& script) {
  SpawnOptions o;
  o.shell_command = script;
  o.stdin_mode = StdinMode::pipe;
  return spawn(o);
}

ExitStatus reap(Pidfd& pidfd) {
  EXPECT_TRUE(becomes_readable(pidfd.fd()));
  auto status = pidfd.try_reap();
  EXPECT_TRUE(status.has_value());
  return status.value_or(ExitStatus::from_signal(0));
}

// The first line a child writes to its stdout (a pid, say).
std::string first_line(const SpawnedChild& child) {
  std::string line;
  char c;
  while (::read(child.stdout_fd.get(), &c, 1) == 1 && c != '\n') line += c;
  return line;
}

}  // namespace

TEST(Pidfd, OpensOnALiveChildThatHasNotExitedYet) {
  auto child = start_shell("read line");  // runs until its stdin closes
  auto pidfd = Pidfd::open(child.pid);
  ASSERT_TRUE(pidfd.has_value());
  EXPECT_TRUE(static_cast<bool>(*pidfd));
  EXPECT_EQ(pidfd->pid(), child.pid);
  EXPECT_FALSE(pidfd->has_exited());
  EXPECT_FALSE(child.pidfd.try_reap().has_value());  // still running: nothing to reap
  EXPECT_TRUE(pidfd->send_signal(SIGKILL));
  EXPECT_EQ(reap(child.pidfd), ExitStatus::from_signal(SIGKILL));
}

TEST(Pidfd, BecomesReadableWhenTheProcessExits) {
  auto child = start_shell("read line");
  EXPECT_FALSE(child.pidfd.has_exited());
  child.stdin_fd.reset();  // `read` sees EOF and the shell exits
  EXPECT_TRUE(becomes_readable(child.pidfd.fd()));
  EXPECT_TRUE(child.pidfd.has_exited());
}

TEST(Pidfd, TryReapGivesTheExitCodeOrTheSignal) {
  auto exits = start_shell("exit 7");
  EXPECT_EQ(reap(exits.pidfd), ExitStatus::from_exit(7));

  auto succeeds = start_shell("true");
  ExitStatus ok = reap(succeeds.pidfd);
  EXPECT_TRUE(ok.success());
  EXPECT_TRUE(ok.exited());

  auto killed = start_shell("kill -TERM $$; sleep 10");
  ExitStatus st = reap(killed.pidfd);
  EXPECT_TRUE(st.signaled());
  EXPECT_EQ(st.code, SIGTERM);
  EXPECT_FALSE(st.success());
}

TEST(Pidfd, TryReapForgetsASpawnedChild) {
  auto child = start_shell("exit 0");
  EXPECT_TRUE(SpawnedChildren::contains(child.pid));
  reap(child.pidfd);
  EXPECT_FALSE(SpawnedChildren::contains(child.pid));
}

TEST(Pidfd, OpenOnAProcessThatIsGoneGivesNothing) {
  auto child = start_shell("exit 0");
  const pid_t pid = child.pid;
  reap(child.pidfd);
  // Reaped: the PID names nothing now (PIDs are handed out in order, so it
  // is not someone else's yet).
  EXPECT_FALSE(Pidfd::open(pid).has_value());
}

TEST(Pidfd, OpenOnANonsensePidThrows) { EXPECT_THROW(Pidfd::open(-1), std::system_error); }

TEST(Pidfd, AReapedProcessIsNeverSignalledThroughItsPidfd) {
  auto child = start_shell("exit 0");
  reap(child.pidfd);
  // Whatever has its PID by now, the pidfd still means the process that is
  // gone: nothing receives these.
  EXPECT_FALSE(child.pidfd.send_signal(SIGKILL));
  EXPECT_FALSE(child.pidfd.send_signal_to_group(SIGKILL));
  EXPECT_TRUE(child.pidfd.has_exited());
}

TEST(Pidfd, SignalsReachTheWholeGroupItLeads) {
  // Two sleepers in the child's group (it leads it); their pids come first.
  auto child = start_shell("sleep 60 & echo $!; sleep 60 & echo $!; wait");
  auto first = Pidfd::open(std::stoi(first_line(child)));
  auto second = Pidfd::open(std::stoi(first_line(child)));
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(child.pidfd.send_signal_to_group(SIGKILL));
  EXPECT_TRUE(becomes_readable(first->fd()));
  EXPECT_TRUE(becomes_readable(second->fd()));
  EXPECT_EQ(reap(child.pidfd), ExitStatus::from_signal(SIGKILL));
}

TEST(Pidfd, SendSignalReachesOnlyTheProcessItself) {
  auto child = start_shell("sleep 60 & echo $!; wait");
  auto sleeper = Pidfd::open(std::stoi(first_line(child)));
  ASSERT_TRUE(sleeper);
  EXPECT_TRUE(child.pidfd.send_signal(SIGKILL));
  EXPECT_EQ(reap(child.pidfd), ExitStatus::from_signal(SIGKILL));
  EXPECT_FALSE(sleeper->has_exited());  // its group-mate lives on
  EXPECT_TRUE(sleeper->send_signal(SIGKILL));
  EXPECT_TRUE(becomes_readable(sleeper->fd()));
}

TEST(Pidfd, HasExitedWorksForAProcessThatIsNotOurChild) {
  // A grandchild: its parent, not we, will reap it.
  auto child = start_shell("sleep 60 & echo $!; wait");
  auto grandchild = Pidfd::open(std::stoi(first_line(child)));
  ASSERT_TRUE(grandchild);
  EXPECT_FALSE(grandchild->has_exited());
  EXPECT_TRUE(grandchild->send_signal(SIGTERM));
  EXPECT_TRUE(becomes_readable(grandchild->fd()));
  EXPECT_TRUE(grandchild->has_exited());
  EXPECT_EQ(reap(child.pidfd), ExitStatus::from_exit(0));  // `wait` saw its child go
}

TEST(Pidfd, ReleaseFdHandsTheDescriptorOver) {
  auto child = start_shell("exit 0");
  const int fd = child.pidfd.fd();
  UniqueFd taken = child.pidfd.release_fd();
  EXPECT_EQ(taken.get(), fd);
  EXPECT_FALSE(static_cast<bool>(child.pidfd));
  EXPECT_TRUE(becomes_readable(taken.get()));
  Pidfd again = Pidfd::adopt(child.pid, std::move(taken));  // and back, to reap it
  EXPECT_EQ(reap(again), ExitStatus::from_exit(0));
}
