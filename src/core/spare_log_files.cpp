#include "spare_log_files.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <string>
#include <system_error>

#include "tend/process/unique_fd.hpp"

namespace tend {
namespace {

// True when no descriptor of `file` is open but the one we open here.
bool nobody_else_has_open(const std::filesystem::path& file) {
  process::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return false;
  if (::fcntl(fd.get(), F_SETLEASE, F_WRLCK) != 0) return false;  // EAGAIN: someone has it open
  ::fcntl(fd.get(), F_SETLEASE, F_UNLCK);
  return true;
}

}  // namespace

SpareLogFiles::SpareLogFiles(std::filesystem::path log_dir, std::size_t capacity)
    : dir_(std::move(log_dir) / ".spare"), capacity_(capacity) {
  // Spares of an earlier run are empty files of ours: take them up.
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    if (spares_.size() < capacity_) spares_.push_back(entry.path());
    // New names come after every taken one: a rename must never land on a spare.
    std::size_t number = 0;
    const std::string name = entry.path().filename().string();
    auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), number);
    if (error == std::errc{} && end == name.data() + name.size()) next_name_ = std::max(next_name_, number + 1);
  }
  dir_ready_ = !ec && std::filesystem::is_directory(dir_, ec);
}

void SpareLogFiles::retire(const std::filesystem::path& file) {
  std::error_code ec;
  std::lock_guard lock(mutex_);
  if (spares_.size() < capacity_ && nobody_else_has_open(file)) {
    if (!dir_ready_) dir_ready_ = ::mkdir(dir_.c_str(), 0700) == 0 || errno == EEXIST;
    std::filesystem::path spare = dir_ / std::to_string(next_name_++);
    if (dir_ready_ && ::truncate(file.c_str(), 0) == 0 && ::rename(file.c_str(), spare.c_str()) == 0) {
      spares_.push_back(std::move(spare));
      return;
    }
  }
  std::filesystem::remove(file, ec);
}

bool SpareLogFiles::reuse(const std::filesystem::path& file) {
  std::lock_guard lock(mutex_);
  while (!spares_.empty() && capacity_ > 0) {
    std::filesystem::path spare = std::move(spares_.back());
    spares_.pop_back();
    // RENAME_NOREPLACE: an existing log (a restored task's) is never replaced.
    if (::renameat2(AT_FDCWD, spare.c_str(), AT_FDCWD, file.c_str(), RENAME_NOREPLACE) == 0) return true;
    if (errno == EEXIST) {
      spares_.push_back(std::move(spare));
      return false;
    }
    if (errno == EINVAL || errno == ENOSYS) {
      // A file system without RENAME_NOREPLACE: no reuse here, plain files.
      spares_.push_back(std::move(spare));
      capacity_ = 0;
      return false;
    }
  }
  return false;
}

std::size_t SpareLogFiles::size() const {
  std::lock_guard lock(mutex_);
  return spares_.size();
}

}  // namespace tend
