// spawn_throughput: N short tasks (/bin/echo hi, output captured), C at a
// time, through tend's Supervisor, side by side in one run with a raw
// posix_spawn loop and Python asyncio. Prints tasks/s and the ratios.
//
//   build/bench/spawn_throughput [--tasks N] [--concurrency C] [--repeat R]

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <tend/core/supervisor.hpp>

#include "raw_spawn.hpp"

using namespace tend;
namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

namespace {

struct Run {
  double tasks_per_s = 0;
  std::size_t correct = 0;
};

Run run_tend(std::size_t n, std::size_t c) {
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
  auto start = clock_type::now();
  for (std::size_t i = 0; i < c; ++i) asio::co_spawn(io, worker(), asio::detached);
  io.run();
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  return {static_cast<double>(n) / secs, correct};
}

Run run_raw(std::size_t n, std::size_t c) {
  auto start = clock_type::now();
  std::size_t correct = bench::raw_spawn_loop({"/bin/echo", "hi"}, n, c, "hi\n");
  double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  return {static_cast<double>(n) / secs, correct};
}

std::optional<Run> run_asyncio(std::size_t n, std::size_t c) {
  std::string cmd = fmt::format("python3 {} {} {} 2>/dev/null", TEND_BENCH_DIR "/asyncio_spawn.py", n, c);
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
  if (!pipe) return std::nullopt;
  Run r;
  if (std::fscanf(pipe.get(), "%lf %zu", &r.tasks_per_s, &r.correct) != 2) return std::nullopt;
  return r;
}

template <typename F>
Run best_of(int repeat, F f) {
  Run best;
  for (int i = 0; i < repeat; ++i) {
    Run r = f();
    if (r.tasks_per_s > best.tasks_per_s) best = r;
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 2000, c = 16;
  int repeat = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--tasks")) n = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--concurrency")) c = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeat")) repeat = std::stoi(argv[i + 1]);
    else {
      fmt::print(stderr, "usage: spawn_throughput [--tasks N] [--concurrency C] [--repeat R]\n");
      return 2;
    }
  }
  fmt::print("spawn_throughput: {} x /bin/echo hi, {} at a time, best of {}\n\n", n, c, repeat);
  Run raw = best_of(repeat, [&] { return run_raw(n, c); });
  Run tend_run = best_of(repeat, [&] { return run_tend(n, c); });
  std::optional<Run> py;
  for (int i = 0; i < repeat; ++i) {
    auto r = run_asyncio(n, c);
    if (r && (!py || r->tasks_per_s > py->tasks_per_s)) py = r;
  }
  fmt::print("| runner | tasks/s | vs raw | vs asyncio |\n|---|---:|---:|---:|\n");
  auto row = [&](const char* name, const Run& r) {
    fmt::print("| {} | {:.0f} | {:.2f}x | {} |\n", name, r.tasks_per_s, r.tasks_per_s / raw.tasks_per_s,
               py ? fmt::format("{:.2f}x", r.tasks_per_s / py->tasks_per_s) : "-");
  };
  row("tend Supervisor", tend_run);
  row("raw posix_spawn loop", raw);
  if (py) row("Python asyncio", *py);
  fmt::print("\ntargets: tend >= 0.9x raw: {}; tend >= 1.6x asyncio: {}\n",
             tend_run.tasks_per_s >= 0.9 * raw.tasks_per_s ? "PASS" : "MISS",
             !py ? "n/a" : tend_run.tasks_per_s >= 1.6 * py->tasks_per_s ? "PASS" : "MISS");
  bool ok = tend_run.correct == n && raw.correct == n && (!py || py->correct == n);
  if (!ok) fmt::print(stderr, "wrong output: tend {}/{}, raw {}/{}\n", tend_run.correct, n, raw.correct, n);
  return ok ? 0 : 1;
}
