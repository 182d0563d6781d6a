// Readiness: a line of output, a port that accepts, a probe that exits 0.
//
// The pattern is matched as output arrives and wakes the wait. A port and a
// probe have no event to wait for, so they are tried with a backoff (20 ms
// doubling to 500 ms), and only while someone waits for readiness.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "engine.hpp"
#include "inprocess_runtime.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"
#include "tend/process/spawn.hpp"
#include "waiter.hpp"

namespace tend {

std::optional<unsigned short> find_free_port() {
  process::UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free one
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return std::nullopt;
  socklen_t len = sizeof addr;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return std::nullopt;
  return ntohs(addr.sin_port);
}

namespace {

asio::awaitable<bool> port_accepts(asio::any_io_executor ex, unsigned short port) {
  asio::ip::tcp::socket socket(ex);
  auto [ec] = co_await socket.async_connect({asio::ip::address_v4::loopback(), port},
                                            asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

// Runs the probe command to completion (at most 10 s); true when it exits 0.
asio::awaitable<bool> probe_succeeds(asio::any_io_executor ex, const std::string& command,
                                     const std::filesystem::path& cwd) {
  process::SpawnOptions so;
  so.shell_command = command;
  so.cwd = cwd;
  process::SpawnedChild child;
  try {
    child = process::spawn(so);
  } catch (const process::SpawnError&) {
    co_return false;
  }
  child.stdout_fd.reset();  // its output is not wanted: let it see EPIPE rather than block
  child.stderr_fd.reset();
  asio::posix::stream_descriptor watch(ex, child.pidfd.fd());
  asio::steady_timer limit(ex, std::chrono::seconds(10));
  limit.async_wait([&](boost::system::error_code ec) {
    if (!ec) child.pidfd.send_signal_to_group(SIGKILL);
  });
  co_await watch.async_wait(asio::posix::descriptor_base::wait_read, asio::as_tuple(asio::use_awaitable));
  limit.cancel();
  watch.release();  // the Pidfd owns the descriptor
  if (!child.pidfd.has_exited()) {
    // The wait was cancelled: the probe must not outlive it.
    child.pidfd.send_signal_to_group(SIGKILL);
    pollfd p{child.pidfd.fd(), POLLIN, 0};
    ::poll(&p, 1, 2000);
  }
  auto status = child.pidfd.try_reap();
  co_return status && status->success();
}

// What a readiness error shows of the output: enough to see why, never a
// screenful of one 2 MB line.
constexpr std::size_t kTailLines = 5;         // per stream
constexpr std::size_t kTailLineBytes = 200;

std::string shortened(const std::string& line) {
  if (line.size() <= kTailLineBytes) return line;
  // The count of bytes left out has at most as many digits as the line's size.
  std::size_t cut = kTailLineBytes - fmt::format(" [... {} more bytes]", line.size()).size();
  while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
  return fmt::format("{} [... {} more bytes]", line.substr(0, cut), line.size() - cut);
}

std::string output_tail(const Task& task) {
  std::string tail;
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    for (const auto& line : task.output(s).tail_lines(kTailLines)) tail += shortened(line) + "\n";
  }
  return tail;
}

// Kept out of the coroutine, and not inlined into it: g++ 12 miscompiles
// some code inside coroutines. Inlined (once output_tail cut long lines),
// at -O2 it made wait_ready crash on its own frame at every readiness
// failure (Readiness.FailsFastWithTheOutputTailWhenTheServerCrashesAtStart).
__attribute__((noinline)) ReadinessError not_ready(const Task& task, ReadinessError::Kind kind, Duration timeout) {
  std::string tail = output_tail(task);
  std::string what = kind == ReadinessError::Kind::exited
                         ? fmt::format("task {} ended before it was ready: {}", task.id(), task.status().reason)
                         : fmt::format("task {} was not ready within {}", task.id(), format_duration(timeout));
  if (!tail.empty()) what += "\n--- last output ---\n" + tail;
  return ReadinessError(kind, what, tail);
}

}  // namespace

asio::awaitable<void> Engine::wait_ready(TaskPtr task, Duration timeout) {
  auto self = shared_from_this();
  const auto deadline = deadline_after(timeout);
  const ReadinessSpec& ready = task->spec().ready;
  Duration backoff{20};
  asio::steady_timer timer(executor_);
  // Named, not a braced list: g++ 12 cannot keep an initializer_list across co_await.
  const std::vector<TaskPtr> just_task{task};
  while (true) {
    if (task->finished()) throw not_ready(*task, ReadinessError::Kind::exited, timeout);
    auto it = runtimes_.find(task->id());
    if (it == runtimes_.end()) {
      if (in_process_.count(task->id())) co_return;  // an in-process task is ready while it runs
      throw not_ready(*task, ReadinessError::Kind::exited, timeout);
    }
    RuntimePtr rt = it->second;
    bool ok = !ready.pattern || rt->ready_pattern_seen;
    if (ok && ready.port) {
      // Port 0 stands for the port the task was handed in $PORT.
      unsigned short port = *ready.port != 0 ? *ready.port : rt->port.value_or(0);
      ok = port != 0 && co_await port_accepts(executor_, port);
    }
    if (ok && ready.probe) ok = co_await probe_succeeds(executor_, *ready.probe, task->spec().cwd);
    if (ok && !task->finished()) {
      if (!rt->ready_reported) {
        rt->ready_reported = true;
        TaskControl::update(*task, [](TaskStatus& st) { st.ready = true; });
        if (has_subscribers()) emit(Event{Event::Kind::ready, task, Stream::stdout_stream, {}, task->status()});
      }
      co_return;
    }
    if (asio::steady_timer::clock_type::now() >= deadline) throw not_ready(*task, ReadinessError::Kind::timed_out, timeout);
    // Sleep until the task ends, the pattern shows up, or it is time to try
    // the port or probe again.
    auto wake_at = deadline;
    if (ready.port || ready.probe) {
      wake_at = std::min(deadline, asio::steady_timer::clock_type::now() + backoff);
      backoff = std::min(Duration(500), backoff * 2);
    }
    rt->ready_waiters.push_back(&timer);
    WakeReason why = co_await wait_until(waiters_, just_task, timer, wake_at);
    std::erase(rt->ready_waiters, &timer);
    if (why == WakeReason::cancelled) co_return;
  }
}

}  // namespace tend
