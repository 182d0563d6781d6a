#pragma once
// What a child is to be, decided and checked before any backend runs.
//
// prepare_launch() turns SpawnOptions into a LaunchPlan in small steps, each
// of which may throw a SpawnError naming what was wrong: the argv and the
// variables are checked, the cwd opened, the environment built (with TERM
// for a terminal), the program looked up in the child's PATH relative to
// the child's cwd, and its stdio routed (pipes, files, a terminal). What it
// opens on our side is in LaunchEnds. A backend then only has to make a
// process of the plan; nothing it does can fail for a reason the caller
// could have fixed, except what only the exec can tell.

#include <memory>
#include <string>
#include <vector>

#include "tend/process/spawn.hpp"
#include "tend/process/unique_fd.hpp"

namespace tend::process {

/// Everything a backend hands the child. Immutable once built, and shared
/// (std::shared_ptr<const LaunchPlan>): a child cloned into our memory reads
/// it until its exec, after spawn() has returned.
class LaunchPlan {
 public:
  LaunchPlan(std::string program, std::vector<std::string> argv, std::vector<std::string> env, std::string cwd,
             std::string terminal, const int (&stdio)[3], bool new_session);
  LaunchPlan(const LaunchPlan&) = delete;  // argv_ptrs and env_ptrs point into it
  LaunchPlan& operator=(const LaunchPlan&) = delete;

  const std::string program;            ///< what to exec: argv[0], or where PATH has it
  const std::vector<std::string> argv;  ///< argv[0] as the caller gave it
  const std::vector<std::string> env;   ///< "K=V"
  const std::string cwd;                ///< empty: ours
  const std::string terminal;           ///< PTY slave path (the child's stdin, stdout and stderr), or empty
  const int stdio[3];                   ///< descriptors of ours the child's 0, 1, 2 become; none below 3 but its own
  const bool new_session;               ///< setsid instead of only a new process group

  /// NUL-terminated arrays for execve and posix_spawn.
  char* const* argv_data() const { return argv_ptrs_.data(); }
  char* const* env_data() const { return env_ptrs_.data(); }

 private:
  std::vector<char*> argv_ptrs_;
  std::vector<char*> env_ptrs_;
};

/// Our side of a launch: the ends of the child's pipes that the caller gets,
/// and what was opened only for the child (closed once it exists: a clone
/// without CLONE_FILES has its own copy of our descriptors).
struct LaunchEnds {
  UniqueFd stdin_write;   ///< StdinMode::pipe
  UniqueFd stdout_read;   ///< stdout to a pipe
  UniqueFd stderr_read;   ///< stderr to a pipe of its own
  UniqueFd pty_master;    ///< a terminal
  std::vector<UniqueFd> child_only;
};

struct PreparedLaunch {
  std::shared_ptr<const LaunchPlan> plan;
  LaunchEnds ends;
};

/// Checks `options` and builds the plan, opening what the child needs.
/// Throws SpawnError (std::system_error when a pipe cannot be made).
PreparedLaunch prepare_launch(const SpawnOptions& options);

}  // namespace tend::process
