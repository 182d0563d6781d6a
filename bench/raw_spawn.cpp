#include "raw_spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

extern char** environ;

namespace tend::bench {
namespace {

struct Child {
  pid_t pid = -1;
  int fd = -1;
  std::string out;
};

Child start(std::vector<char*>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  Child c;
  if (::posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("posix_spawn");
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  c.fd = fds[0];
  return c;
}

}  // namespace

std::size_t raw_spawn_loop(const std::vector<std::string>& args, std::size_t count, std::size_t concurrency,
                           const std::string& expected) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<Child> live;
  std::size_t started = 0, correct = 0;
  char buf[4096];
  while (started < count || !live.empty()) {
    while (live.size() < concurrency && started < count) {
      live.push_back(start(argv));
      ++started;
    }
    std::vector<pollfd> fds;
    for (auto& c : live) fds.push_back({c.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), -1);
    for (std::size_t i = live.size(); i-- > 0;) {
      if (!fds[i].revents) continue;
      ssize_t n = ::read(live[i].fd, buf, sizeof buf);
      if (n > 0) {
        live[i].out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      ::close(live[i].fd);
      int status = 0;
      ::waitpid(live[i].pid, &status, 0);
      correct += live[i].out == expected && WIFEXITED(status) && WEXITSTATUS(status) == 0;
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return correct;
}

}  // namespace tend::bench
