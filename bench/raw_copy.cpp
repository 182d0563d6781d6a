#include "raw_copy.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>

extern char** environ;

namespace tend::bench {

std::uint64_t raw_pipe_to_files(const std::vector<std::string>& args, std::size_t count,
                                const std::filesystem::path& dir) {
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  struct Child {
    pid_t pid;
    int pipe;
    int file;
  };
  std::vector<Child> live;
  for (std::size_t i = 0; i < count; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    pid_t pid = -1;
    if (::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("posix_spawn");
    posix_spawn_file_actions_destroy(&fa);
    ::close(fds[1]);
    int file = ::open((dir / (std::to_string(i) + ".out")).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (file < 0) throw std::runtime_error("open output file");
    live.push_back({pid, fds[0], file});
  }
  std::uint64_t total = 0;
  std::vector<char> buf(1 << 16);
  while (!live.empty()) {
    std::vector<pollfd> fds;
    for (auto& c : live) fds.push_back({c.pipe, POLLIN, 0});
    ::poll(fds.data(), fds.size(), -1);
    for (std::size_t i = live.size(); i-- > 0;) {
      if (!fds[i].revents) continue;
      ssize_t n = ::read(live[i].pipe, buf.data(), buf.size());
      if (n > 0) {
        if (::write(live[i].file, buf.data(), static_cast<std::size_t>(n)) != n) throw std::runtime_error("write");
        total += static_cast<std::uint64_t>(n);
        continue;
      }
      ::close(live[i].pipe);
      ::close(live[i].file);
      int status = 0;
      ::waitpid(live[i].pid, &status, 0);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  return total;
}

}  // namespace tend::bench
