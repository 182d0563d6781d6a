#pragma once
// What the engine keeps for a process task while it is ours. A task runs as
// one or more attempts (restarts); each attempt is a process group with its
// own pidfd and output descriptors, and lives until its leader is reaped, its
// output closed and its leftovers stopped. Touched only on the executor.

#include <array>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "engine.hpp"
#include "tend/core/pattern.hpp"
#include "tend/process/pidfd.hpp"

namespace tend {

struct ProcessAttempt {
  explicit ProcessAttempt(const asio::any_io_executor& ex) : exit_watch(ex), out(ex), err(ex), drain_timer(ex) {}
  ~ProcessAttempt() {
    // The descriptor belongs to `pidfd`; the watch only borrows it.
    if (exit_watch.is_open()) exit_watch.release();
  }

  int number = 0;
  pid_t pgid = 0;
  Clock::time_point started_at;
  process::Pidfd pidfd;
  asio::posix::stream_descriptor exit_watch;
  asio::posix::stream_descriptor out;  ///< stdout pipe, or the PTY master (read and write)
  asio::posix::stream_descriptor err;
  asio::steady_timer drain_timer;
  bool pty = false;
  /// Taken up after a restart: not our child, so its exit status cannot be had.
  bool adopted = false;
  bool exit_unknown = false;
  int open_streams = 0;
  std::optional<process::ExitStatus> exit;  ///< once the leader is reaped
  /// Spawned without waiting for its exec: says whether that exec failed.
  process::ExecReport exec;
  /// Why it never ran its program, when its exec failed (known at its exit).
  std::optional<std::string> start_failure;
  bool ended = false;                       ///< its end was handled
  bool cleanup_running = false;             ///< leftovers are being stopped
  bool stopping = false;                    ///< a stop ladder is climbing
  bool released = false;
  /// Called once, when the leader has been reaped.
  std::vector<std::function<void()>> on_leader_exit;
};

/// Line matching over a stream that arrives in arbitrary pieces.
struct LineScanner {
  std::string partial;
  /// Calls `fn` for each complete line in `bytes` (and the partial line so far).
  template <typename Fn>
  void scan(std::string_view bytes, Fn fn);
};

struct ProcessRuntime {
  ProcessRuntime(const asio::any_io_executor& ex, TaskPtr t)
      : task(std::move(t)), input(ex), timeout_timer(ex), idle_timer(ex), restart_timer(ex) {}

  TaskPtr task;
  std::string marker;  ///< "TEND_TASK=...", inherited by every descendant
  StopLadder ladder;
  std::shared_ptr<ProcessAttempt> current;
  /// Attempts not yet released (the current one, and earlier ones whose
  /// leftovers are still being stopped).
  std::vector<std::shared_ptr<ProcessAttempt>> live_attempts;

  // Input: the stdin pipe (a PTY's input goes through current->out).
  asio::posix::stream_descriptor input;
  std::deque<std::string> pending_input;
  bool writing = false;
  bool close_input_after_write = false;

  // Clocks. Paused time does not count against the wall or idle timeouts.
  asio::steady_timer timeout_timer;
  std::optional<Duration> timeout;
  std::chrono::steady_clock::time_point deadline;
  Duration remaining_at_pause{0};
  asio::steady_timer idle_timer;
  Duration idle_timeout{0};
  bool stall_reported = false;
  std::optional<Pattern> progress_pattern;
  bool paused = false;
  std::chrono::steady_clock::time_point paused_at;

  // Readiness.
  std::optional<Pattern> ready_pattern;
  bool ready_pattern_seen = false;
  bool ready_reported = false;
  std::vector<asio::steady_timer*> ready_waiters;  ///< woken when the pattern is seen
  std::array<LineScanner, 2> scanners;  ///< stdout, stderr

  // Restarts.
  asio::steady_timer restart_timer;
  std::vector<std::chrono::steady_clock::time_point> recent_starts;
  Duration next_delay{0};
  bool restart_pending = false;

  // Output the task writes straight to its log files, followed with inotify.
  bool file_capture = false;
  std::array<process::UniqueFd, 2> tail_fds;  ///< stdout, stderr (read side)
  std::array<int, 2> watch_ids{-1, -1};

  bool finalized = false;
  bool log_error_reported = false;
  bool punch_failure_reported = false;
  bool disk_full_noted = false;  ///< its status says so already
  std::optional<StopCause> stop_cause;
  std::optional<int> requested_signal;
  std::optional<unsigned short> port;
};

template <typename Fn>
void LineScanner::scan(std::string_view bytes, Fn fn) {
  constexpr std::size_t kMaxLine = 64 * 1024;  // a line this long is matched in pieces
  std::size_t start = 0;
  while (true) {
    auto nl = bytes.find('\n', start);
    if (nl == std::string_view::npos) break;
    partial.append(bytes.substr(start, nl - start));
    fn(std::string_view(partial));
    partial.clear();
    start = nl + 1;
  }
  partial.append(bytes.substr(start));
  if (!partial.empty()) fn(std::string_view(partial));
  if (partial.size() > kMaxLine) partial.erase(0, partial.size() - kMaxLine);
}

}  // namespace tend
