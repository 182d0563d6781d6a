#pragma once
// Reading the process table from /proc, to find every process that belongs to
// a task: its process group, the descendants of the group's members, and any
// process that carries the task's marker in its environment (inherited from the
// task even after a double fork and setsid, as Jenkins' ProcessTreeKiller does).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tend::process {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  pid_t pgid = 0;
  pid_t sid = 0;
  char state = '?';              ///< R, S, D, Z, T, ...
  std::uint64_t start_time = 0;  ///< clock ticks after boot: with pid, an identity
};

/// One process's entry, or nullopt when it is gone.
std::optional<ProcessInfo> read_process_info(pid_t pid);

/// Every process visible in /proc.
std::vector<ProcessInfo> list_processes();

/// Whether `pid`'s initial environment holds exactly `entry` ("NAME=VALUE").
bool environ_contains(pid_t pid, std::string_view entry);

/// Live (non-zombie) processes other than ourselves that belong to a task: in
/// process group `pgid`, descended from such a process, or carrying `marker`
/// ("NAME=VALUE") in their environment. Empty `marker` skips the environment scan.
std::vector<pid_t> find_task_processes(pid_t pgid, std::string_view marker);

}  // namespace tend::process
