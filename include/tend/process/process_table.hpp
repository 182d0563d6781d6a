#pragma once
// Reading the process table from /proc, to find every process that belongs to
// a task: its process group, the descendants of the group's members, and any
// process that carries the task's marker in its environment (inherited from the
// task even after a double fork and setsid, as Jenkins' ProcessTreeKiller does).

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tend::process {

/// One process as /proc/<pid>/stat shows it.
struct ProcessInfo {
  /// Its id, its parent's, its process group's and its session's.
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

/// One reading of the whole process table, indexed so that the members of
/// many tasks can be looked up at once. Reading /proc costs one file per
/// process (two with the environment), so a burst of N stops that each read
/// it would cost N x processes; a burst that shares one snapshot costs
/// N + processes.
///
/// A snapshot is a moment's truth: processes started after it are not in it.
/// Share one only among work that reacts to things that happened before it
/// was taken (the engine shares one per turn of its event loop).
class ProcessSnapshot {
 public:
  /// Reads every process's stat (not the environments yet).
  static ProcessSnapshot take();

  /// Also reads, from every live process but ourselves, the environment
  /// entries of variable `name` ("NAME=VALUE"), so task_processes() can match
  /// markers of that variable. The slow part: one more file per process.
  void read_environment_entries(std::string_view name);
  /// Whether read_environment_entries() ran (for which variable).
  const std::optional<std::string>& environment_variable() const { return environment_variable_; }

  /// Live (non-zombie) processes other than ourselves that belong to a task:
  /// in process group `pgid`, descended from such a process, or carrying
  /// `marker` ("NAME=VALUE") in their environment. Empty `marker` skips the
  /// environment; a non-empty one needs read_environment_entries(NAME) first
  /// (std::logic_error otherwise). Sorted.
  std::vector<pid_t> task_processes(pid_t pgid, std::string_view marker) const;

  /// Live children of `parent`.
  std::vector<pid_t> children_of(pid_t parent) const;

 private:
  pid_t self_ = 0;
  std::vector<ProcessInfo> processes_;
  std::unordered_map<pid_t, std::vector<pid_t>> live_by_group_;
  std::unordered_map<pid_t, std::vector<pid_t>> live_children_;
  std::optional<std::string> environment_variable_;
  std::unordered_map<std::string, std::vector<pid_t>> live_by_environment_entry_;
};

/// Live (non-zombie) processes other than ourselves that belong to a task: in
/// process group `pgid`, descended from such a process, or carrying `marker`
/// ("NAME=VALUE") in their environment. Empty `marker` skips the environment scan.
/// Reads the whole table: for many tasks at once, share a ProcessSnapshot.
std::vector<pid_t> find_task_processes(pid_t pgid, std::string_view marker);

}  // namespace tend::process
