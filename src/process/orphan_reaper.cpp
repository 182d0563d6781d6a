#include "tend/process/orphan_reaper.hpp"

#include <dirent.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <charconv>
#include <fstream>
#include <string>
#include <system_error>
#include <unordered_set>

#include "tend/process/unique_fd.hpp"

namespace tend::process {
namespace {

std::mutex g_mutex;
std::unordered_set<pid_t> g_children;

}  // namespace

void become_subreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) {
    throw std::system_error(errno, std::generic_category(), "prctl(PR_SET_CHILD_SUBREAPER)");
  }
}

bool is_subreaper() {
  int value = 0;
  return ::prctl(PR_GET_CHILD_SUBREAPER, &value, 0, 0, 0) == 0 && value != 0;
}

std::unique_lock<std::mutex> SpawnedChildren::lock() { return std::unique_lock(g_mutex); }

void SpawnedChildren::add(pid_t pid, const std::unique_lock<std::mutex>&) { g_children.insert(pid); }

void SpawnedChildren::remove(pid_t pid) {
  std::lock_guard guard(g_mutex);
  g_children.erase(pid);
}

bool SpawnedChildren::contains(pid_t pid) {
  std::lock_guard guard(g_mutex);
  return g_children.count(pid) != 0;
}

std::vector<pid_t> list_children() {
  std::vector<pid_t> children;
  std::string base = "/proc/" + std::to_string(::getpid()) + "/task";
  DIR* dir = ::opendir(base.c_str());
  if (!dir) return children;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    std::ifstream in(base + "/" + entry->d_name + "/children");
    pid_t pid;
    while (in >> pid) children.push_back(pid);
  }
  ::closedir(dir);
  return children;
}

std::size_t reap_orphans() {
  std::size_t reaped = 0;
  for (pid_t pid : list_children()) {
    // Holding the lock keeps spawn() from registering this very pid between
    // the check and the reap.
    auto held = SpawnedChildren::lock();
    if (g_children.count(pid) != 0) continue;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG) == 0 && info.si_pid == pid) ++reaped;
  }
  return reaped;
}

std::size_t reap_orphans_within(std::chrono::milliseconds limit) {
  std::size_t reaped = reap_orphans();
  // Watch the adopted children still alive through pidfds: a child that was
  // just KILLed is gone within moments, and poll() says when.
  std::vector<UniqueFd> watched;
  std::vector<pollfd> fds;
  for (pid_t pid : list_children()) {
    if (SpawnedChildren::contains(pid)) continue;
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0) continue;
    watched.emplace_back(fd);
    fds.push_back({fd, POLLIN, 0});
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  std::size_t open = fds.size();
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    int rc = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) break;
    for (pollfd& p : fds) {
      if (p.fd >= 0 && p.revents != 0) {
        p.fd = -1;  // poll() skips negative descriptors
        --open;
      }
    }
  }
  return reaped + reap_orphans();
}

}  // namespace tend::process
