#include "tend/rpc/daemon.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <exception>

#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include "tend/process/crash_report.hpp"
#include "tend/rpc/paths.hpp"
#include "tend/rpc/server.hpp"
#include "tend/rpc/service.hpp"
#include "tend/store/state_store.hpp"

namespace tend::rpc {
namespace {

// A task on direct output files holds about seven descriptors (its pidfd and,
// per stream, the writer, reader and follower of its log), so the usual soft
// limit of 1024 would stop the daemon near 150 tasks. Take the hard limit.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) spdlog::warn("tend: cannot raise the descriptor limit above {}", before);
}

// A daemon that dies says why in its log (stderr: daemon.log when the CLI
// started it): a fault in one line from the signal handler, an exception
// nobody caught with its message first.
void report_own_death() {
  process::report_fatal_signals(STDERR_FILENO, "tend daemon");
  std::set_terminate([] {
    if (auto e = std::current_exception()) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        spdlog::critical("tend: daemon stopping on an exception nobody caught: {}", ex.what());
      } catch (...) {
        spdlog::critical("tend: daemon stopping on an exception nobody caught");
      }
      spdlog::default_logger()->flush();
    }
    std::abort();
  });
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
  report_own_death();
  raise_descriptor_limit();
  ensure_private_dir(options.state_dir);
  ensure_private_dir(options.state_dir / "logs");
  store::StateStore store(options.state_dir / "tend.db");

  asio::io_context io(1);
  SupervisorOptions so;
  so.log_dir = options.state_dir / "logs";
  // Tasks write their own log files: every byte is on disk even if the
  // daemon is SIGKILLed, and tasks outlive it to be re-adopted.
  so.direct_output_files = true;
  Supervisor sup(io, so);

  bool stopping = false;
  std::unique_ptr<Server> server;
  auto shutdown = [&] {
    if (stopping) return;
    stopping = true;
    spdlog::info("tend: daemon stopping: stopping every task");
    if (server) server->stop();
    asio::co_spawn(io, sup.async_shutdown(), [&](std::exception_ptr) { io.stop(); });
  };
  Service service(sup, &store, options.socket, options.state_dir, shutdown);
  // State changes of one turn of the loop are committed together, at its end
  // or before any answer leaves (Server), whichever comes first.
  store.defer_commits([&] { asio::post(io, [&] { service.make_durable(); }); });
  auto on_event = [&](const Event& e) {
    if (e.kind != Event::Kind::output) service.persist(e.task);
  };
  Subscription persistence = sup.subscribe(on_event, /*with_output=*/false);

  // Everything below touches the Supervisor, so it runs on its executor:
  // take up where the last daemon left off, then open the socket.
  std::exception_ptr startup_error;
  asio::post(io, [&] {
    try {
      for (const auto& [key, value] : store.settings_with_prefix("parallel:")) {
        sup.set_parallel(key.substr(std::string("parallel:").size()), std::stoul(value));
      }
      for (auto& record : store.load()) {
        TaskStatus before = record.status;
        try {
          TaskPtr task = sup.restore(record.spec, record.status);
          const TaskStatus now = task->status();
          if (now.state != before.state || now.reason != before.reason || now.warnings != before.warnings) {
            service.persist(task);
          }
          for (const auto& warning : now.warnings) {
            if (std::find(before.warnings.begin(), before.warnings.end(), warning) == before.warnings.end()) {
              spdlog::warn("tend: task {}: {}", task->id(), warning);
            }
          }
          if (!is_final(before.state)) {
            spdlog::info("tend: task {} was {}; now {} ({})", task->id(), to_string(before.state),
                         to_string(task->state()), task->status().reason);
          }
        } catch (const std::exception& e) {
          spdlog::error("tend: cannot take up task {}: {}", before.id, e.what());
        }
      }
      server = std::make_unique<Server>(io, service, options.socket);
      server->start();
      spdlog::info("tend: daemon {} listening on {} (state in {})", ::getpid(), options.socket.string(),
                   options.state_dir.string());
    } catch (...) {
      startup_error = std::current_exception();
      io.stop();
    }
  });
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) shutdown();
  });
  io.run();
  server.reset();
  if (startup_error) std::rethrow_exception(startup_error);
  return 0;
}

}  // namespace tend::rpc
