#include "tend/process/spawn.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/test_support.hpp"
#include "tend/process/process_table.hpp"

using namespace tend::process;
using tend::test::TempDir;

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

ExitStatus wait_exit(SpawnedChild& child) {
  pollfd p{child.pidfd.fd(), POLLIN, 0};
  ::poll(&p, 1, 10'000);
  auto status = child.pidfd.try_reap();
  EXPECT_TRUE(status.has_value());
  return status.value_or(ExitStatus::from_signal(0));
}

}  // namespace

TEST(Spawn, RunsAnArgvWithoutAShell) {
  SpawnOptions o;
  o.argv = {"echo", "$(touch pwned)", "a b"};
  auto child = spawn(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "$(touch pwned) a b\n");
  EXPECT_TRUE(wait_exit(child).success());
}

TEST(Spawn, RunsAShellCommandWhenAsked) {
  SpawnOptions o;
  o.shell_command = "echo $((1+2)); exit 3";
  auto child = spawn(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "3\n");
  EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(3));
}

TEST(Spawn, KeepsStdoutAndStderrApart) {
  SpawnOptions o;
  o.shell_command = "echo out; echo err >&2";
  auto child = spawn(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "out\n");
  EXPECT_EQ(read_all(child.stderr_fd.get()), "err\n");
  wait_exit(child);
}

TEST(Spawn, SetsCwdAndEnvironment) {
  TempDir dir;
  ::setenv("TEND_SPAWN_TEST_REMOVE", "x", 1);
  SpawnOptions o;
  o.shell_command = "pwd; echo \"$FOO\"; echo \"${TEND_SPAWN_TEST_REMOVE-unset}\"";
  o.cwd = dir.path();
  o.set_env = {{"FOO", "bar baz"}};
  o.unset_env = {"TEND_SPAWN_TEST_REMOVE"};
  auto child = spawn(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()),
            std::filesystem::canonical(dir.path()).string() + "\nbar baz\nunset\n");
  wait_exit(child);
}

TEST(Spawn, EmptyEnvironmentWhenNotInherited) {
  SpawnOptions o;
  o.argv = {"/usr/bin/env"};
  o.inherit_env = false;
  o.set_env = {{"ONLY", "this"}};
  auto child = spawn(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "ONLY=this\n");
  wait_exit(child);
}

TEST(Spawn, StdinFromPipeAndFile) {
  TempDir dir;
  SpawnOptions o;
  o.argv = {"cat"};
  o.stdin_mode = StdinMode::pipe;
  auto child = spawn(o);
  ASSERT_EQ(::write(child.stdin_fd.get(), "hello", 5), 5);
  child.stdin_fd.reset();
  EXPECT_EQ(read_all(child.stdout_fd.get()), "hello");
  wait_exit(child);

  std::ofstream(dir.path() / "in.txt") << "from file";
  o.stdin_mode = StdinMode::file;
  o.stdin_file = dir.path() / "in.txt";
  auto child2 = spawn(o);
  EXPECT_EQ(read_all(child2.stdout_fd.get()), "from file");
  wait_exit(child2);
}

TEST(Spawn, StdinIsNullByDefault) {
  SpawnOptions o;
  o.argv = {"cat"};
  auto child = spawn(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "");
  EXPECT_TRUE(wait_exit(child).success());
}

TEST(Spawn, MissingProgramIsATypedError) {
  SpawnOptions o;
  o.argv = {"tend-no-such-program-xyz", "arg"};
  try {
    spawn(o);
    FAIL() << "spawn should throw";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::executable_not_found);
    EXPECT_EQ(e.subject(), "tend-no-such-program-xyz");
    EXPECT_NE(std::string(e.what()).find("tend-no-such-program-xyz"), std::string::npos) << e.what();
  }
  o.argv = {"/nonexistent/dir/prog"};
  try {
    spawn(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::executable_not_found);
  }
}

TEST(Spawn, NonExecutableFileIsPermissionDenied) {
  TempDir dir;
  std::ofstream(dir.path() / "script") << "#!/bin/sh\necho hi\n";
  SpawnOptions o;
  o.argv = {(dir.path() / "script").string()};
  try {
    spawn(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::permission_denied) << e.what();
  }
}

TEST(Spawn, APathIsTakenInTheChildsCwdAndADirectoryIsNoProgram) {
  TempDir dir;
  {
    std::ofstream script(dir.path() / "run.sh");
    script << "#!/bin/sh\nexit 7\n";
  }
  std::filesystem::permissions(dir.path() / "run.sh", std::filesystem::perms::owner_all);
  SpawnOptions o;
  o.argv = {"./run.sh"};
  o.cwd = dir.path();
  auto child = spawn(o);
  EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(7));
  o.argv = {"./tend-nothing-here"};
  try {
    spawn(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::executable_not_found) << e.what();
    EXPECT_NE(std::string(e.what()).find("./tend-nothing-here"), std::string::npos) << e.what();
  }
  o.argv = {dir.path().string()};
  try {
    spawn(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::permission_denied) << e.what();
  }
}

TEST(Spawn, BadCwdIsATypedError) {
  SpawnOptions o;
  o.argv = {"true"};
  o.cwd = "/nonexistent/tend/cwd";
  try {
    spawn(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::bad_cwd);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tend/cwd"), std::string::npos) << e.what();
  }
}

TEST(Spawn, UnreadableStdinFileIsATypedError) {
  SpawnOptions o;
  o.argv = {"cat"};
  o.stdin_mode = StdinMode::file;
  o.stdin_file = "/nonexistent/input.txt";
  try {
    spawn(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::stdin_unreadable);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/input.txt"), std::string::npos);
  }
}

TEST(Spawn, ShellKeepsItsOwn127ForAMissingCommand) {
  SpawnOptions o;
  o.shell_command = "tend-no-such-program-xyz";
  auto child = spawn(o);
  read_all(child.stdout_fd.get());
  EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(127));
}

TEST(Spawn, ChildLeadsItsOwnProcessGroup) {
  SpawnOptions o;
  o.argv = {"sleep", "10"};
  auto child = spawn(o);
  auto info = read_process_info(child.pid);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pgid, child.pid);
  EXPECT_TRUE(child.pidfd.send_signal_to_group(SIGKILL));
  EXPECT_EQ(wait_exit(child), ExitStatus::from_signal(SIGKILL));
}

TEST(Spawn, ChildStartsWithDefaultSignalsEvenIfWeIgnoreThem) {
  struct sigaction old {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &old);
  SpawnOptions o;
  o.argv = {"sleep", "10"};
  auto child = spawn(o);
  ::sigaction(SIGTERM, &old, nullptr);
  child.pidfd.send_signal(SIGTERM);
  EXPECT_EQ(wait_exit(child), ExitStatus::from_signal(SIGTERM));
}

TEST(Spawn, NoSignalWeIgnoreStaysIgnoredInTheChild) {
  std::vector<int> ignored = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGUSR1, SIGTSTP, SIGXFSZ, SIGWINCH};
  std::vector<struct sigaction> old(ignored.size());
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  for (std::size_t i = 0; i < ignored.size(); ++i) ::sigaction(ignored[i], &ignore, &old[i]);
  SpawnOptions o;
  o.argv = {"grep", "SigIgn", "/proc/self/status"};
  auto child = spawn(o);
  for (std::size_t i = 0; i < ignored.size(); ++i) ::sigaction(ignored[i], &old[i], nullptr);
  std::string line = read_all(child.stdout_fd.get());
  wait_exit(child);
  unsigned long long mask = ~0ULL;
  ASSERT_EQ(std::sscanf(line.c_str(), "SigIgn: %llx", &mask), 1) << line;
  // Bits 0-30 are signals 1-31; glibc's posix_spawn itself ignores its two
  // internal signals (32, 33) in every child, as a raw posix_spawn does too.
  EXPECT_EQ(mask & 0x7fffffffULL, 0u) << line;
}

TEST(Spawn, ChildInheritsNoStrayDescriptors) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // deliberately without O_CLOEXEC
  SpawnOptions o;
  o.shell_command = "ls /proc/self/fd | wc -l";
  auto child = spawn(o);
  ::close(fds[0]);
  ::close(fds[1]);
  // 0, 1, 2 and the fd ls opens for the directory.
  EXPECT_EQ(read_all(child.stdout_fd.get()), "4\n");
  wait_exit(child);
}

TEST(Spawn, NulInAnArgumentIsRejected) {
  SpawnOptions o;
  o.argv = {"echo", std::string("a\0b", 3)};
  EXPECT_THROW(spawn(o), SpawnError);
}
