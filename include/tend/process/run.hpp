#pragma once
// Running a short command to completion and keeping what it printed: the
// blocking form of spawn() for tools tend drives itself (git, most of all).
//
// Hard parts: both pipes and the stdin pipe are served by one poll() loop, so
// a child that fills stderr while we write its stdin cannot deadlock us; the
// timeout KILLs the child's whole group; and a leftover descendant holding the
// pipes open after the child exited cannot hang us (a short drain, then we
// stop reading).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tend/process/pidfd.hpp"
#include "tend/process/spawn.hpp"

namespace tend::process {

/// How a run_captured command ended and what it printed.
struct CapturedRun {
  /// How it ended (a KILL when timed_out), and everything it wrote to stdout and to stderr.
  ExitStatus status;
  std::string out;
  std::string err;
  bool timed_out = false;  ///< the timeout passed and the group was KILLed
};

/// Spawns `options` (stdout and stderr on pipes of their own, whatever the
/// options say), writes `input` to its stdin (then closes it; with no input,
/// stdin is /dev/null), and waits for it to exit. Throws SpawnError when it
/// cannot start.
CapturedRun run_captured(SpawnOptions options, std::string_view input = {},
                         std::optional<std::chrono::milliseconds> timeout = {});

}  // namespace tend::process
