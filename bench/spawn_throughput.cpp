// spawn_throughput: N short tasks (/bin/echo hi, output captured), C at a
// time, for each C in a list, through tend's Supervisor and through the
// daemon over one connection, side by side in one run with a raw posix_spawn
// loop, Python asyncio, `xargs -P` and GNU parallel. Prints tasks/s and the
// ratios as a markdown table; --data writes the figures for gnuplot.
//
//   build/bench/spawn_throughput [--tasks N] [--concurrency 1,4,16,64] [--repeat R]
//                                [--data FILE] [--small]
//   build/bench/spawn_throughput --only raw|library|daemon [--tasks N] [--concurrency C]
//     runs one runner alone and prints its tasks/s, to profile it (perf stat, strace -c).

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <tend/core/supervisor.hpp>

#include "daemon_spawn.hpp"
#include "daemon_under_test.hpp"
#include "proc_stats.hpp"
#include "raw_spawn.hpp"
#include "stats.hpp"

using namespace tend;
using namespace tend::bench;
namespace asio = boost::asio;

namespace {

struct Run {
  double tasks_per_s = 0;
  std::size_t correct = 0;
  std::size_t tasks = 0;
};

template <typename F>
Run timed(std::size_t n, F body) {
  auto start = clock_type::now();
  std::size_t correct = body();
  return {static_cast<double>(n) / seconds_since(start), correct, n};
}

Run run_tend(std::size_t n, std::size_t c) {
  return timed(n, [&] {
    asio::io_context io(1);
    Supervisor sup(io);
    std::size_t next = 0, correct = 0, workers_left = c;
    auto worker = [&]() -> asio::awaitable<void> {
      while (next < n) {
        ++next;
        auto task = sup.run(TaskSpec::exec({"/bin/echo", "hi"}));
        auto status = co_await sup.async_wait(task);
        correct += status && status->state == TaskState::succeeded && task->output().read(0).data == "hi\n";
        sup.forget(task);
      }
      // The Supervisor keeps the loop alive (it listens for SIGCHLD) until shut down.
      if (--workers_left == 0) co_await sup.async_shutdown();
    };
    for (std::size_t i = 0; i < c; ++i) asio::co_spawn(io, worker(), asio::detached);
    io.run();
    return correct;
  });
}

Run run_daemon(const DaemonUnderTest& daemon, std::size_t n, std::size_t c) {
  return timed(n, [&] { return daemon_spawn_loop(daemon.socket(), {"/bin/echo", "hi"}, n, c, "hi\n"); });
}

Run run_raw(std::size_t n, std::size_t c) {
  return timed(n, [&] { return raw_spawn_loop({"/bin/echo", "hi"}, n, c, "hi\n"); });
}

// Runs a shell pipeline that prints one number (a rate, or a count of lines).
std::optional<double> shell_number(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return std::nullopt;
  double value = 0;
  if (std::fscanf(pipe.get(), "%lf", &value) != 1) return std::nullopt;
  return value;
}

std::optional<Run> run_asyncio(std::size_t n, std::size_t c) {
  std::string cmd = fmt::format("python3 {} {} {} 2>/dev/null", TEND_BENCH_DIR "/asyncio_spawn.py", n, c);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) return std::nullopt;
  Run r;
  r.tasks = n;
  if (std::fscanf(pipe.get(), "%lf %zu", &r.tasks_per_s, &r.correct) != 2) return std::nullopt;
  return r;
}

// A shell tool that runs `/bin/echo hi` once per input line, C at a time; the
// lines that come out are counted.
std::optional<Run> run_tool(const char* tool, std::size_t n, std::size_t c) {
  // A tool that is not installed is a missing row, not a failure.
  std::string program(tool, std::strcspn(tool, " "));
  if (std::system(fmt::format("command -v {} >/dev/null 2>&1", program).c_str()) != 0) return std::nullopt;
  std::string cmd = fmt::format("(yes hi 2>/dev/null) | head -n {} | {} | grep -c '^hi$'", n,
                                fmt::format(fmt::runtime(tool), c));
  auto start = clock_type::now();
  auto lines = shell_number(cmd);
  double secs = seconds_since(start);
  if (!lines) return std::nullopt;
  return Run{static_cast<double>(n) / secs, static_cast<std::size_t>(*lines), n};
}

template <typename F>
std::optional<Run> best_of(int repeat, F f) {
  std::optional<Run> best;
  for (int i = 0; i < repeat; ++i) {
    std::optional<Run> r = f();
    if (r && (!best || r->tasks_per_s > best->tasks_per_s)) best = r;
  }
  return best;
}

std::string rate(const std::optional<Run>& r) { return r ? fmt::format("{:.0f}", r->tasks_per_s) : "-"; }
std::string ratio(const std::optional<Run>& a, const std::optional<Run>& b) {
  return a && b ? fmt::format("{:.2f}x", a->tasks_per_s / b->tasks_per_s) : "-";
}

}  // namespace

// One runner alone, for profiling: its rate per concurrency level, nothing else.
int run_only(const std::string& which, std::size_t n, const std::vector<std::size_t>& levels) {
  std::optional<DaemonUnderTest> daemon;
  if (which == "daemon") daemon.emplace();
  for (std::size_t c : levels) {
    Run r;
    if (which == "raw") r = run_raw(n, c);
    else if (which == "library") r = run_tend(n, c);
    else if (which == "daemon") {
      double cpu_before = cpu_seconds(daemon->pid());
      r = run_daemon(*daemon, n, c);
      fmt::print("daemon CPU: {:.1f} us per task\n", (cpu_seconds(daemon->pid()) - cpu_before) * 1e6 / n);
    }
    else {
      fmt::print(stderr, "--only takes raw, library or daemon, not \"{}\"\n", which);
      return 2;
    }
    fmt::print("{} concurrency {}: {:.0f} tasks/s ({} of {} correct)\n", which, c, r.tasks_per_s, r.correct, r.tasks);
  }
  return 0;
}

int main(int argc, char** argv) {
  bool small = small_run(argc, argv);
  std::size_t n = std::stoul(flag(argc, argv, "--tasks", small ? "40" : "2000"));
  int repeat = std::stoi(flag(argc, argv, "--repeat", small ? "1" : "3"));
  std::vector<std::size_t> levels;
  std::stringstream list(flag(argc, argv, "--concurrency", small ? "1,4" : "1,4,16,64"));
  for (std::string item; std::getline(list, item, ',');) levels.push_back(std::stoul(item));
  std::string data_path = flag(argc, argv, "--data", "");
  if (std::string only = flag(argc, argv, "--only", ""); !only.empty()) return run_only(only, n, levels);
  // GNU parallel starts a Perl job per task (milliseconds each): fewer tasks
  // keep its rows from dominating the suite's time; the rate is per task.
  std::size_t n_parallel = std::min<std::size_t>(n, small ? 10 : 300);

  fmt::print("### spawn_throughput: {} x `/bin/echo hi`, output captured, best of {}\n\n", n, repeat);
  fmt::print("tasks/s by concurrency (GNU parallel: {} tasks per run)\n\n", n_parallel);
  fmt::print("| concurrency | raw posix_spawn | tend library | tend daemon | Python asyncio | xargs -P | GNU parallel "
             "| library / raw | daemon / raw | library / asyncio | daemon / asyncio |\n");
  fmt::print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::ofstream data;
  if (!data_path.empty()) {
    data.open(data_path);
    data << "# concurrency raw library daemon asyncio xargs parallel (tasks/s)\n";
  }
  DaemonUnderTest daemon;
  bool all_correct = true, goals_met = true;
  for (std::size_t c : levels) {
    auto raw = best_of(repeat, [&] { return std::optional(run_raw(n, c)); });
    auto lib = best_of(repeat, [&] { return std::optional(run_tend(n, c)); });
    auto dmn = best_of(repeat, [&] { return std::optional(run_daemon(daemon, n, c)); });
    auto py = best_of(repeat, [&] { return run_asyncio(n, c); });
    auto xargs = best_of(repeat, [&] { return run_tool("xargs -P {} -n 1 /bin/echo", n, c); });
    auto par = best_of(1, [&] { return run_tool("parallel --will-cite -j {} /bin/echo", n_parallel, c); });
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", c, rate(raw), rate(lib), rate(dmn),
               rate(py), rate(xargs), rate(par), ratio(lib, raw), ratio(dmn, raw), ratio(lib, py), ratio(dmn, py));
    std::fflush(stdout);
    if (data.is_open()) {
      auto v = [](const std::optional<Run>& r) { return r ? fmt::format("{:.1f}", r->tasks_per_s) : "NaN"; };
      data << fmt::format("{} {} {} {} {} {} {}\n", c, v(raw), v(lib), v(dmn), v(py), v(xargs), v(par));
    }
    for (auto* r : {&raw, &lib, &dmn, &py, &xargs, &par})
      if (*r && (*r)->correct != (*r)->tasks) all_correct = false;
    goals_met = goals_met && lib->tasks_per_s >= 0.9 * raw->tasks_per_s && dmn->tasks_per_s >= 0.8 * raw->tasks_per_s &&
                (!py || (lib->tasks_per_s >= 1.6 * py->tasks_per_s && dmn->tasks_per_s >= 1.6 * py->tasks_per_s));
  }
  fmt::print("\ngoals (library >= 0.9x raw, daemon >= 0.8x raw, both >= 1.6x asyncio, at every concurrency): {}\n",
             verdict(goals_met));
  if (!all_correct) fmt::print(stderr, "some runner produced wrong output\n");
  return all_correct ? 0 : 1;
}
