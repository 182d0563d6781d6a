// cli_overhead: what `tend run --wait -- true` costs over running `true`
// itself, with the daemon already up (an isolated one in a temp dir); and
// what `tend logs` of a big log costs over `cat` of its file. Each command
// is started with posix_spawn and timed until it is reaped.
//
//   build/bench/cli_overhead [--runs N] [--small]

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "daemon_under_test.hpp"
#include "stats.hpp"

extern char** environ;

using namespace tend::bench;

namespace {

// Runs argv with stdout and stderr on /dev/null; the milliseconds it took.
double timed_run(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  auto start = clock_type::now();
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  double ms = seconds_since(start) * 1e3;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(args[0] + " failed");
  return ms;
}

std::vector<double> runs(const std::vector<std::string>& args, std::size_t n) {
  std::vector<double> ms;
  timed_run(args);  // warm the page cache and the daemon
  for (std::size_t i = 0; i < n; ++i) ms.push_back(timed_run(args));
  return ms;
}

// `tend logs` of a log of `bytes` against `cat` of the log file, both to
// /dev/null, best of 3 (the file is in the page cache for both).
void logs_against_cat(const DaemonUnderTest& daemon, std::uint64_t bytes) {
  timed_run({TEND_CLI_PATH, "run", "--name", "big-output", "--wait", "--", "head", "-c", std::to_string(bytes),
             "/dev/zero"});
  std::filesystem::path file;
  for (const auto& entry : std::filesystem::directory_iterator(daemon.state_dir() / "logs")) {
    if (entry.path().extension() == ".stdout" && entry.file_size() == bytes) file = entry.path();
  }
  if (file.empty()) throw std::runtime_error("the big output's log file is not there");
  auto best_of_3 = [](const std::vector<std::string>& args) {
    double best = 1e300;
    for (int i = 0; i < 3; ++i) best = std::min(best, timed_run(args));
    return best;
  };
  best_of_3({"/bin/cat", file.string()});  // into the page cache
  double cat = best_of_3({"/bin/cat", file.string()});
  double logs = best_of_3({TEND_CLI_PATH, "logs", "big-output"});
  const double mib = static_cast<double>(bytes) / (1 << 20);
  fmt::print("\n### cli_overhead: `tend logs` of {:.0f} MiB against `cat` of its log file, to /dev/null, best of 3\n\n",
             mib);
  fmt::print("| command | ms | MiB/s |\n|---|---:|---:|\n");
  fmt::print("| `cat <log file>` | {:.1f} | {:.0f} |\n", cat, mib / (cat / 1e3));
  fmt::print("| `tend logs ID` | {:.1f} | {:.0f} |\n", logs, mib / (logs / 1e3));
  fmt::print("| tend / cat (speed) | {:.2f}x | |\n", cat / logs);
  fmt::print("\ngoal (tend logs >= 0.8x the speed of cat): {}\n", verdict(cat / logs >= 0.8));
}

}  // namespace

int main(int argc, char** argv) {
  bool small = small_run(argc, argv);
  std::size_t n = std::stoul(flag(argc, argv, "--runs", small ? "5" : "200"));
  DaemonUnderTest daemon;
  auto plain = runs({"/bin/true"}, n);
  auto tend = runs({TEND_CLI_PATH, "run", "--wait", "--", "true"}, n);
  double over50 = percentile(tend, 50) - percentile(plain, 50);
  double over99 = percentile(tend, 99) - percentile(plain, 99);
  fmt::print("### cli_overhead: {} runs each, the daemon already up (ms)\n\n", n);
  fmt::print("| command | p50 | p99 |\n|---|---:|---:|\n");
  fmt::print("| `true` | {:.2f} | {:.2f} |\n", percentile(plain, 50), percentile(plain, 99));
  fmt::print("| `tend run --wait -- true` | {:.2f} | {:.2f} |\n", percentile(tend, 50), percentile(tend, 99));
  fmt::print("| overhead | {:.2f} | {:.2f} |\n", over50, over99);
  fmt::print("\ngoal (overhead <= 5 ms at p50): {}\n", verdict(over50 <= 5));
  logs_against_cat(daemon, small ? (8u << 20) : (300u << 20));
  return 0;
}
