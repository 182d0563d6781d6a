#pragma once
// How spawn failures become SpawnErrors, whoever finds them: the checks made
// before spawning, a backend, or a child whose exec failed.

#include <memory>
#include <string>

#include "tend/process/spawn.hpp"

namespace tend::process {

/// Throws a SpawnError of `kind` about `subject`, with strerror(err) appended
/// to `what` when err != 0.
[[noreturn]] void fail(SpawnError::Kind kind, const std::string& subject, int err, const std::string& what);

/// What a failed exec of `program` says, whoever found it (the exec, or the
/// check made for a spawn that does not wait for it).
SpawnError exec_error(int err, const std::string& program);

namespace detail {

/// Filled in by a child whose exec failed, just before it exits 127; read by
/// the parent once the child has exited (its exit orders the writes).
struct ExecRecord {
  enum Step : int { none = 0, in_group, at_terminal, at_stdio, in_cwd, at_exec };
  volatile int step = none;  ///< a Step
  volatile int error = 0;    ///< the errno of the step that failed
  std::string program;       ///< argv[0] as given, for the message
  std::string cwd;
};

}  // namespace detail

/// A record for a child of `program` run in `cwd`, to be filled in should its
/// exec fail.
std::shared_ptr<detail::ExecRecord> new_exec_record(const std::string& program, const std::string& cwd);

/// The error a failed step of the child stands for: the same kinds and words
/// as the checks made before spawning.
SpawnError error_of(const detail::ExecRecord& r);

}  // namespace tend::process
