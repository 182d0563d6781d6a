// daemon_cost: what supervising costs while nothing happens.
//
// Idle: the daemon with N sleeping tasks, left alone for a while: the CPU
// time it used (utime + stime from /proc/<pid>/stat) and its wake-ups
// (context switches over all its threads).
// Memory: its RSS (VmRSS) with 0, 1000 and 5000 supervised `sleep` tasks,
// and so the cost of one task.
//
//   build/bench/daemon_cost [--idle-seconds S] [--data FILE] [--small]

#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "daemon_under_test.hpp"
#include "proc_stats.hpp"
#include "rpc_connection.hpp"
#include "stats.hpp"

using namespace tend::bench;

namespace {

// Starts `count` sleeping tasks, all requests in flight at once; a refusal
// (out of descriptors, say) is reported once, and the run goes on with fewer.
void start_sleepers(RpcConnection& rpc, std::size_t count) {
  json params = {{"argv", {"/bin/sleep", "3600"}}, {"timeout_ms", 0}, {"idle_timeout_ms", 0}};
  for (std::size_t i = 0; i < count; ++i) rpc.send("task.run", params);
  std::size_t refused = 0;
  std::string why;
  for (std::size_t i = 0; i < count; ++i) {
    json answer = rpc.receive();
    if (answer.contains("error") && refused++ == 0) why = answer["error"]["message"];
  }
  if (refused) fmt::print("{} of {} task.run refused; the first: {}\n\n", refused, count, why);
}

std::size_t running(RpcConnection& rpc) { return rpc.call("daemon.status", json::object())["tasks"]["running"]; }

// Lets the daemon finish what starting tasks set off (writes, timers) before
// a reading is taken.
void settle(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

}  // namespace

int main(int argc, char** argv) {
  bool small = small_run(argc, argv);
  double idle_s = std::stod(flag(argc, argv, "--idle-seconds", small ? "1" : "10"));
  std::size_t few = small ? 20 : 1000, many = small ? 100 : 5000;
  std::string data_path = flag(argc, argv, "--data", "");
  double settle_s = small ? 0.2 : 1.0;

  DaemonUnderTest daemon;
  RpcConnection rpc(daemon.socket());
  settle(settle_s);
  std::uint64_t rss_0 = rss_bytes(daemon.pid());

  start_sleepers(rpc, few);
  settle(settle_s);
  std::size_t running_few = running(rpc);
  std::uint64_t rss_few = rss_bytes(daemon.pid());

  double cpu_before = cpu_seconds(daemon.pid());
  std::uint64_t switches_before = context_switches(daemon.pid());
  settle(idle_s);
  double cpu_ms = (cpu_seconds(daemon.pid()) - cpu_before) * 1e3;
  std::uint64_t wakeups = context_switches(daemon.pid()) - switches_before;

  start_sleepers(rpc, many - few);
  settle(settle_s);
  std::size_t running_many = running(rpc);
  std::uint64_t rss_many = rss_bytes(daemon.pid());
  std::size_t fds_many = open_descriptors(daemon.pid());

  double tick_ms = 1e3 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::fflush(stdout);
  fmt::print("### daemon_cost: idle with {} sleeping tasks for {:.0f} s\n\n", running_few, idle_s);
  fmt::print("| tasks | seconds | CPU time (ms) | wake-ups | wake-ups/s | goal |\n|---:|---:|---:|---:|---:|---|\n");
  fmt::print("| {} | {:.0f} | {:.0f} (clock tick {:.0f} ms) | {} | {:.1f} | CPU <= 10 ms: {} |\n\n", running_few, idle_s,
             cpu_ms, tick_ms, wakeups, static_cast<double>(wakeups) / idle_s, verdict(cpu_ms <= 10));

  double per_task_few = static_cast<double>(rss_few - rss_0) / static_cast<double>(running_few) / 1024;
  double per_task_many = static_cast<double>(rss_many - rss_0) / static_cast<double>(running_many) / 1024;
  fmt::print("### daemon_cost: memory (VmRSS) by supervised `sleep` tasks\n\n");
  fmt::print("| tasks | running | RSS (MiB) | per task over the empty daemon (KiB) | goal |\n|---:|---:|---:|---:|---|\n");
  fmt::print("| 0 | 0 | {:.1f} | - | |\n", static_cast<double>(rss_0) / 1048576);
  fmt::print("| {} | {} | {:.1f} | {:.1f} | <= 32 KiB: {} |\n", few, running_few, static_cast<double>(rss_few) / 1048576,
             per_task_few, verdict(per_task_few <= 32));
  fmt::print("| {} | {} | {:.1f} | {:.1f} | <= 32 KiB: {} |\n", many, running_many,
             static_cast<double>(rss_many) / 1048576, per_task_many, verdict(per_task_many <= 32));
  if (!data_path.empty()) {
    std::ofstream data(data_path);
    data << "# tasks rss_mib\n";
    data << fmt::format("0 {:.2f}\n{} {:.2f}\n{} {:.2f}\n", static_cast<double>(rss_0) / 1048576, running_few,
                        static_cast<double>(rss_few) / 1048576, running_many, static_cast<double>(rss_many) / 1048576);
  }
  fmt::print("\nWith {} tasks the daemon holds {} descriptors ({:.1f} per task).\n", running_many, fds_many,
             static_cast<double>(fds_many) / static_cast<double>(std::max<std::size_t>(running_many, 1)));
  // A shutdown stops every task; the stops of one turn of the daemon's loop
  // share one reading of /proc (it was one per task: O(N x processes), and
  // 5000 tasks did not stop within 30 s). Bounded here, reported either way.
  auto limit = std::chrono::seconds(small ? 20 : 30);
  if (auto secs = daemon.stop(limit))
    fmt::print("(daemon.shutdown with {} tasks: the daemon exited after {:.2f} s)\n", running_many, *secs);
  else
    fmt::print("(daemon.shutdown with {} tasks: **not finished after {} s**; killed)\n", running_many, limit.count());
  return running_few == few ? 0 : 1;
}
