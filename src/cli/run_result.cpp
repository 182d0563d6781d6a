#include "run_result.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "format.hpp"
#include "output_printer.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend::cli {
namespace {

// Exit code of `tend run --wait`, as timeout(1) has it.
int exit_code_of(const json& task) {
  const std::string state = task["state"];
  if (state == "timed_out" || state == "stalled") return kTimedOut;
  if (!task["signal_number"].is_null()) return 128 + task["signal_number"].get<int>();
  if (!task["exit_code"].is_null()) return task["exit_code"].get<int>();
  return state == "succeeded" ? 0 : 1;
}

// A shell's status for a command it could not run: 127, or 126 for a
// program that is not executable (the task's exit code says which).
int start_failure_code(const json& task) {
  const json code = task.value("exit_code", json());
  return code.is_number_integer() ? code.get<int>() : 127;
}

void write_stderr(std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(2, text.data(), text.size());
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Ctrl-C while `tend run --wait` follows a task: the task is not in our
// process group (it runs in the daemon's), so the terminal's SIGINT reaches
// only us. As a shell with a foreground job, we pass the first on to the
// task and wait on; a second means "let me go", and we detach.
//
// SIGINT is blocked and taken by a thread of its own (sigtimedwait), not a
// handler: passing it on is an RPC call, which a handler must not make. It is
// blocked before the thread starts, so no thread of ours runs its default.
class InterruptForwarder {
 public:
  explicit InterruptForwarder(std::uint64_t id) : id_(id) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &set, &old_mask_);
    thread_ = std::thread([this] { run(); });
  }
  InterruptForwarder(const InterruptForwarder&) = delete;
  InterruptForwarder& operator=(const InterruptForwarder&) = delete;
  ~InterruptForwarder() {
    stop_ = true;
    thread_.join();
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }

 private:
  void run() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    const timespec slice{0, 100'000'000};  // how soon the thread sees stop_
    int interrupts = 0;
    while (!stop_) {
      siginfo_t info;
      if (::sigtimedwait(&set, &info, &slice) != SIGINT) continue;
      if (++interrupts == 1) {
        forward();
      } else {
        detach();
      }
    }
  }

  void forward() {
    try {
      // A connection of its own: the main thread's is in the middle of a call.
      Client client = Client::connect(false);
      client.call("task.kill", {{"ids", json::array({id_})}, {"signal", "INT"}});
      write_stderr(fmt::format("tend: sent SIGINT to task {}; Ctrl-C again to stop waiting (it goes on)\n", id_));
    } catch (const std::exception& e) {
      write_stderr(fmt::format("tend: could not pass SIGINT on to task {}: {}\n", id_, e.what()));
    }
  }

  [[noreturn]] void detach() {
    write_stderr(fmt::format("\ntend: stopped waiting; task {} goes on. Stop it with: tend kill {}\n", id_, id_));
    ::_exit(130);  // as a shell's job interrupted by SIGINT; what we printed went straight to the descriptors
  }

  std::uint64_t id_;
  sigset_t old_mask_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

const char* run_limits_footer() {
  return "Limits: a task started here runs until it ends: no wall-clock or idle limit unless --timeout or\n"
         "--idle-timeout is given (MCP's shell_run instead applies the command policy: 2m for a quick command,\n"
         "none for a known server). Each output stream keeps at most 1G (--log-limit). `tend status` shows the\n"
         "limits in effect and where they came from.\n"
         "Exit status: 127 when the program cannot be found or started (126: not executable), at once; with\n"
         "--wait, the task's own (124 on timeout, 128+N on signal N). Ctrl-C during --wait passes SIGINT on to\n"
         "the task; a second Ctrl-C stops waiting and leaves it running.";
}

int report_started(const json& task, const Options& o) {
  const auto id = task["id"].get<std::uint64_t>();
  const json failure = task.value("start_failure", json());
  if (o.json) {
    std::cout << task.dump(2) << "\n";
  } else if (!task.value("port", json()).is_null()) {
    const bool readiness = !o.ready_pattern.empty() || o.ready_port;
    std::cout << fmt::format("{} {}port {}\n", id, readiness ? "ready on " : "", task["port"].get<int>());
  } else {
    std::cout << id << "\n";
  }
  if (!failure.is_string()) return 0;
  // The task exists (ls shows it, failed), but nothing of it ran: say so now,
  // not only to whoever looks later.
  std::cout.flush();
  if (!o.json) std::cerr << fmt::format("tend: task {} could not start: {}\n", id, shown(failure));
  return start_failure_code(task);
}

int wait_in_foreground(Client& client, const json& task, const Options& o) {
  json end;
  {
    InterruptForwarder interrupts(task["id"].get<std::uint64_t>());
    end = follow_output(client, task["id"], {});
  }
  if (o.json) std::cout << end.dump(2) << "\n";
  const std::string state = end["state"];
  const std::string reason = end.value("reason", "");
  if (!o.json) {
    // What its own output cannot say: that it never ran, or that tend stopped it.
    const bool never_ran = state == "failed" && reason.rfind("could not start", 0) == 0;
    if (never_ran || state == "timed_out" || state == "stalled") {
      std::cerr << fmt::format("tend: task {} {}\n", end["id"].get<std::uint64_t>(), escape_controls(reason));
    }
  }
  if (end.value("start_failure", json()).is_string()) return start_failure_code(end);
  return exit_code_of(end);
}

}  // namespace tend::cli
