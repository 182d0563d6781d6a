#pragma once
// The only writer of a Task's state: the Supervisor's engine, on its executor.

#include "tend/core/task.hpp"

namespace tend {

class TaskControl {
 public:
  static void mark_running(Task& task, pid_t pid);
  static void mark_finished(Task& task, TaskState state, std::optional<int> exit_code, std::optional<int> signal,
                            std::string reason, std::uint64_t finish_seq);
  static std::uint64_t finish_seq(const Task& task);
};

}  // namespace tend
