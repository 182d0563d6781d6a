#include "tend/process/run.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace tend::process {

namespace {

using Clock = std::chrono::steady_clock;

// How long to keep reading after the child exited, for output a leftover
// descendant still holds.
constexpr std::chrono::milliseconds kDrainGrace{200};

int remaining_ms(std::optional<Clock::time_point> deadline) {
  if (!deadline) return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left) + 1;
}

// Reads what is there; false at end of file.
bool read_some(UniqueFd& fd, std::string& into) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer) return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    fd.reset();
    return false;
  }
}

}  // namespace

CapturedRun run_captured(SpawnOptions options, std::string_view input,
                         std::optional<std::chrono::milliseconds> timeout) {
  options.terminal.reset();
  options.stdout_file.clear();
  options.stderr_file.clear();
  options.merge_stderr = false;
  options.stdin_mode = input.empty() ? StdinMode::null : StdinMode::pipe;
  SpawnedChild child = spawn(options);
  for (UniqueFd* fd : {&child.stdin_fd, &child.stdout_fd, &child.stderr_fd}) {
    if (*fd) set_nonblocking(fd->get());
  }

  CapturedRun run;
  std::size_t written = 0;
  std::optional<Clock::time_point> deadline;
  if (timeout) deadline = Clock::now() + *timeout;
  std::optional<Clock::time_point> drain_until;
  bool exited = false;

  while (!exited || child.stdout_fd || child.stderr_fd) {
    std::vector<pollfd> fds;
    auto watch = [&fds](const UniqueFd& fd, short events) {
      if (fd) fds.push_back({fd.get(), events, 0});
    };
    watch(child.stdout_fd, POLLIN);
    watch(child.stderr_fd, POLLIN);
    watch(child.stdin_fd, POLLOUT);
    if (!exited) fds.push_back({child.pidfd.fd(), POLLIN, 0});

    std::optional<Clock::time_point> wake = drain_until ? drain_until : (run.timed_out ? std::nullopt : deadline);
    int rc = ::poll(fds.data(), fds.size(), remaining_ms(wake));
    if (rc < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");

    if (rc == 0 && drain_until && Clock::now() >= *drain_until) break;
    if (rc == 0 && !run.timed_out && deadline && Clock::now() >= *deadline) {
      run.timed_out = true;
      child.pidfd.send_signal_to_group(SIGKILL);
      child.stdin_fd.reset();
      continue;
    }
    if (rc <= 0) continue;

    for (const pollfd& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == child.stdout_fd.get()) {
        read_some(child.stdout_fd, run.out);
      } else if (p.fd == child.stderr_fd.get()) {
        read_some(child.stderr_fd, run.err);
      } else if (p.fd == child.stdin_fd.get()) {
        if (p.revents & (POLLERR | POLLHUP)) {
          child.stdin_fd.reset();
          continue;
        }
        ssize_t n = ::write(child.stdin_fd.get(), input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<std::size_t>(n);
        if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) child.stdin_fd.reset();
      } else if (p.fd == child.pidfd.fd()) {
        if (auto status = child.pidfd.try_reap()) {
          run.status = *status;
          exited = true;
          child.stdin_fd.reset();
          drain_until = Clock::now() + kDrainGrace;
        }
      }
    }
  }
  return run;
}

}  // namespace tend::process
