// Load: thousands of tasks through one daemon, over one connection whose
// requests are all in flight at once (as bench/daemon_cost.cpp sends them).
// Every task's record tells how it really ended, and the daemon keeps
// nothing: no descriptor, no zombie, and its memory comes back.
//
// CI runs the issue's 2000 concurrent tasks and 3000 of its 50 000 in
// total, within its time (about a minute on 2 busy cores); under a sanitizer,
// 500 and 1000, as those stages prove safety, not scale. The soak runs the
// 50 000 whole, about four minutes, outside ctest's per-test limit:
//
//   TEND_SOAK=1 build/tests/tend_tests --gtest_filter='Load.*'
//
// Each test prints its figures, for docs/reliability.md.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "support/test_support.hpp"

namespace tend::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

bool soak() {
  const char* value = std::getenv("TEND_SOAK");
  return value && std::string(value) == "1";
}

// --- What the daemon holds, from /proc ----------------------------------------

struct DaemonReading {
  std::size_t descriptors = 0;
  std::size_t live_children = 0;
  std::size_t zombie_children = 0;
  std::uint64_t rss_kib = 0;
};

std::size_t open_descriptors(pid_t pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    ++count;
  }
  return count;
}

std::uint64_t rss_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

DaemonReading read_daemon(pid_t pid) {
  DaemonReading r;
  r.descriptors = open_descriptors(pid);
  r.rss_kib = rss_kib(pid);
  // Every process whose parent is the daemon: its tasks, and (as subreaper)
  // their orphans; a zombie is one it has not reaped.
  for (const auto& p : process::list_processes()) {
    if (p.ppid != pid) continue;
    (p.state == 'Z' ? r.zombie_children : r.live_children) += 1;
  }
  return r;
}

std::string describe(const DaemonReading& r) {
  return "descriptors " + std::to_string(r.descriptors) + ", live children " + std::to_string(r.live_children) +
         ", zombies " + std::to_string(r.zombie_children) + ", RSS " + std::to_string(r.rss_kib) + " KiB";
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// --- One connection, many requests in flight ----------------------------------

/// Sends one request per params, all before reading any answer, and returns
/// the answers' results in the order of `params` (the daemon may answer out
/// of order). An error answer fails the test, naming the request.
std::vector<json> call_all(RawConnection& rpc, const std::string& method, const std::vector<json>& params) {
  for (std::size_t i = 0; i < params.size(); ++i) {
    json request = {{"jsonrpc", "2.0"}, {"id", i}, {"method", method}, {"params", params[i]}};
    EXPECT_TRUE(rpc.send(request.dump() + "\n")) << method << " #" << i;
  }
  std::vector<json> results(params.size());
  for (std::size_t answered = 0; answered < params.size();) {
    json answer = rpc.receive();
    if (answer.is_null()) {
      ADD_FAILURE() << "the daemon closed the connection after " << answered << " answers to " << method;
      break;
    }
    if (!answer.contains("id")) continue;  // a notification
    auto i = answer["id"].get<std::size_t>();
    if (answer.contains("error")) ADD_FAILURE() << method << " #" << i << ": " << answer["error"].dump();
    results.at(i) = answer.value("result", json());
    ++answered;
  }
  return results;
}

json call(RawConnection& rpc, const std::string& method, const json& params) {
  return call_all(rpc, method, {params}).front();
}

std::vector<json> task_ids(const std::vector<json>& tasks) {
  std::vector<json> ids;
  for (const auto& t : tasks) ids.push_back(t.value("id", json()));
  return ids;
}

/// The daemon of a TendHome, started and measured, with one connection.
class LoadedDaemon {
 public:
  LoadedDaemon() {
    Result started = home_.tend({"daemon", "start"});
    EXPECT_EQ(started.exit_code, 0) << started.err;
    pid_ = home_.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
    rpc_ = std::make_unique<RawConnection>(home_.socket());
    EXPECT_TRUE(rpc_->connected());
  }

  pid_t pid() const { return pid_; }
  RawConnection& rpc() { return *rpc_; }
  /// Its state and socket; the CLI started there starts the next daemon.
  TendHome& home() { return home_; }
  DaemonReading read() const { return read_daemon(pid_); }

  /// Runs `count` short tasks and forgets them: the daemon's lasting
  /// structures (its SQLite cache and WAL, the inotify instance, the
  /// reactor's tables, malloc's arenas) are in place before a baseline.
  void warm_up(std::size_t count) {
    std::vector<json> runs(count, json{{"argv", {"true"}}});
    auto ids = task_ids(call_all(rpc(), "task.run", runs));
    call(rpc(), "task.wait", {{"ids", ids}});
    call(rpc(), "task.clean", json::object());
  }

  /// Waits until the daemon holds no child and no more descriptors than at
  /// `baseline` (closing follows a task's end by moments).
  bool settles_to(const DaemonReading& baseline, std::chrono::milliseconds limit = 20s) const {
    return eventually(
        [&] {
          DaemonReading now = read();
          return now.live_children == 0 && now.zombie_children == 0 && now.descriptors <= baseline.descriptors;
        },
        limit);
  }

 private:
  TendHome home_;
  pid_t pid_ = -1;
  std::unique_ptr<RawConnection> rpc_;
};

// Under a sanitizer the daemon's memory is the sanitizer's: ASan keeps freed
// blocks in a quarantine of up to 256 MiB (RSS 254 MiB -> 542 MiB over 3000
// tasks, nothing leaked), TSan adds shadow memory. Only a plain build says
// what tend itself holds on to.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// RSS may fall below the baseline (pages of the warm-up given back); it may not grow past 10 %
// plus 2 MiB. The allocator's arenas alone move a 15 MiB daemon by 10 % (16124 KiB against a
// limit of 16055 seen in CI); a leak of even 1 KiB per task over these thousands of tasks
// still exceeds the slack several times over.
void expect_rss_within_ten_percent(const DaemonReading& baseline, const DaemonReading& after) {
  if (kSanitized) return;  // the figures are still printed
  EXPECT_LE(after.rss_kib, baseline.rss_kib + baseline.rss_kib / 10 + 2048)
      << "RSS " << baseline.rss_kib << " KiB before, " << after.rss_kib << " KiB after";
}

// --- The tests ------------------------------------------------------------------

struct ConcurrentRound {
  double start_s = 0;
  double stop_s = 0;
  DaemonReading loaded;
};

// Starts `count` sleeping tasks at once, checks they all run, stops them all
// with one task.kill, checks every record, and forgets them.
ConcurrentRound run_concurrently(LoadedDaemon& daemon, std::size_t count, const DaemonReading& baseline) {
  ConcurrentRound round;
  auto started_at = std::chrono::steady_clock::now();
  json sleeper = {{"argv", {"sleep", "3600"}}, {"timeout_ms", 0}, {"idle_timeout_ms", 0}};
  std::vector<json> started = call_all(daemon.rpc(), "task.run", std::vector<json>(count, sleeper));
  round.start_s = seconds_since(started_at);
  for (const auto& t : started) EXPECT_EQ(t.value("state", ""), "running") << t.dump();

  // All of them at the same time: the daemon says so, and /proc agrees.
  json status = call(daemon.rpc(), "daemon.status", json::object());
  EXPECT_EQ(status["tasks"]["running"], count) << status.dump();
  round.loaded = daemon.read();
  EXPECT_EQ(round.loaded.live_children, count) << describe(round.loaded);

  // One request stops them all: TERM, which `sleep` dies of.
  auto stop_at = std::chrono::steady_clock::now();
  json killed = call(daemon.rpc(), "task.kill", {{"ids", task_ids(started)}});
  round.stop_s = seconds_since(stop_at);
  EXPECT_EQ(killed["tasks"].size(), count);
  for (const auto& t : killed["tasks"]) {
    EXPECT_EQ(t["state"], "killed") << t.dump();
    EXPECT_EQ(t["signal"], "SIGTERM") << t.dump();
    EXPECT_TRUE(t["exit_code"].is_null()) << t.dump();
    EXPECT_NE(t["reason"].get<std::string>().find("stopped by request"), std::string::npos) << t.dump();
  }
  // The records say the same when asked again, one by one.
  std::vector<json> by_id;
  for (const auto& id : task_ids(started)) by_id.push_back({{"id", id}});
  for (const auto& t : call_all(daemon.rpc(), "task.status", by_id)) {
    EXPECT_EQ(t["state"], "killed") << t.dump();
    EXPECT_EQ(t["history"].size(), 1u) << t.dump();
  }
  EXPECT_TRUE(daemon.settles_to(baseline))
      << "before: " << describe(baseline) << "; after: " << describe(daemon.read());
  json cleaned = call(daemon.rpc(), "task.clean", json::object());
  EXPECT_EQ(cleaned["removed"].size(), count);
  return round;
}

TEST(Load, TwoThousandConcurrentTasksRunAtOnceEndTruthfullyAndLeaveNothing) {
  constexpr std::size_t kTasks = kSanitized ? 500 : 2000;  // sanitizers prove safety, the plain build scale
  LoadedDaemon daemon;
  daemon.warm_up(200);
  DaemonReading cold = daemon.read();
  // The first round is the warm-up for memory: Asio's reactor keeps one
  // record per descriptor it watched at the same time, for reuse, and those
  // records pin heap pages. They are sized by the peak, not the total, so
  // RSS is measured from after a first peak: it must not grow with a second.
  ConcurrentRound first = run_concurrently(daemon, kTasks, cold);
  DaemonReading baseline = daemon.read();
  ConcurrentRound second = run_concurrently(daemon, kTasks, baseline);
  DaemonReading after = daemon.read();
  EXPECT_EQ(after.zombie_children, 0u);
  EXPECT_EQ(after.live_children, 0u);
  EXPECT_LE(after.descriptors, cold.descriptors) << describe(after);
  expect_rss_within_ten_percent(baseline, after);
  for (const auto* round : {&first, &second}) {
    std::printf("[ figures  ] %zu concurrent: started in %.2f s, all running (%s); task.kill of all: %.2f s\n", kTasks,
                round->start_s, describe(round->loaded).c_str(), round->stop_s);
  }
  std::printf("[ figures  ] cold: %s\n[ figures  ] after the first round: %s\n[ figures  ] after the second: %s\n",
              describe(cold).c_str(), describe(baseline).c_str(), describe(after).c_str());
}

TEST(Load, ShutdownWithTwoThousandRunningTasksEndsEveryOneWithinSeconds) {
  constexpr std::size_t kTasks = kSanitized ? 500 : 2000;  // sanitizers prove safety, the plain build scale
  LoadedDaemon daemon;
  json sleeper = {{"argv", {"sleep", "3600"}}, {"timeout_ms", 0}, {"idle_timeout_ms", 0}};
  std::vector<json> started = call_all(daemon.rpc(), "task.run", std::vector<json>(kTasks, sleeper));
  EXPECT_EQ(call(daemon.rpc(), "daemon.status", json::object())["tasks"]["running"], kTasks);

  // Stopping every task used to read /proc once per task: 5000 tasks did
  // not stop within 30 s. One reading per turn of the loop makes it linear.
  auto stop_at = std::chrono::steady_clock::now();
  call(daemon.rpc(), "daemon.shutdown", json::object());
  const pid_t pid = daemon.pid();
  ASSERT_GT(pid, 1);
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists("/proc/" + std::to_string(pid)); }, 60s));
  double shutdown_s = seconds_since(stop_at);
  // Before: not within 60 s. Here: under 1 s; the bound leaves room for
  // sanitizers and a parallel ctest.
  EXPECT_LT(shutdown_s, 10.0);

  // No sleeper outlived it (a pid seen again must be another process).
  std::size_t left = 0;
  for (const auto& t : started) {
    auto info = process::read_process_info(t["pid"].get<pid_t>());
    left += info && info->state != 'Z' && info->start_time == t["pid_start_time"].get<std::uint64_t>();
  }
  EXPECT_EQ(left, 0u);

  // The next daemon (the CLI starts it) finds every record, each telling how
  // it ended; `tend ls --json` of 2000 tasks is over 1 MiB.
  json listed = daemon.home().tend_json({"ls", "--all", "--json"})["tasks"];
  ASSERT_EQ(listed.size(), kTasks);
  for (const auto& t : listed) {
    EXPECT_EQ(t["state"], "killed") << t.dump();
    EXPECT_EQ(t["signal"], "SIGTERM") << t.dump();
    EXPECT_EQ(t["reason"].get<std::string>().rfind("stopped at shutdown", 0), 0u) << t.dump();
  }
  std::printf("[ figures  ] daemon.shutdown with %zu running tasks: exited after %.2f s, %zu processes left\n",
              kTasks, shutdown_s, left);
}

TEST(Load, ShortTasksByTheThousandEachSucceedWithTheirOutputAndLeaveNothing) {
  const std::size_t total = soak() ? 50000 : kSanitized ? 1000 : 3000;
  constexpr std::size_t kWave = 1000;   // tasks per wave: then the wave's records are checked and forgotten
  constexpr std::size_t kParallel = 64; // the daemon's concurrency limit
  LoadedDaemon daemon;
  call(daemon.rpc(), "queue.parallel", {{"n", kParallel}});
  // A wave's worth first: it fills the caches bounded by their own limits
  // (SQLite's page cache, 2 MiB) that the first thousand records grow into.
  daemon.warm_up(kWave);
  DaemonReading baseline = daemon.read();
  const auto logs = daemon.home().state() / "logs";

  auto started_at = std::chrono::steady_clock::now();
  std::size_t succeeded = 0, output_right = 0;
  for (std::size_t first = 0; first < total; first += kWave) {
    std::vector<json> runs;
    for (std::size_t n = first; n < first + kWave && n < total; ++n) {
      runs.push_back({{"argv", {"/bin/echo", std::to_string(n)}}});
    }
    std::vector<json> queued = call_all(daemon.rpc(), "task.run", runs);
    json waited = call(daemon.rpc(), "task.wait", {{"ids", task_ids(queued)}, {"timeout_ms", 60000}});
    ASSERT_FALSE(waited["timed_out"].get<bool>()) << waited["pending"].size() << " tasks still pending";
    std::map<std::int64_t, json> finished;
    for (const auto& t : waited["finished"]) finished[t["id"].get<std::int64_t>()] = t;
    for (std::size_t i = 0; i < queued.size(); ++i) {
      const json& t = finished[queued[i]["id"].get<std::int64_t>()];
      bool ok = t["state"] == "succeeded" && t["exit_code"] == 0;
      EXPECT_TRUE(ok) << t.dump();
      succeeded += ok;
      std::string id = std::to_string(t["id"].get<std::int64_t>());
      std::string expected = std::to_string(first + i) + "\n";
      bool right = file_text(logs / (id + ".stdout")) == expected;
      EXPECT_TRUE(right) << "task " << id << " wrote " << file_text(logs / (id + ".stdout"));
      output_right += right;
    }
    // And through the API, for the wave's last task.
    json read = call(daemon.rpc(), "task.output", {{"id", queued.back()["id"]}});
    EXPECT_EQ(read["data"], std::to_string(first + queued.size() - 1) + "\n");
    EXPECT_TRUE(read["eof"].get<bool>());
    json cleaned = call(daemon.rpc(), "task.clean", json::object());
    EXPECT_EQ(cleaned["removed"].size(), queued.size());
  }
  double run_s = seconds_since(started_at);
  EXPECT_EQ(succeeded, total);
  EXPECT_EQ(output_right, total);

  EXPECT_TRUE(daemon.settles_to(baseline))
      << "before: " << describe(baseline) << "; after: " << describe(daemon.read());
  DaemonReading after = daemon.read();
  EXPECT_EQ(after.zombie_children, 0u);
  EXPECT_LE(after.descriptors, baseline.descriptors) << describe(after);
  expect_rss_within_ten_percent(baseline, after);
  std::printf("[ figures  ] %zu short tasks (waves of %zu, %zu at a time): %.1f s, %.0f tasks/s; %zu succeeded, "
              "%zu outputs right\n[ figures  ] before: %s\n[ figures  ] after:  %s\n",
              total, kWave, kParallel, run_s, static_cast<double>(total) / run_s, succeeded, output_right,
              describe(baseline).c_str(), describe(after).c_str());
}

}  // namespace
}  // namespace tend::test
