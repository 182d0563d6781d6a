#pragma once
// A task: one piece of background work the Supervisor owns, its spec, its
// state and its output. Processes, terminals and in-process coroutines are all
// Tasks, so one handle type and one set of waits serves them all.
//
// A Task is written only by its Supervisor (on the Supervisor's executor) and
// may be read from any thread: status() returns a consistent snapshot.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tend/core/duration.hpp"
#include "tend/core/output_log.hpp"
#include "tend/core/output_order.hpp"
#include "tend/core/progress_monitor.hpp"
#include "tend/process/spawn.hpp"
#include "tend/process/stop_ladder.hpp"

namespace tend {

/// A task's number, given by its Supervisor in submission order (from
/// SupervisorOptions::first_id, 1 by default) and never reused by it.
using TaskId = std::uint64_t;
/// How a task is stopped: signals and the grace after each (see stop_ladder.hpp).
using StopLadder = process::StopLadder;
/// The wall clock of start and end times (what `tend ls` prints and the store keeps).
using Clock = std::chrono::system_clock;

/// What runs: a process (`shell`, argv or a shell command line), a process on a
/// pseudo-terminal (`terminal`), or code in the Supervisor (`coroutine`, also
/// for a body on a thread of its own).
enum class TaskKind { shell, terminal, coroutine };

/// Where a task is in its life; see is_final.
enum class TaskState {
  queued,     ///< accepted, not started yet
  running,
  succeeded,  ///< exited with code 0
  failed,     ///< non-zero exit, ended by a signal it was not sent, or could not start
  timed_out,  ///< stopped by its wall-clock timeout, whatever it exited with
  killed,     ///< stopped or signalled by request, whatever it exited with
  stalled,    ///< stopped because it made no progress for its idle timeout
  cancelled,  ///< an in-process task that was cancelled (and honoured it)
  lost,       ///< its fate is unknown (e.g. it vanished while no one watched)
};

/// The names used on the wire, on disk and by the CLI ("shell", "timed_out");
/// each parse_* takes one back and gives nullopt for any other text.
std::string_view to_string(TaskKind kind);
std::string_view to_string(TaskState state);
std::optional<TaskKind> parse_task_kind(std::string_view text);
std::optional<TaskState> parse_task_state(std::string_view text);
/// Every state but queued and running is final.
bool is_final(TaskState state);

/// "stdout" or "stderr".
std::string_view to_string(Stream s);

/// What to do when the output goes quiet for the idle timeout.
enum class IdlePolicy {
  warn,  ///< a `stalled` event; the task goes on
  stop,  ///< stop it with its ladder; it ends `stalled`
};

/// When a task that ended is started again.
enum class RestartPolicy { no, on_failure, always };

/// The policies' wire and disk names ("warn", "on_failure"); parse_* gives
/// nullopt for any other text.
std::string_view to_string(IdlePolicy p);
std::string_view to_string(RestartPolicy p);
std::optional<RestartPolicy> parse_restart_policy(std::string_view text);

/// Whether and how soon a process task that ended is started again (a new
/// attempt under the same id; see Task::history).
struct RestartOptions {
  /// Never (`no`, the default), after a failure, or after any end.
  RestartPolicy policy = RestartPolicy::no;
  Duration initial_delay{500};  ///< before the first restart; doubles each time
  /// The delay stops doubling here.
  Duration max_delay{30'000};
  /// Crash-loop limit (systemd's StartLimitBurst/IntervalSec): more than
  /// `burst` starts within `interval` and the task is given up on.
  int burst = 5;
  Duration interval{60'000};
};

/// When a task counts as ready: every condition that is set must hold.
struct ReadinessSpec {
  std::optional<std::string> pattern;  ///< a line of output matching this pattern (RE2 syntax, see pattern.hpp)
  std::optional<unsigned short> port;  ///< a TCP port on localhost accepting connections (0: the allocated $PORT)
  std::optional<std::string> probe;    ///< a shell command exiting 0
  /// True when no condition is set: wait_ready then returns as soon as the
  /// task runs (`tend run` does not wait for readiness at all).
  bool empty() const { return !pattern && !port && !probe; }
};

/// What to run and how: given to Supervisor::run or submit (or restored),
/// then fixed once the task starts. Every field has a usable default.
struct TaskSpec {
  std::string name;  ///< optional, for people
  /// A coroutine task's kind is set by Supervisor::spawn, not by a spec.
  TaskKind kind = TaskKind::shell;
  /// What the task was started for, when tend started it on behalf of
  /// something else: "ticket 3" for an agent's tasks. Empty: a task of its own.
  std::string owner;
  /// Part of tend's own machinery (an agent's worker thread, its setup
  /// command): task lists leave it out unless asked (`task.list` `internal`,
  /// `tend ls --internal`). It is waited on, stopped and shown like any other.
  bool internal = false;
  /// The program and its arguments (no shell), or...
  std::vector<std::string> argv;
  /// ...a shell command line, run as `/bin/sh -c`.
  std::optional<std::string> shell_command;
  /// Its working directory; empty: the Supervisor's (the daemon's) own.
  std::filesystem::path cwd;
  std::vector<std::pair<std::string, std::string>> env;  ///< set in the child
  std::vector<std::string> unset_env;                    ///< removed from the child
  /// Start from our environment (true) or from an empty one.
  bool inherit_env = true;
  /// Its stdin: /dev/null, a pipe tend writes to (Supervisor::send),
  /// or `stdin_file`.
  process::StdinMode stdin_mode = process::StdinMode::null;
  std::filesystem::path stdin_file;
  /// Sends stderr into the stdout log (2>&1); the stderr log then stays empty.
  bool merge_stderr = false;
  /// Wall-clock limit. nullopt: the command policy decides (when
  /// `command_policy` is on; otherwise none); zero: none.
  std::optional<Duration> timeout;
  /// How to stop it. nullopt: the Supervisor's default ladder.
  std::optional<StopLadder> stop;

  /// Longest silence on its output. nullopt: the command policy decides (when
  /// `command_policy` is on; otherwise none); zero: none.
  std::optional<Duration> idle_timeout;
  /// Whether the Supervisor's CommandPolicy gives the limits this spec leaves
  /// unset (quick commands 2 min, builds 1 h, servers none). On for a caller
  /// that wants a bounded command (the library, MCP's shell_run); the tend
  /// command turns it off: a task run by hand runs until it ends.
  bool command_policy = true;
  /// What happens when the output is quiet for the idle timeout.
  IdlePolicy idle_policy = IdlePolicy::warn;
  /// When set, only output lines matching this pattern (RE2 syntax) count as progress.
  std::optional<std::string> progress_pattern;

  /// For a terminal: run on a pseudo-terminal (true) or on pipes (false).
  bool use_pty = true;
  /// The terminal's size and TERM, when it runs on a PTY.
  process::TerminalOptions terminal;

  /// Whether it is started again after it ends.
  RestartOptions restart;
  /// When it counts as ready (Supervisor::wait_ready); empty: once it runs.
  ReadinessSpec ready;
  /// Find a free localhost port and hand it to the task in $PORT.
  bool allocate_port = false;

  /// The size cap of each stream's log: the first `log_limit - log_tail`
  /// bytes and the last `log_tail` are kept, the rest dropped (and said so).
  /// nullopt: kDefaultLogLimit; 0: no cap. Applies to logs kept in files.
  std::optional<std::uint64_t> log_limit;
  /// The rolling tail kept past the cap. nullopt: kDefaultLogTail, or half
  /// the cap when that is smaller.
  std::optional<std::uint64_t> log_tail;
  static constexpr std::uint64_t kDefaultLogLimit = 1ull << 30;  ///< 1 GiB per stream
  static constexpr std::uint64_t kDefaultLogTail = 64ull << 20;  ///< 64 MiB
  /// The cap in effect: {limit, tail}, {0, 0} for none.
  std::pair<std::uint64_t, std::uint64_t> effective_log_limit() const;

  /// Queueing (Supervisor::submit): the concurrency group it counts in
  /// (Supervisor::set_parallel), the tasks that must succeed first, and its place
  /// in the queue (higher first; equal ones in submission order).
  std::string group = "default";
  std::vector<TaskId> after;
  int priority = 0;

  /// A spec that runs `command` with /bin/sh -c.
  static TaskSpec shell(std::string command);
  /// A spec that runs argv directly.
  static TaskSpec exec(std::vector<std::string> argv);
  /// A long-running terminal task (on a PTY) running `command` with /bin/sh -c.
  static TaskSpec terminal_shell(std::string command);

  /// The command as a person would type it (for display and the policy).
  std::string command_line() const;
};

/// Where a limit in effect came from.
enum class LimitSource {
  given,   ///< the spec set it (zero: none, as asked)
  policy,  ///< the command policy gave it (possibly none, for a server)
  none,    ///< nothing set it and no policy applied: no limit
};
/// "given", "policy" or "none"; parse_limit_source gives nullopt for any other text.
std::string_view to_string(LimitSource source);
std::optional<LimitSource> parse_limit_source(std::string_view text);

/// One limit in effect: its value (nullopt: none) and where it came from.
struct Limit {
  /// nullopt: no limit.
  std::optional<Duration> value;
  LimitSource source = LimitSource::none;
};

/// The time limits a process task runs under.
struct TaskLimits {
  Limit wall;  ///< ends it `timed_out`
  Limit idle;  ///< longest silence on its output
};

/// A snapshot of a task's state.
struct TaskStatus {
  /// The task's id, its spec's name (empty when none was given; see
  /// Task::display_name), its kind and its state.
  TaskId id = 0;
  std::string name;
  TaskKind kind = TaskKind::shell;
  TaskState state = TaskState::queued;
  std::optional<int> exit_code;  ///< when it exited
  std::optional<int> signal;     ///< the signal that ended it
  std::string reason;            ///< why it ended (or what it is doing), in words
  /// Its process (and process group) id, kept after it ends; 0 before it first
  /// starts and for in-process tasks. A restart changes it.
  pid_t pid = 0;
  /// The process's start time in clock ticks after boot: with pid, an
  /// identity that survives PID reuse (how a restarted daemon re-adopts).
  std::uint64_t pid_start_time = 0;
  /// The `TEND_TASK=...` entry its processes inherit: how its escaped
  /// descendants are found, by this Supervisor or one that takes it up later.
  std::string marker;
  /// When it first started (restarts keep it) and when it ended; nullopt
  /// before. A task that ended without starting has both set to its end.
  std::optional<Clock::time_point> started_at;
  std::optional<Clock::time_point> ended_at;
  /// Time from start to end (or to now while running).
  Duration duration{0};
  int attempts = 0;       ///< how many times its process was started
  /// Stopped with SIGSTOP by Supervisor::pause; its clocks are held.
  bool paused = false;
  bool ready = false;     ///< its readiness conditions held at some point
  bool stalled = false;   ///< quiet beyond its idle timeout right now
  std::optional<unsigned short> port;  ///< the port handed to it in $PORT
  /// The limits it runs under, and where each came from.
  TaskLimits limits;
  /// Why its process never ran (a missing program, a bad working directory,
  /// no permission, or what the exec refused); its state is then `failed`.
  std::optional<std::string> start_failure;
  /// What a user should know that its state does not say, in words (a
  /// pattern this tend refused when it took the task up after a restart).
  std::vector<std::string> warnings;
  /// What the size cap left out of stdout and of stderr so far.
  DroppedRange stdout_dropped, stderr_dropped;
  /// When tend found its log's file system full: output written then may be
  /// lost ("output may be incomplete: disk full at T").
  std::optional<Clock::time_point> disk_full_at;
  /// Queued and held (`tend run --stashed`): the queue does not start it
  /// until it is released (Supervisor::release, `tend enqueue`).
  bool stashed = false;
  /// Queued with a delay (`--delay`, `--at`): not started before this time.
  std::optional<Clock::time_point> start_at;

  /// True once its state is final (it will not change again).
  bool finished() const { return is_final(state); }
  /// A sentence on output that may be missing (dropped by the cap, or a full
  /// disk); empty when there is none.
  std::string output_note() const;
};

/// A task the Supervisor owns, shared through TaskPtr: the handle stays readable
/// after the task ended and after the Supervisor forgot it. Made only by the
/// Supervisor (run, submit, spawn, restore); not copyable.
class Task {
 public:
  /// A new queued task; called by the Supervisor (Engine), not by users.
  Task(TaskId id, TaskSpec spec, OutputLog::Options stdout_log, OutputLog::Options stderr_log);
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  /// Its id, fixed for its life.
  TaskId id() const { return id_; }
  /// What it runs. Fixed once the task has started; while it is queued,
  /// Supervisor::edit may replace it (on the executor), so read a queued
  /// task's spec on the executor.
  const TaskSpec& spec() const { return spec_; }
  /// Restores a task recorded by an earlier Supervisor (see Supervisor::restore).
  Task(TaskStatus recorded, TaskSpec spec, OutputLog::Options stdout_log, OutputLog::Options stderr_log);

  /// The spec's name, or the command line.
  std::string display_name() const;

  /// A consistent snapshot of its state (safe from any thread); state() and
  /// finished() read only the state.
  TaskStatus status() const;
  TaskState state() const;
  bool finished() const { return is_final(state()); }

  /// One earlier run of a task that restarts.
  struct Attempt {
    /// 1 for the first run; `reason` says how it ended, in words.
    int number = 0;
    pid_t pid = 0;
    Clock::time_point started_at;
    Clock::time_point ended_at;
    std::optional<int> exit_code;
    std::optional<int> signal;
    std::string reason;
  };
  /// Every finished run, oldest first (one entry per restart, plus the last).
  std::vector<Attempt> history() const;

  /// When its output (or TaskContext::record_activity) last showed progress.
  ProgressMonitor& progress() { return progress_; }
  const ProgressMonitor& progress() const { return progress_; }

  /// Its stdout or stderr log (with merge_stderr or a PTY, everything is in stdout).
  const OutputLog& output(Stream s = Stream::stdout_stream) const {
    return s == Stream::stdout_stream ? stdout_ : stderr_;
  }
  OutputLog& output(Stream s = Stream::stdout_stream) { return s == Stream::stdout_stream ? stdout_ : stderr_; }
  /// The order in which its two streams were seen (for a merged view).
  const OutputOrder& order() const { return order_; }
  OutputOrder& order() { return order_; }

 private:
  friend class TaskControl;

  const TaskId id_;
  TaskSpec spec_;  ///< replaced only while queued (TaskControl::replace_spec)
  OutputLog stdout_;
  OutputLog stderr_;
  OutputOrder order_;
  mutable std::mutex mutex_;
  TaskStatus status_;
  std::chrono::steady_clock::time_point started_steady_{};
  std::chrono::steady_clock::time_point ended_steady_{};
  std::uint64_t finish_seq_ = 0;  ///< order of finishing within its Supervisor
  std::vector<Attempt> history_;
  ProgressMonitor progress_;
};

/// How tasks are passed around: shared by the Supervisor and every caller.
using TaskPtr = std::shared_ptr<Task>;

}  // namespace tend
