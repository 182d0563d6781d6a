#include "tend/process/spawn.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>

#include "support/test_support.hpp"
#include "tend/process/process_table.hpp"
#include "tend/process/testing.hpp"

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

// Every test runs four ways: tend's clone3 waiting for the exec, clone3 not
// waiting (what the Supervisor does), and the posix_spawn fallback asked to
// wait or not (it always does, but reports as the caller asked).
enum class Mode { clone3_waiting, clone3_not_waiting, posix_spawn, posix_spawn_not_waiting };

bool waits(Mode m) { return m == Mode::clone3_waiting || m == Mode::posix_spawn; }
bool posix(Mode m) { return m == Mode::posix_spawn || m == Mode::posix_spawn_not_waiting; }

std::string mode_name(const ::testing::TestParamInfo<Mode>& info) {
  switch (info.param) {
    case Mode::clone3_waiting: return "Clone3";
    case Mode::clone3_not_waiting: return "Clone3NotWaiting";
    case Mode::posix_spawn: return "PosixSpawn";
    default: return "PosixSpawnNotWaiting";
  }
}

class Spawn : public ::testing::TestWithParam<Mode> {
 protected:
  void SetUp() override {
    use_posix_spawn(posix(GetParam()));
    if (!posix(GetParam()) && spawn_backend() != SpawnBackend::clone3) {
      GTEST_SKIP() << "clone3 is not used in this build or on this kernel";
    }
  }
  void TearDown() override { use_posix_spawn(false); }

  SpawnedChild start(SpawnOptions o) {
    o.wait_for_exec = waits(GetParam());
    return spawn(o);
  }
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Backends, Spawn,
                         ::testing::Values(Mode::clone3_waiting, Mode::clone3_not_waiting, Mode::posix_spawn,
                                           Mode::posix_spawn_not_waiting),
                         mode_name);

TEST_P(Spawn, RunsAnArgvWithoutAShell) {
  SpawnOptions o;
  o.argv = {"echo", "$(touch pwned)", "a b"};
  auto child = start(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "$(touch pwned) a b\n");
  EXPECT_TRUE(wait_exit(child).success());
}

TEST_P(Spawn, RunsAShellCommandWhenAsked) {
  SpawnOptions o;
  o.shell_command = "echo $((1+2)); exit 3";
  auto child = start(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "3\n");
  EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(3));
}

TEST_P(Spawn, KeepsStdoutAndStderrApart) {
  SpawnOptions o;
  o.shell_command = "echo out; echo err >&2";
  auto child = start(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "out\n");
  EXPECT_EQ(read_all(child.stderr_fd.get()), "err\n");
  wait_exit(child);
}

TEST_P(Spawn, SetsCwdAndEnvironment) {
  TempDir dir;
  ::setenv("TEND_SPAWN_TEST_REMOVE", "x", 1);
  SpawnOptions o;
  o.shell_command = "pwd; echo \"$FOO\"; echo \"${TEND_SPAWN_TEST_REMOVE-unset}\"";
  o.cwd = dir.path();
  o.set_env = {{"FOO", "bar baz"}};
  o.unset_env = {"TEND_SPAWN_TEST_REMOVE"};
  auto child = start(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()),
            std::filesystem::canonical(dir.path()).string() + "\nbar baz\nunset\n");
  wait_exit(child);
}

TEST_P(Spawn, EmptyEnvironmentWhenNotInherited) {
  SpawnOptions o;
  o.argv = {"/usr/bin/env"};
  o.inherit_env = false;
  o.set_env = {{"ONLY", "this"}};
  auto child = start(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "ONLY=this\n");
  wait_exit(child);
}

TEST_P(Spawn, StdinFromPipeAndFile) {
  TempDir dir;
  SpawnOptions o;
  o.argv = {"cat"};
  o.stdin_mode = StdinMode::pipe;
  auto child = start(o);
  ASSERT_EQ(::write(child.stdin_fd.get(), "hello", 5), 5);
  child.stdin_fd.reset();
  EXPECT_EQ(read_all(child.stdout_fd.get()), "hello");
  wait_exit(child);

  std::ofstream(dir.path() / "in.txt") << "from file";
  o.stdin_mode = StdinMode::file;
  o.stdin_file = dir.path() / "in.txt";
  auto child2 = start(o);
  EXPECT_EQ(read_all(child2.stdout_fd.get()), "from file");
  wait_exit(child2);
}

TEST_P(Spawn, StdinIsNullByDefault) {
  SpawnOptions o;
  o.argv = {"cat"};
  auto child = start(o);
  EXPECT_EQ(read_all(child.stdout_fd.get()), "");
  EXPECT_TRUE(wait_exit(child).success());
}

TEST_P(Spawn, MissingProgramIsATypedError) {
  SpawnOptions o;
  o.argv = {"tend-no-such-program-xyz", "arg"};
  try {
    start(o);
    FAIL() << "spawn should throw";
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::executable_not_found);
    EXPECT_EQ(e.subject(), "tend-no-such-program-xyz");
    EXPECT_NE(std::string(e.what()).find("tend-no-such-program-xyz"), std::string::npos) << e.what();
  }
  o.argv = {"/nonexistent/dir/prog"};
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::executable_not_found);
  }
}

TEST_P(Spawn, NonExecutableFileIsPermissionDenied) {
  TempDir dir;
  std::ofstream(dir.path() / "script") << "#!/bin/sh\necho hi\n";
  SpawnOptions o;
  o.argv = {(dir.path() / "script").string()};
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::permission_denied) << e.what();
  }
}

TEST_P(Spawn, APathIsTakenInTheChildsCwdAndADirectoryIsNoProgram) {
  TempDir dir;
  {
    std::ofstream script(dir.path() / "run.sh");
    script << "#!/bin/sh\nexit 7\n";
  }
  std::filesystem::permissions(dir.path() / "run.sh", std::filesystem::perms::owner_all);
  SpawnOptions o;
  o.argv = {"./run.sh"};
  o.cwd = dir.path();
  auto child = start(o);
  EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(7));
  o.argv = {"./tend-nothing-here"};
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::executable_not_found) << e.what();
    EXPECT_NE(std::string(e.what()).find("./tend-nothing-here"), std::string::npos) << e.what();
  }
  o.argv = {dir.path().string()};
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::permission_denied) << e.what();
  }
}

TEST_P(Spawn, BadCwdIsATypedError) {
  SpawnOptions o;
  o.argv = {"true"};
  o.cwd = "/nonexistent/tend/cwd";
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::bad_cwd);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tend/cwd"), std::string::npos) << e.what();
  }
}

TEST_P(Spawn, UnreadableStdinFileIsATypedError) {
  SpawnOptions o;
  o.argv = {"cat"};
  o.stdin_mode = StdinMode::file;
  o.stdin_file = "/nonexistent/input.txt";
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::stdin_unreadable);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/input.txt"), std::string::npos);
  }
}

TEST_P(Spawn, ShellKeepsItsOwn127ForAMissingCommand) {
  SpawnOptions o;
  o.shell_command = "tend-no-such-program-xyz";
  auto child = start(o);
  read_all(child.stdout_fd.get());
  EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(127));
}

TEST_P(Spawn, ChildLeadsItsOwnProcessGroup) {
  SpawnOptions o;
  o.shell_command = "echo up; exec sleep 10";
  auto child = start(o);
  char up[3];
  ASSERT_EQ(::read(child.stdout_fd.get(), up, 3), 3);  // past its exec, whether or not spawn waited for it
  auto info = read_process_info(child.pid);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pgid, child.pid);
  EXPECT_TRUE(child.pidfd.send_signal_to_group(SIGKILL));
  EXPECT_EQ(wait_exit(child), ExitStatus::from_signal(SIGKILL));
}

TEST_P(Spawn, ChildStartsWithDefaultSignalsEvenIfWeIgnoreThem) {
  struct sigaction old {};
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &old);
  SpawnOptions o;
  o.argv = {"sleep", "10"};
  auto child = start(o);
  ::sigaction(SIGTERM, &old, nullptr);
  child.pidfd.send_signal(SIGTERM);
  EXPECT_EQ(wait_exit(child), ExitStatus::from_signal(SIGTERM));
}

TEST_P(Spawn, NoSignalWeIgnoreStaysIgnoredInTheChild) {
  std::vector<int> ignored = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGUSR1, SIGTSTP, SIGXFSZ, SIGWINCH};
  std::vector<struct sigaction> old(ignored.size());
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  for (std::size_t i = 0; i < ignored.size(); ++i) ::sigaction(ignored[i], &ignore, &old[i]);
  SpawnOptions o;
  o.argv = {"grep", "SigIgn", "/proc/self/status"};
  auto child = start(o);
  for (std::size_t i = 0; i < ignored.size(); ++i) ::sigaction(ignored[i], &old[i], nullptr);
  std::string line = read_all(child.stdout_fd.get());
  wait_exit(child);
  unsigned long long mask = ~0ULL;
  ASSERT_EQ(std::sscanf(line.c_str(), "SigIgn: %llx", &mask), 1) << line;
  // Bits 0-30 are signals 1-31; glibc's posix_spawn itself ignores its two
  // internal signals (32, 33) in every child, as a raw posix_spawn does too.
  EXPECT_EQ(mask & 0x7fffffffULL, 0u) << line;
}

TEST_P(Spawn, ChildInheritsNoStrayDescriptors) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // deliberately without O_CLOEXEC
  SpawnOptions o;
  o.shell_command = "ls /proc/self/fd | wc -l";
  auto child = start(o);
  ::close(fds[0]);
  ::close(fds[1]);
  // 0, 1, 2 and the fd ls opens for the directory.
  EXPECT_EQ(read_all(child.stdout_fd.get()), "4\n");
  wait_exit(child);
}

TEST_P(Spawn, NulInAnArgumentIsRejected) {
  SpawnOptions o;
  o.argv = {"echo", std::string("a\0b", 3)};
  EXPECT_THROW(start(o), SpawnError);
}

TEST_P(Spawn, AFileThatIsNoProgramIsTold) {
  TempDir dir;
  std::ofstream(dir.path() / "data") << "\x01\x02 not a program\n";
  std::filesystem::permissions(dir.path() / "data", std::filesystem::perms::owner_all);
  SpawnOptions o;
  o.argv = {(dir.path() / "data").string()};
  if (!waits(GetParam())) {
    // Only the exec can tell: spawn() has returned by then, so the child says it.
    auto child = start(o);
    EXPECT_EQ(wait_exit(child), ExitStatus::from_exit(127));
    auto failure = child.exec.failure();
    ASSERT_TRUE(failure.has_value());
    EXPECT_EQ(failure->kind(), SpawnError::Kind::permission_denied);
    EXPECT_EQ(failure->code(), std::error_code(ENOEXEC, std::generic_category()));
    EXPECT_NE(std::string(failure->what()).find("data"), std::string::npos) << failure->what();
    return;
  }
  try {
    start(o);
    FAIL();
  } catch (const SpawnError& e) {
    EXPECT_EQ(e.kind(), SpawnError::Kind::permission_denied) << e.what();
    EXPECT_EQ(e.code(), std::error_code(ENOEXEC, std::generic_category())) << e.what();
  }
}

TEST_P(Spawn, ASignalToTheGroupRightAfterTheSpawnReachesTheChild) {
  // Not waiting for the exec, the signal may come before the child has made
  // its group: it must reach the child all the same.
  SpawnOptions o;
  o.argv = {"sleep", "10"};
  for (int i = 0; i < 100; ++i) {
    auto child = start(o);
    ASSERT_TRUE(child.pidfd.send_signal_to_group(SIGKILL)) << "round " << i;
    ASSERT_EQ(wait_exit(child), ExitStatus::from_signal(SIGKILL)) << "round " << i;
  }
}

TEST_P(Spawn, AStdioSourceAmongZeroToTwoIsNotOverwrittenFirst) {
  // Our fd 0 is a pipe and becomes the child's stdout; the child's stdin
  // (/dev/null) is set up first and must not land on it beforehand.
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  int saved_stdin = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
  ASSERT_GE(saved_stdin, 0);
  ASSERT_EQ(::dup3(fds[1], 0, O_CLOEXEC), 0);
  ::close(fds[1]);
  SpawnOptions o;
  o.argv = {"echo", "through fd 0"};
  o.stdout_to = 0;
  std::optional<SpawnedChild> child;
  try {
    child = start(o);
  } catch (...) {
    ::dup2(saved_stdin, 0);
    throw;
  }
  ::dup2(saved_stdin, 0);  // the write end's last copy is now the child's
  ::close(saved_stdin);
  EXPECT_EQ(read_all(fds[0]), "through fd 0\n");
  ::close(fds[0]);
  EXPECT_TRUE(wait_exit(*child).success());
}

TEST(SpawnClone3, ABurstOfSpawnsNotWaitingAllRunTheirPrograms) {
  if (spawn_backend() != SpawnBackend::clone3) GTEST_SKIP() << "clone3 is not used here";
  // More children between clone and exec than there are stacks to give out:
  // later spawns wait for a stack, none is used twice at once.
  std::vector<SpawnedChild> children;
  for (int i = 0; i < 300; ++i) {
    SpawnOptions o;
    o.argv = {"echo", std::to_string(i)};
    o.wait_for_exec = false;
    children.push_back(spawn(o));
  }
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(read_all(children[i].stdout_fd.get()), std::to_string(i) + "\n");
    EXPECT_TRUE(wait_exit(children[i]).success());
    EXPECT_FALSE(children[i].exec.failure().has_value());
  }
}
