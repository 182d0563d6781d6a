#pragma once
// What `tend run` tells about the task it started: its id (and port), or,
// when it could not start, why, with a shell's exit status; and `--wait`,
// which follows the task as a shell follows a foreground job.

#include "client.hpp"
#include "commands.hpp"

namespace tend::cli {

/// What `tend run --help` says of the limits a task gets by default.
const char* run_limits_footer();

/// Prints the answer of task.run without --wait: the id ("4"), its port
/// ("4 port 52881", "4 ready on port 52881"), or the JSON. A task that
/// could not start (a missing program, a bad --cwd, no permission) is said
/// so on stderr; the exit status is then a shell's, 127 (126: the program is
/// not executable), and otherwise 0.
int report_started(const json& task, const Options& o);

/// Streams the task's output until it ends and returns its exit status as
/// timeout(1) has it (124 when timed out, 128+N for signal N). Says on stderr
/// what its output cannot: that it never started, or timed out. Ctrl-C
/// (SIGINT) is passed on to the task's process group, and the wait goes on;
/// a second one detaches (130), saying how to stop the task, which goes on.
int wait_in_foreground(Client& client, const json& task, const Options& o);

}  // namespace tend::cli
