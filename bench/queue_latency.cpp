// queue_latency: how long enqueueing a task takes with 0, 1000 and 10 000
// tasks already queued. One sleeping task holds the only slot (parallel
// limit 1), so everything submitted after it waits in the queue.
//
// Library: Supervisor::submit() timed on the executor's thread; each timed
// task is cancelled again (untimed) so the queue stays at its level.
// Daemon: task.run over one connection, the round trip timed; the timed
// tasks stay queued (the queue grows by the sample count).
//
//   build/bench/queue_latency [--samples N] [--small]

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <tend/core/supervisor.hpp>

#include "daemon_under_test.hpp"
#include "rpc_connection.hpp"
#include "stats.hpp"

using namespace tend;
using namespace tend::bench;
namespace asio = boost::asio;

namespace {

struct Level {
  std::size_t queued;
  double p50_us, p99_us;
};

TaskSpec queued_spec() {
  TaskSpec spec = TaskSpec::exec({"/bin/true"});
  spec.timeout = Duration::zero();
  return spec;
}

asio::awaitable<void> library_levels(Supervisor& sup, const std::vector<std::size_t>& levels, std::size_t samples,
                                     std::vector<Level>& out) {
  sup.set_parallel("", 1);
  TaskSpec hold = TaskSpec::exec({"/bin/sleep", "3600"});
  hold.timeout = Duration::zero();
  hold.idle_timeout = Duration::zero();
  sup.submit(std::move(hold));
  std::size_t queued = 0;
  for (std::size_t level : levels) {
    for (; queued < level; ++queued) sup.submit(queued_spec());
    std::vector<double> us;
    for (std::size_t i = 0; i < samples; ++i) {
      auto start = clock_type::now();
      TaskPtr task = sup.submit(queued_spec());
      us.push_back(seconds_since(start) * 1e6);
      sup.stop(task);
      if (sup.poll(task)) sup.forget(task);
    }
    out.push_back({level, percentile(us, 50), percentile(us, 99)});
  }
  co_await sup.async_shutdown();
}

std::vector<Level> library(const std::vector<std::size_t>& levels, std::size_t samples) {
  asio::io_context io(1);
  Supervisor sup(io);
  std::vector<Level> out;
  asio::co_spawn(io, library_levels(sup, levels, samples, out), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return out;
}

std::vector<Level> daemon(const std::vector<std::size_t>& levels, std::size_t samples) {
  DaemonUnderTest d;
  RpcConnection rpc(d.socket());
  rpc.call("queue.parallel", {{"n", 1}});
  rpc.call("task.run", {{"argv", {"/bin/sleep", "3600"}}, {"timeout_ms", 0}, {"idle_timeout_ms", 0}});
  json params = {{"argv", {"/bin/true"}}, {"timeout_ms", 0}};
  std::vector<Level> out;
  std::size_t queued = 0;
  for (std::size_t level : levels) {
    std::size_t fill = level > queued ? level - queued : 0;
    for (std::size_t i = 0; i < fill; ++i) rpc.send("task.run", params);
    for (std::size_t i = 0; i < fill; ++i) rpc.receive();
    queued += fill;
    std::vector<double> us;
    for (std::size_t i = 0; i < samples; ++i) {
      auto start = clock_type::now();
      rpc.call("task.run", params);
      us.push_back(seconds_since(start) * 1e6);
    }
    queued += samples;
    out.push_back({level, percentile(us, 50), percentile(us, 99)});
  }
  return out;
}

bool print(const char* who, const std::vector<Level>& levels) {
  bool flat = true;
  for (const Level& l : levels) {
    double r50 = l.p50_us / levels[0].p50_us, r99 = l.p99_us / levels[0].p99_us;
    bool ok = r50 <= 1.2 && r99 <= 1.2;
    flat = flat && ok;
    fmt::print("| {} | {} | {:.1f} | {:.1f} | {:.2f}x | {:.2f}x | {} |\n", who, l.queued, l.p50_us, l.p99_us, r50, r99,
               &l == &levels[0] ? "-" : verdict(ok));
  }
  return flat;
}

}  // namespace

int main(int argc, char** argv) {
  bool small = small_run(argc, argv);
  std::size_t samples = std::stoul(flag(argc, argv, "--samples", small ? "50" : "500"));
  std::vector<std::size_t> levels = small ? std::vector<std::size_t>{0, 100, 1000} : std::vector<std::size_t>{0, 1000, 10000};
  fmt::print("### queue_latency: enqueue latency with tasks already queued ({} samples per level, microseconds)\n\n",
             samples);
  fmt::print("| via | queued | p50 (us) | p99 (us) | p50 vs empty | p99 vs empty | goal <= 1.2x |\n"
             "|---|---:|---:|---:|---:|---:|---|\n");
  print("library `submit`", library(levels, samples));
  print("daemon `task.run`", daemon(levels, small ? samples / 2 : samples / 2));
  return 0;
}
