// latency: how soon a waiter learns that a task ended, and how long a stop
// takes.
//
// Wake-up: each task is this program run with --exit-stamp, which prints the
// CLOCK_MONOTONIC time and exits at once; the waiter notes the time it woke
// up, so the difference is exit -> wake-up (plus the few microseconds of
// _exit itself). One task at a time, waited on together with an idle one, so
// wait_any has a real choice to make.
//
// Stop: `sleep` exits on SIGTERM; timed from the stop request to the task's
// reaped, final state.
//
//   build/bench/latency [--tasks N] [--small]

#include <fmt/format.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <climits>
#include <cstdio>
#include <string>
#include <tend/core/supervisor.hpp>

#include "daemon_under_test.hpp"
#include "rpc_connection.hpp"
#include "stats.hpp"

using namespace tend;
using namespace tend::bench;
namespace asio = boost::asio;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

TaskSpec stamp_spec(const std::string& self) {
  TaskSpec spec = TaskSpec::exec({self, "--exit-stamp"});
  spec.timeout = Duration::zero();
  return spec;
}

TaskSpec idle_spec() {
  TaskSpec spec = TaskSpec::exec({"/bin/sleep", "1000"});
  spec.timeout = Duration::zero();
  spec.idle_timeout = Duration::zero();
  return spec;
}

// Exit -> wake-up in ms, from the stamp the task printed; nullopt if it printed none.
std::optional<double> wake_ms(const std::string& printed, std::int64_t woke_ns) {
  if (printed.empty()) return std::nullopt;
  return static_cast<double>(woke_ns - std::stoll(printed)) / 1e6;
}

// wait_any from a plain thread: the Supervisor runs on its own thread.
std::vector<double> blocking_wait_any(const std::string& self, std::size_t n) {
  Supervisor sup;
  auto idle = sup.run(idle_spec());
  std::vector<double> samples;
  for (std::size_t i = 0; i < n; ++i) {
    auto task = sup.run(stamp_spec(self));
    auto first = sup.wait_any({task, idle});
    std::int64_t woke = now_ns();
    if (first && *first == task)
      if (auto ms = wake_ms(task->output().read(0).data, woke)) samples.push_back(*ms);
    sup.forget(task);
  }
  return samples;
}

// async_wait_any from a coroutine on the Supervisor's own io_context.
asio::awaitable<void> async_wait_any_body(Supervisor& sup, std::string self, std::size_t n,
                                          std::vector<double>& samples) {
  auto idle = sup.run(idle_spec());
  for (std::size_t i = 0; i < n; ++i) {
    auto task = sup.run(stamp_spec(self));
    std::vector<TaskPtr> either{task, idle};
    auto first = co_await sup.async_wait_any(std::move(either));
    std::int64_t woke = now_ns();
    if (first && *first == task)
      if (auto ms = wake_ms(task->output().read(0).data, woke)) samples.push_back(*ms);
    sup.forget(task);
  }
  co_await sup.async_shutdown();
}

std::vector<double> async_wait_any(const std::string& self, std::size_t n) {
  asio::io_context io(1);
  Supervisor sup(io);
  std::vector<double> samples;
  asio::co_spawn(io, async_wait_any_body(sup, self, n, samples), asio::detached);
  io.run();
  return samples;
}

// task.wait through the daemon: the wake-up is when the answer arrives.
std::vector<double> daemon_wait(const DaemonUnderTest& daemon, const std::string& self, std::size_t n) {
  RpcConnection rpc(daemon.socket());
  json idle = rpc.call("task.run", {{"argv", {"/bin/sleep", "1000"}}, {"timeout_ms", 0}, {"idle_timeout_ms", 0}})["id"];
  std::vector<double> samples;
  for (std::size_t i = 0; i < n; ++i) {
    json id = rpc.call("task.run", {{"argv", {self, "--exit-stamp"}}, {"timeout_ms", 0}})["id"];
    json done = rpc.call("task.wait", {{"ids", {id, idle}}, {"any", true}});
    std::int64_t woke = now_ns();
    if (done["finished"].size() == 1 && done["finished"][0]["id"] == id)
      if (auto ms = wake_ms(rpc.call("task.output", {{"id", id}})["data"].get<std::string>(), woke))
        samples.push_back(*ms);
    rpc.call("task.remove", {{"ids", {id}}});
  }
  rpc.call("task.kill", {{"ids", {idle}}, {"signal", "KILL"}});
  return samples;
}

std::vector<double> library_stop(std::size_t n) {
  Supervisor sup;
  std::vector<double> samples;
  for (std::size_t i = 0; i < n; ++i) {
    auto task = sup.run(idle_spec());
    auto start = clock_type::now();
    auto status = sup.stop_and_wait(task);
    double ms = seconds_since(start) * 1e3;
    if (status.finished()) samples.push_back(ms);
    sup.forget(task);
  }
  return samples;
}

// task.kill answers once the task has ended and been reaped.
std::vector<double> daemon_stop(const DaemonUnderTest& daemon, std::size_t n) {
  RpcConnection rpc(daemon.socket());
  std::vector<double> samples;
  for (std::size_t i = 0; i < n; ++i) {
    json id = rpc.call("task.run", {{"argv", {"/bin/sleep", "1000"}}, {"timeout_ms", 0}, {"idle_timeout_ms", 0}})["id"];
    auto start = clock_type::now();
    json done = rpc.call("task.kill", {{"ids", {id}}});
    double ms = seconds_since(start) * 1e3;
    if (!done["tasks"].empty() && done["tasks"][0]["state"] != "running") samples.push_back(ms);
    rpc.call("task.remove", {{"ids", {id}}});
  }
  return samples;
}

void row(const char* what, const std::vector<double>& s, std::size_t n, std::optional<double> goal_p99) {
  double p99 = percentile(s, 99);
  fmt::print("| {} | {}/{} | {:.3f} | {:.3f} | {:.3f} | {} |\n", what, s.size(), n, percentile(s, 50), p99,
             s.empty() ? 0.0 : *std::max_element(s.begin(), s.end()),
             goal_p99 ? fmt::format("p99 <= {} ms: {}", *goal_p99, verdict(p99 <= *goal_p99)) : "-");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--exit-stamp") {
    std::printf("%lld", static_cast<long long>(now_ns()));
    std::fflush(stdout);
    ::_exit(0);
  }
  bool small = small_run(argc, argv);
  std::size_t n = std::stoul(flag(argc, argv, "--tasks", small ? "20" : "1000"));
  std::size_t n_stop = small ? 10 : 200;
  std::string self = self_path();

  fmt::print("### latency: exit -> wake-up over {} tasks; stop -> reaped over {} tasks (ms)\n\n", n, n_stop);
  fmt::print("| measure | samples | p50 | p99 | max | goal |\n|---|---:|---:|---:|---:|---|\n");
  row("exit -> `wait_any` wake-up (library, blocking caller thread)", blocking_wait_any(self, n), n, 1.0);
  row("exit -> `async_wait_any` wake-up (library, coroutine)", async_wait_any(self, n), n, 1.0);
  {
    DaemonUnderTest daemon;
    row("exit -> `task.wait` answer (daemon, `any`)", daemon_wait(daemon, self, n), n, std::nullopt);
    row("`task.kill` (TERM) -> answer with the reaped task (daemon)", daemon_stop(daemon, n_stop), n_stop, std::nullopt);
  }
  row("`stop_and_wait` (TERM) -> reaped (library)", library_stop(n_stop), n_stop, std::nullopt);
  return 0;
}
