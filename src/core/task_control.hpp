#pragma once
// The only writer of a Task's state: the Supervisor's engine, on its executor.

#include "tend/core/task.hpp"

namespace tend {

class TaskControl {
 public:
  static void mark_running(Task& task, pid_t pid, std::uint64_t pid_start_time = 0);
  static void mark_finished(Task& task, TaskState state, std::optional<int> exit_code, std::optional<int> signal,
                            std::string reason, std::uint64_t finish_seq);
  static std::uint64_t finish_seq(const Task& task);
  static void set_finish_seq(Task& task, std::uint64_t finish_seq);
  /// Updates the live parts of the status (paused, ready, stalled, reason...).
  template <typename Fn>
  static void update(Task& task, Fn fn) {
    std::lock_guard lock(task.mutex_);
    fn(task.status_);
  }
  static void add_attempt(Task& task, Task::Attempt attempt);
  /// A queued task's new spec (Supervisor::edit); its name is its status's too.
  static void replace_spec(Task& task, TaskSpec spec);
};

}  // namespace tend
