#pragma once
// Log files of forgotten tasks, kept (emptied) for the next tasks' logs.
//
// Creating and deleting two files per task is the largest cost of a daemon
// running thousands of short tasks: on ext4, allocating an inode skips every
// inode freed in the last minutes (`recently_deleted`), so the cost of each
// create grows with the churn (28% of the daemon's CPU in a profile). A
// retired file is renamed into `<log_dir>/.spare/` instead, and the next
// log is that file renamed back: no inode is allocated or freed.
//
// A file some process still has open (an escaped descendant of its task,
// say) is deleted, never reused: its late writes must not land in another
// task's log. The check is a write lease, which the kernel grants only when
// no other descriptor of the file is open.

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <vector>

namespace tend {

class SpareLogFiles {
 public:
  explicit SpareLogFiles(std::filesystem::path log_dir, std::size_t capacity = 512);

  /// Empties `file` into the pool, or deletes it (pool full, or still open
  /// elsewhere). A missing file is no error.
  void retire(const std::filesystem::path& file);
  /// Puts a spare at `file` (which must not exist). False: none, create it.
  bool reuse(const std::filesystem::path& file);

  std::size_t size() const;

 private:
  std::filesystem::path dir_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<std::filesystem::path> spares_;
  std::size_t next_name_ = 0;
  bool dir_ready_ = false;
};

}  // namespace tend
