#include "tend/process/pidfd.hpp"

#include "tend/process/orphan_reaper.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

namespace tend::process {
namespace {

// Debian 12's headers predate these; the kernel (>= 6.9) has them.
constexpr idtype_t kPidfdIdType = static_cast<idtype_t>(3);  // P_PIDFD
constexpr unsigned kSignalProcessGroup = 4;                  // PIDFD_SIGNAL_PROCESS_GROUP

int pidfd_send(int fd, int sig, unsigned flags) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, fd, sig, nullptr, flags));
}

// Whether this kernel accepts PIDFD_SIGNAL_PROCESS_GROUP; learned on first use.
// The pidfd names the group even after its leader is reaped (group members
// hold the same struct pid), so this form has no reuse race at all.
enum class GroupFlag { unknown, supported, unsupported };
std::atomic<GroupFlag> g_group_flag{GroupFlag::unknown};

}  // namespace

std::optional<Pidfd> Pidfd::open(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return std::nullopt;
    throw std::system_error(errno, std::generic_category(), "pidfd_open");
  }
  return Pidfd(pid, UniqueFd(fd));
}

bool Pidfd::send_signal(int sig) const {
  if (!fd_ || reaped_) return false;
  return pidfd_send(fd_.get(), sig, 0) == 0;
}

bool Pidfd::send_signal_to_group(int sig) const {
  if (!fd_ || sig < 0 || sig >= NSIG) return false;
  if (g_group_flag.load(std::memory_order_relaxed) != GroupFlag::unsupported) {
    if (pidfd_send(fd_.get(), sig, kSignalProcessGroup) == 0) {
      g_group_flag.store(GroupFlag::supported, std::memory_order_relaxed);
      return true;
    }
    if (errno == ESRCH) return send_signal(sig);  // no group yet: the child has not made it
    if (errno != EINVAL || g_group_flag.load(std::memory_order_relaxed) == GroupFlag::supported) return false;
    g_group_flag.store(GroupFlag::unsupported, std::memory_order_relaxed);
  }
  if (reaped_) return false;  // kill(-pgid) is only safe while the leader is unreaped
  if (::kill(-pid_, sig) == 0) return true;
  return errno == ESRCH && send_signal(sig);
}

std::optional<ExitStatus> Pidfd::try_reap() {
  siginfo_t info{};
  int rc;
  do {
    rc = ::waitid(kPidfdIdType, static_cast<id_t>(fd_.get()), &info, WEXITED | WNOHANG);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) throw std::system_error(errno, std::generic_category(), "waitid(P_PIDFD)");
  if (info.si_pid == 0) return std::nullopt;
  reaped_ = true;
  SpawnedChildren::remove(pid_);
  switch (info.si_code) {
    case CLD_EXITED: return ExitStatus::from_exit(info.si_status);
    case CLD_KILLED: return ExitStatus::from_signal(info.si_status);
    case CLD_DUMPED: return ExitStatus::from_signal(info.si_status, true);
    default: return ExitStatus::from_signal(info.si_status);
  }
}

bool Pidfd::has_exited() const {
  if (!fd_) return true;
  pollfd p{fd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace tend::process
