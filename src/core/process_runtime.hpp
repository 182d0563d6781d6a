#pragma once
// What the engine keeps for a task whose process tree is still ours: its
// pidfd, pipes and timers. Lives while the process, its output or its
// leftover descendants do; touched only on the executor.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "engine.hpp"
#include "tend/process/pidfd.hpp"

namespace tend {

struct ProcessRuntime {
  ProcessRuntime(const asio::any_io_executor& ex, TaskPtr t)
      : task(std::move(t)), exit_watch(ex), out(ex), err(ex), timeout_timer(ex), drain_timer(ex) {}
  ~ProcessRuntime() {
    // The descriptor belongs to `pidfd`; the watch only borrows it.
    if (exit_watch.is_open()) exit_watch.release();
  }

  TaskPtr task;
  std::string marker;  ///< "TEND_TASK=...", inherited by every descendant
  pid_t pgid = 0;
  process::Pidfd pidfd;
  process::UniqueFd stdin_fd;
  StopLadder ladder;
  asio::posix::stream_descriptor exit_watch;
  asio::posix::stream_descriptor out;
  asio::posix::stream_descriptor err;
  asio::steady_timer timeout_timer;
  asio::steady_timer drain_timer;
  Duration timeout{0};

  int open_streams = 0;
  std::optional<process::ExitStatus> exit;  ///< once the leader is reaped
  bool finalized = false;                   ///< the task's final state is set
  bool stopping = false;                    ///< a stop ladder is climbing
  bool cleanup_running = false;             ///< leftovers are being stopped
  bool log_error_reported = false;
  std::optional<StopCause> stop_cause;
  std::optional<int> requested_signal;
  /// Called once, when the leader has been reaped.
  std::vector<std::function<void()>> on_leader_exit;
};

}  // namespace tend
