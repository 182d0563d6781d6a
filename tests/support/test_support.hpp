#pragma once
// Helpers for tests that look at real processes and descriptors.

#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tend/core/supervisor.hpp"
#include "tend/process/orphan_reaper.hpp"
#include "tend/process/process_table.hpp"

namespace tend::test {

/// A fresh directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("tend-test-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Blocks until `fd` (a pidfd, say) polls readable, up to 10 s; whether it did.
inline bool becomes_readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 10'000) == 1;
}

/// A file's whole content, bytes as they are.
inline std::string file_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

/// A tag unique to one test, to put in a task's environment and count its processes by.
inline std::string unique_tag() {
  std::random_device rd;
  return "TEND_TEST_TAG=" + std::to_string(rd()) + std::to_string(rd());
}

/// Live processes whose environment holds `entry` ("NAME=VALUE").
inline std::vector<pid_t> processes_with(const std::string& entry) {
  std::vector<pid_t> found;
  for (const auto& p : process::list_processes()) {
    if (p.state != 'Z' && p.pid != ::getpid() && process::environ_contains(p.pid, entry)) found.push_back(p.pid);
  }
  return found;
}

/// What `pid` runs now (its /proc comm: "sleep", "sh"); empty once it is gone.
inline std::string program_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

/// The processes carrying `entry` once they have settled: exactly `count`,
/// and every one running `program`. A count alone is not enough: a shell on
/// its way (a subshell not yet gone, a child not yet forked or exec'd) can
/// make up the same count with other processes. Empty until then.
inline std::vector<pid_t> settled_processes_with(const std::string& entry, std::size_t count,
                                                 const std::string& program) {
  auto found = processes_with(entry);
  if (found.size() != count) return {};
  for (pid_t pid : found) {
    if (program_of(pid) != program) return {};
  }
  return found;
}

/// Our open descriptors.
inline std::vector<int> open_fds() {
  std::vector<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') fds.push_back(std::atoi(e->d_name));
  }
  int own = ::dirfd(dir);
  ::closedir(dir);
  std::erase(fds, own);
  return fds;
}

/// Our children that are zombies.
inline int zombie_children() {
  int zombies = 0;
  for (pid_t pid : process::list_children()) {
    auto info = process::read_process_info(pid);
    if (info && info->state == 'Z') ++zombies;
  }
  return zombies;
}

/// Waits until `done` holds, checking on a short period, up to `limit`. For
/// conditions no event announces (another process's state in /proc).
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

/// A Supervisor whose tasks write their own log files in `dir`, as the
/// daemon's do.
inline SupervisorOptions direct_files(const std::filesystem::path& dir) {
  SupervisorOptions o;
  o.log_dir = dir;
  o.direct_output_files = true;
  return o;
}

}  // namespace tend::test
