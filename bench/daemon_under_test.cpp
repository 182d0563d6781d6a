#include "daemon_under_test.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>

#include <cstdlib>
#include <sstream>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "rpc_connection.hpp"

extern char** environ;

namespace tend::bench {

DaemonUnderTest::DaemonUnderTest() {
  std::string templ = (std::filesystem::temp_directory_path() / "tend-bench-XXXXXX").string();
  if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = templ;
  socket_ = dir_ / "tend.sock";
  state_dir_ = dir_ / "state";
  export_environment();
  // Thousands of tasks need more descriptors than a shell's usual limit;
  // root (as on the benchmark machines) may raise the hard limit too.
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_max < 65536) {
    rlimit wanted{65536, 65536};
    if (::setrlimit(RLIMIT_NOFILE, &wanted) != 0) ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  // TEND_BENCH_DAEMON_PREFIX="strace -c -f -o FILE" (say) runs the daemon
  // under a profiler; its words go before the daemon's command line.
  std::vector<std::string> args;
  if (const char* prefix = std::getenv("TEND_BENCH_DAEMON_PREFIX")) {
    std::istringstream words(prefix);
    for (std::string w; words >> w;) args.push_back(w);
  }
  for (const char* a : {TEND_CLI_PATH, "daemon", "run"}) args.emplace_back(a);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, (dir_ / "daemon.out").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  int rc = ::posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    try {
      RpcConnection probe(socket_);
      probe.call("daemon.status", json::object());
      return;
    } catch (const std::exception& e) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error(std::string("daemon did not answer: ") + e.what());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

std::optional<double> DaemonUnderTest::stop(std::chrono::seconds limit) {
  auto start = std::chrono::steady_clock::now();
  if (stopped_) return 0.0;
  stopped_ = true;
  // Its children, should it have to be killed: they would outlive it.
  std::vector<pid_t> children;
  for (auto& thread : std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/task")) {
    std::ifstream in(thread.path() / "children");
    for (pid_t child; in >> child;) children.push_back(child);
  }
  try {
    RpcConnection(socket_).call("daemon.shutdown", json::object());
  } catch (const std::exception&) {
    ::kill(pid_, SIGTERM);  // it answers SIGTERM by stopping every task
  }
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() - start > limit) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      for (pid_t child : children) ::kill(child, SIGKILL);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

DaemonUnderTest::~DaemonUnderTest() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void DaemonUnderTest::export_environment() const {
  ::setenv("TEND_SOCKET", socket_.c_str(), 1);
  ::setenv("TEND_STATE_DIR", state_dir_.c_str(), 1);
}

}  // namespace tend::bench
