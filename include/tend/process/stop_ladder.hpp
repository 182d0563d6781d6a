#pragma once
// How a task is stopped: data, not code. A ladder is a list of (signal, wait)
// steps, like GNU parallel's --termseq; the default is TERM, 5 s, KILL. A
// ladder always ends in SIGKILL, so stopping always ends.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tend/process/pidfd.hpp"

namespace tend::process {

/// One rung of a ladder.
struct StopStep {
  /// The signal sent to the task's process group (and its escaped processes).
  int signal;
  std::chrono::milliseconds wait;  ///< how long to wait for the exit before the next step
};

/// The steps tried in order until the processes have exited (see the top of this file).
struct StopLadder {
  /// In order; a ladder from standard(), with_signal() or parse() ends in SIGKILL.
  std::vector<StopStep> steps;

  /// SIGTERM, `grace`, then SIGKILL.
  static StopLadder standard(std::chrono::milliseconds grace = std::chrono::seconds(5));
  /// `signal`, `grace`, then SIGKILL.
  static StopLadder with_signal(int signal, std::chrono::milliseconds grace);
  /// Parses GNU parallel's --termseq form, "TERM,5000,KILL,25" (milliseconds),
  /// also accepting durations ("TERM,5s,KILL"). A missing final KILL is added.
  static std::optional<StopLadder> parse(std::string_view text);

  /// "TERM,5000,KILL,1000".
  std::string to_string() const;
};

/// Stops process groups without an event loop, for destructors: each step
/// signals every group (through its leader's pidfd) and every escaped process,
/// then waits (poll on the pidfds) until all have exited or the step's time is
/// up. Leaders are our children and are reaped here; their exit statuses come
/// back in order (nullopt for one that outlived even SIGKILL's wait).
std::vector<std::optional<ExitStatus>> stop_groups_blocking(const std::vector<Pidfd*>& leaders,
                                                            const std::vector<Pidfd*>& escaped,
                                                            const StopLadder& ladder);

}  // namespace tend::process
