#pragma once
// Starting a child: the only place tend creates processes.
//
// Hard parts, and how they are handled:
// - The spawning thread. posix_spawn (a vfork) parks the calling thread until
//   the child reaches exec, and on a busy machine the child first waits for a
//   CPU behind running tasks: about 400 us per spawn at 16 tasks on 2 cores,
//   during which an event loop handles nothing. On x86-64 tend clones the
//   child itself (clone3 with CLONE_VM, without CLONE_VFORK) on a stack of its
//   own, and the kernel clears a word when the child has exec'd or exited
//   (CLONE_CHILD_CLEARTID): a caller that sets `wait_for_exec = false` goes on
//   at once. Handlers of ours never run in the child (CLONE_CLEAR_SIGHAND) and
//   the child calls nothing but raw system calls until its exec. Where clone3
//   is missing (another CPU, a seccomp filter) posix_spawn does the same job.
// - Errors. The cwd is checked, the stdin file opened and the program looked
//   up (in the *child's* PATH, relative to the *child's* cwd) before spawning;
//   each failure is a SpawnError that names what was wrong. What only the exec
//   can tell (a file that is no program) is a SpawnError too, or, when the
//   caller did not wait for the exec, SpawnedChild::exec.
//   `/bin/sh -c` keeps the shell's own 127 for a missing command.
// - Inheritance. Every descriptor tend opens is O_CLOEXEC and the child also
//   closes all from 3 up, so no child holds another child's pipe open (the
//   classic "EOF never comes").
// - Signals. The child starts with an empty mask and default dispositions,
//   whatever the host program had blocked or ignored.
// - Reuse. The pidfd comes with the child (CLONE_PIDFD) or is opened before
//   the child can have been reaped, so it can never point at a recycled PID.
//
// The code: src/process/spawn.cpp builds a LaunchPlan from the options
// (launch_plan.cpp: every check above, the environment, stdio), hands it to
// one backend (spawn_clone3.cpp, with its stacks in child_stacks.cpp, or
// spawn_posix.cpp), and kills and reaps a child made by a spawn that then
// fails in one place (StartedChild). Tests switch backends through
// tend/process/testing.hpp.

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "tend/process/pidfd.hpp"
#include "tend/process/unique_fd.hpp"

namespace tend::process {

/// The child's stdin: /dev/null, a pipe we write to (SpawnedChild::stdin_fd), or SpawnOptions::stdin_file.
enum class StdinMode { null, pipe, file };

/// A pseudo-terminal for the child: it gets its own session with the PTY as
/// its controlling terminal, on stdin, stdout and stderr.
struct TerminalOptions {
  /// The window size, in character cells.
  unsigned short rows = 24;
  unsigned short cols = 80;
  std::string term = "xterm-256color";  ///< TERM in the child, unless set_env has one
};

/// A child that could not be started, with what was wrong and the system's reason.
class SpawnError : public std::runtime_error {
 public:
  /// The kinds of failure.
  enum class Kind {
    executable_not_found,  ///< no such program (or not in PATH)
    permission_denied,     ///< the program exists but cannot be executed
    bad_cwd,               ///< the working directory is missing or not a directory
    stdin_unreadable,      ///< the stdin file cannot be opened
    invalid_argument,      ///< an empty argv, a NUL in an argument, ...
    system,                ///< the system refused (out of processes, fds, memory)
  };
  /// `subject` is the offending value (empty when there is none); `ec` the
  /// system's reason (empty when there is none); `message` the whole story.
  SpawnError(Kind kind, std::string subject, std::error_code ec, const std::string& message)
      : std::runtime_error(message), kind_(kind), subject_(std::move(subject)), ec_(ec) {}

  /// What was wrong.
  Kind kind() const { return kind_; }
  /// The offending value: the program, the directory or the file.
  const std::string& subject() const { return subject_; }
  /// The system's reason, when there is one.
  std::error_code code() const { return ec_; }
  /// The status a shell gives a command that fails so: 126 for a program
  /// that exists but cannot be executed, 127 for anything else.
  int shell_exit_code() const { return kind_ == Kind::permission_denied ? 126 : 127; }

 private:
  Kind kind_;
  std::string subject_;
  std::error_code ec_;
};

/// How to start a child (spawn(), run_captured()). Every field has a default:
/// argv is the only one a caller must set (or shell_command).
struct SpawnOptions {
  /// The program and its arguments. argv[0] without a '/' is looked up in the
  /// child's PATH; with one, it is taken relative to `cwd`. Never a shell.
  std::vector<std::string> argv;
  /// When set, run `/bin/sh -c <shell_command>` instead of `argv`.
  std::optional<std::string> shell_command;
  /// Working directory of the child; empty means ours.
  std::filesystem::path cwd;
  /// Start from our environment (true) or from an empty one.
  bool inherit_env = true;
  /// Variables to set (a name that is also in `unset_env` stays unset).
  std::vector<std::pair<std::string, std::string>> set_env;
  /// Variables to remove from the inherited environment.
  std::vector<std::string> unset_env;
  /// The child's stdin.
  StdinMode stdin_mode = StdinMode::null;
  std::filesystem::path stdin_file;  ///< for StdinMode::file
  /// Send stderr into the stdout pipe (2>&1) instead of a pipe of its own.
  bool merge_stderr = false;
  /// When set, stdout (and stderr, unless stderr_file is set too or
  /// merge_stderr) go straight to this file, opened for appending (0600),
  /// instead of a pipe: the bytes are on disk whatever happens to us.
  std::filesystem::path stdout_file;
  std::filesystem::path stderr_file;
  /// When >= 0, descriptors of ours (kept open by the caller) that the
  /// child's stdout / stderr become, instead of a pipe or a file by path: a
  /// log file the caller has open already is not opened twice.
  int stdout_to = -1;
  int stderr_to = -1;
  /// Start a new session (setsid) instead of only a new process group: the
  /// child loses its controlling terminal, as a daemon should.
  bool new_session = false;
  /// Run on a pseudo-terminal instead of pipes (stdin_mode and merge_stderr
  /// are then ignored: all three are the terminal).
  std::optional<TerminalOptions> terminal;
  /// Return only once the child has exec'd (or failed to). When false, spawn()
  /// returns as soon as the child exists: the calling thread is not parked
  /// while the child waits for a CPU. Everything checked beforehand (program,
  /// cwd, stdin file) still throws; a failure only the exec can see makes the
  /// child exit 127 with SpawnedChild::exec saying why. Until its exec the
  /// child may not yet lead its process group; Pidfd::send_signal_to_group
  /// then signals the child itself. (The posix_spawn fallback always waits,
  /// but reports such a failure the same way: a stand-in child exits 127.)
  bool wait_for_exec = true;
};

namespace detail {
struct ExecRecord;
}

/// What a child spawned without waiting for its exec says about that exec.
/// Read it once the child has exited.
class ExecReport {
 public:
  /// What kept the child from running its program (its exit status is then
  /// 127); empty when it ran it, or when its spawn() waited for the exec.
  std::optional<SpawnError> failure() const;

 private:
  friend struct Launcher;
  std::shared_ptr<const detail::ExecRecord> record_;
};

/// A running child: its pidfd and our ends of its pipes. The child leads its
/// own process group (pgid == pid) from before its exec.
struct SpawnedChild {
  /// The child's PID (and process group id), and its pidfd (the one reaper of it).
  pid_t pid = -1;
  Pidfd pidfd;
  UniqueFd stdin_fd;   ///< write end, when StdinMode::pipe
  UniqueFd stdout_fd;  ///< read end (none when stdout goes to a file)
  UniqueFd stderr_fd;  ///< read end, unless merge_stderr
  UniqueFd pty_master; ///< the terminal's master side (read and write), for a terminal
  ExecReport exec;     ///< for a spawn that did not wait for the exec
};

/// Sets a terminal's window size (TIOCSWINSZ on its master); the child gets SIGWINCH.
void set_window_size(int pty_master, unsigned short rows, unsigned short cols);

/// Spawns a child in a new process group (a new session for a terminal).
/// Throws SpawnError.
SpawnedChild spawn(const SpawnOptions& options);

/// The environment `options` gives the child, as "K=V" strings.
std::vector<std::string> child_environment(const SpawnOptions& options);

/// The read-only /dev/null every child with a null stdin gets (by dup2: cheaper
/// than opening it in each child). Opened on first use and kept for the life
/// of the process: one descriptor, close-on-exec, never a leak that grows.
int shared_dev_null();

}  // namespace tend::process
