// spawn(): a LaunchPlan (launch_plan.cpp), a backend to make a process of it
// (spawn_clone3.cpp on x86-64, else spawn_posix.cpp), and one way back out
// should anything fail once the child exists (StartedChild). Start reading
// here; spawn.hpp's header comment says why it is built so.
#include "tend/process/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "spawn_backends.hpp"
#include "tend/process/orphan_reaper.hpp"
#include "tend/process/testing.hpp"

namespace tend::process {
namespace {

std::atomic<bool> g_force_posix_spawn{false};
std::atomic<bool> g_clone3_unavailable{false};

}  // namespace

SpawnBackend spawn_backend() {
#ifdef TEND_HAVE_CLONE3
  if (clone3_supported() && !g_force_posix_spawn.load() && !g_clone3_unavailable.load()) return SpawnBackend::clone3;
#endif
  return SpawnBackend::posix_spawn;
}

void use_posix_spawn(bool on) { g_force_posix_spawn.store(on); }

int shared_dev_null() {
  static const int fd = [] {
    int f = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (f < 0) fail(SpawnError::Kind::system, "/dev/null", errno, "cannot open /dev/null");
    return f;
  }();
  return fd;
}

void set_window_size(int pty_master, unsigned short rows, unsigned short cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(pty_master, TIOCSWINSZ, &ws) != 0) {
    throw std::system_error(errno, std::generic_category(), "ioctl(TIOCSWINSZ)");
  }
}

// --- StartedChild: the one failure path ------------------------------------

StartedChild::StartedChild(StartedChild&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)), record_(std::move(other.record_)) {}

StartedChild& StartedChild::operator=(StartedChild&& other) noexcept {
  if (this != &other) {
    discard();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
    record_ = std::move(other.record_);
  }
  return *this;
}

StartedChild::Released StartedChild::release() && {
  return {std::exchange(pid_, -1), std::move(pidfd_), std::move(record_)};
}

void StartedChild::discard() noexcept {
  if (pid_ <= 0) return;
  // The child is ours and unreaped: neither its PID nor its group id can
  // have been reused. Before it has made its group, it gets the signal itself.
  if (pidfd_) {
    pidfd_.send_signal_to_group(SIGKILL);
  } else if (::kill(-pid_, SIGKILL) != 0) {
    ::kill(pid_, SIGKILL);
  }
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED) != 0 && errno == EINTR) {
  }
  SpawnedChildren::remove(std::exchange(pid_, -1));
}

// --- spawn() ---------------------------------------------------------------

// Builds the plan, starts it with the backend of the day and hands back our
// ends. (A struct, to be ExecReport's friend.)
struct Launcher {
  static SpawnedChild spawn(const SpawnOptions& options);
  static StartedChild start(const std::shared_ptr<const LaunchPlan>& plan, bool wait_for_exec);
};

StartedChild Launcher::start(const std::shared_ptr<const LaunchPlan>& plan, bool wait_for_exec) {
#ifdef TEND_HAVE_CLONE3
  if (spawn_backend() == SpawnBackend::clone3) {
    if (auto child = start_with_clone3(plan, wait_for_exec)) return std::move(*child);
    g_clone3_unavailable.store(true);  // posix_spawn from now on
  }
#endif
  return start_with_posix_spawn(*plan, wait_for_exec);
}

SpawnedChild Launcher::spawn(const SpawnOptions& options) {
  PreparedLaunch launch = prepare_launch(options);
  StartedChild started = start(launch.plan, options.wait_for_exec);
  const detail::ExecRecord* record = started.exec_record();
  // It exited 127 without running anything: `started` reaps it, and we say why.
  if (options.wait_for_exec && record && record->error != 0) throw error_of(*record);

  auto [pid, pidfd, exec_record] = std::move(started).release();
  SpawnedChild child;
  child.pid = pid;
  child.pidfd = std::move(pidfd);
  child.exec.record_ = std::move(exec_record);
  child.stdin_fd = std::move(launch.ends.stdin_write);
  child.stdout_fd = std::move(launch.ends.stdout_read);
  child.stderr_fd = std::move(launch.ends.stderr_read);
  child.pty_master = std::move(launch.ends.pty_master);
  return child;
}

SpawnedChild spawn(const SpawnOptions& options) { return Launcher::spawn(options); }

}  // namespace tend::process
