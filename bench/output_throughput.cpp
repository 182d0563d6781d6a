// output_throughput: bytes from tasks through capture into their log files,
// against the floor of a raw pipe -> file copy (bench/raw_copy.cpp).
//
// One task writing 1 GiB, then 100 tasks writing at once. The writer is
// `head -c N /dev/zero`. tend runs three ways: the library capturing the pipe
// into its log (log_dir), the library with tasks writing their log files
// directly (direct_output_files, what the daemon does), and the daemon.
//
//   build/bench/output_throughput [--mib M] [--repeat R] [--small]

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <tend/core/supervisor.hpp>

#include "daemon_under_test.hpp"
#include "raw_copy.hpp"
#include "rpc_connection.hpp"
#include "stats.hpp"

using namespace tend;
using namespace tend::bench;
namespace fs = std::filesystem;

namespace {

struct Case {
  std::size_t tasks;
  std::uint64_t bytes_each;
};

struct Result {
  double mib_per_s = 0;
  bool complete = false;  // every byte reached the log files
};

fs::path fresh_dir(const fs::path& root, const char* name) {
  fs::path dir = root / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::uint64_t bytes_in(const fs::path& dir) {
  std::uint64_t total = 0;
  for (auto& f : fs::recursive_directory_iterator(dir))
    if (f.is_regular_file()) total += f.file_size();
  return total;
}

std::vector<std::string> writer(std::uint64_t bytes) { return {"/usr/bin/head", "-c", std::to_string(bytes), "/dev/zero"}; }

Result rate(const Case& c, double secs, std::uint64_t copied) {
  std::uint64_t expected = c.tasks * c.bytes_each;
  return {static_cast<double>(expected) / secs / 1048576, copied == expected};
}

Result run_raw(const Case& c, const fs::path& root) {
  fs::path dir = fresh_dir(root, "raw");
  auto start = clock_type::now();
  raw_pipe_to_files(writer(c.bytes_each), c.tasks, dir);
  double secs = seconds_since(start);
  Result r = rate(c, secs, bytes_in(dir));
  fs::remove_all(dir);
  return r;
}

Result run_library(const Case& c, const fs::path& root, bool direct) {
  fs::path dir = fresh_dir(root, "library");
  SupervisorOptions options;
  options.log_dir = dir;
  options.direct_output_files = direct;
  double secs = 0;
  {
    Supervisor sup(options);
    auto start = clock_type::now();
    std::vector<TaskPtr> tasks;
    for (std::size_t i = 0; i < c.tasks; ++i) {
      TaskSpec spec = TaskSpec::exec(writer(c.bytes_each));
      spec.timeout = Duration::zero();
      tasks.push_back(sup.run(std::move(spec)));
    }
    sup.wait_all(tasks);
    secs = seconds_since(start);
  }
  Result r = rate(c, secs, bytes_in(dir));
  fs::remove_all(dir);
  return r;
}

Result run_daemon(const Case& c) {
  DaemonUnderTest daemon;
  RpcConnection rpc(daemon.socket());
  json params = {{"argv", writer(c.bytes_each)}, {"timeout_ms", 0}};
  auto start = clock_type::now();
  for (std::size_t i = 0; i < c.tasks; ++i) rpc.send("task.run", params);
  json ids = json::array();
  for (std::size_t i = 0; i < c.tasks; ++i) ids.push_back(rpc.receive()["result"]["id"]);
  rpc.call("task.wait", {{"ids", ids}});
  double secs = seconds_since(start);
  return rate(c, secs, bytes_in(daemon.state_dir() / "logs"));
}

template <typename F>
Result best_of(int repeat, F f) {
  Result best;
  for (int i = 0; i < repeat; ++i) {
    Result r = f();
    if (r.mib_per_s > best.mib_per_s) best = r;
    best.complete = r.complete && (i == 0 || best.complete);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  bool small = small_run(argc, argv);
  std::uint64_t mib = std::stoull(flag(argc, argv, "--mib", small ? "16" : "1024"));
  int repeat = std::stoi(flag(argc, argv, "--repeat", small ? "1" : "3"));
  std::vector<Case> cases = {{1, mib << 20}, {100, (mib << 20) / 100}};

  std::string root_template = (fs::temp_directory_path() / "tend-output-XXXXXX").string();
  if (!::mkdtemp(root_template.data())) return 1;
  fs::path root = root_template;

  fmt::print("### output_throughput: `head -c N /dev/zero` captured into log files, best of {} (MiB/s)\n\n", repeat);
  fmt::print("| tasks x MiB | raw pipe -> file | library, pipe -> log | library, direct log files | daemon "
             "| pipe -> log / raw | direct / raw | daemon / raw |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
  bool complete = true, met = true;
  for (const Case& c : cases) {
    Result raw = best_of(repeat, [&] { return run_raw(c, root); });
    Result piped = best_of(repeat, [&] { return run_library(c, root, false); });
    Result direct = best_of(repeat, [&] { return run_library(c, root, true); });
    Result daemon = best_of(repeat, [&] { return run_daemon(c); });
    fmt::print("| {} x {:.1f} | {:.0f} | {:.0f} | {:.0f} | {:.0f} | {:.2f}x | {:.2f}x | {:.2f}x |\n", c.tasks,
               static_cast<double>(c.bytes_each) / 1048576, raw.mib_per_s, piped.mib_per_s, direct.mib_per_s,
               daemon.mib_per_s, piped.mib_per_s / raw.mib_per_s, direct.mib_per_s / raw.mib_per_s,
               daemon.mib_per_s / raw.mib_per_s);
    std::fflush(stdout);
    complete = complete && raw.complete && piped.complete && direct.complete && daemon.complete;
    met = met && piped.mib_per_s >= 0.7 * raw.mib_per_s && daemon.mib_per_s >= 0.7 * raw.mib_per_s;
  }
  fmt::print("\ngoal (pipe capture and daemon >= 0.7x raw): {}\n", verdict(met));
  if (!complete) fmt::print(stderr, "some log files are short\n");
  fs::remove_all(root);
  return complete ? 0 : 1;
}
