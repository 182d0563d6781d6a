#pragma once
// A process referred to by a pidfd instead of a PID.
//
// A PID can be reused as soon as its process is reaped; a pidfd cannot. Every
// signal tend sends to a process it knows goes through a pidfd, and a child is
// reaped from its pidfd in exactly one place (Pidfd::try_reap), so no second
// reaper can steal an exit status and no signal can reach a stranger.

#include <sys/types.h>

#include <optional>

#include "tend/process/unique_fd.hpp"

namespace tend::process {

/// How a process ended: exited with a code, or was ended by a signal.
struct ExitStatus {
  /// Exited (with `code`) or ended by a signal (`code` is its number).
  enum class Kind { exited, signaled };
  /// How it ended.
  Kind kind = Kind::exited;
  int code = 0;    ///< exit code when exited, signal number when signaled
  /// Ended by a signal that dumped core.
  bool core_dumped = false;

  /// Which way it ended; success() is an exit with code 0.
  bool exited() const { return kind == Kind::exited; }
  bool signaled() const { return kind == Kind::signaled; }
  bool success() const { return exited() && code == 0; }
  /// An exit with code `c`, or an end by signal `s`.
  static ExitStatus from_exit(int c) { return {Kind::exited, c, false}; }
  static ExitStatus from_signal(int s, bool core = false) { return {Kind::signaled, s, core}; }
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

/// Owns a pidfd and the PID it was opened for. Movable, not copyable; an
/// empty one (default-made, or after release_fd) is false.
class Pidfd {
 public:
  /// Empty: refers to no process.
  Pidfd() = default;

  /// Opens a pidfd for `pid` (pidfd_open). Returns nullopt when the process is
  /// gone (ESRCH); throws std::system_error on other failures.
  static std::optional<Pidfd> open(pid_t pid);

  /// Takes a pidfd obtained elsewhere (clone's CLONE_PIDFD).
  static Pidfd adopt(pid_t pid, UniqueFd fd) { return Pidfd(pid, std::move(fd)); }

  /// The PID it refers to (-1 when empty), its descriptor (-1 when empty or
  /// released), and whether it holds one.
  pid_t pid() const { return pid_; }
  int fd() const { return fd_.get(); }
  explicit operator bool() const { return static_cast<bool>(fd_); }

  /// Sends `sig` to this process. Returns false once it has been reaped
  /// (try_reap); an exited process not yet reaped still takes the signal,
  /// which does nothing to it.
  bool send_signal(int sig) const;

  /// Sends `sig` to the process group this process leads. Uses
  /// PIDFD_SIGNAL_PROCESS_GROUP where the kernel has it, else kill(-pgid),
  /// which is safe while the leader is unreaped (its PID, and so the group
  /// id, cannot be reused). A child caught before it has made its group (a
  /// spawn that does not wait for the exec) gets the signal itself. Returns
  /// false when nothing received it.
  bool send_signal_to_group(int sig) const;

  /// Reaps the process if it has exited (waitid(P_PIDFD, WNOHANG)). Only for a
  /// child of ours; returns nullopt while it still runs.
  std::optional<ExitStatus> try_reap();

  /// True once the process has exited (the pidfd polls readable); works for
  /// any process, child or not.
  bool has_exited() const;

  /// Takes the descriptor out, e.g. to hand to an event loop.
  UniqueFd release_fd() { return std::move(fd_); }

 private:
  Pidfd(pid_t pid, UniqueFd fd) : pid_(pid), fd_(std::move(fd)) {}
  pid_t pid_ = -1;
  UniqueFd fd_;
  bool reaped_ = false;  ///< try_reap() has had its exit: no process left to signal
};

}  // namespace tend::process
