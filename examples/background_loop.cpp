// Running a loop in the background (the seed's AgentLoop integration): a C++
// coroutine is a task like any other; the caller does other work, checks
// whether it is done, and cancels it when it is no longer needed.
#include <fmt/format.h>

#include <boost/asio.hpp>
#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;
namespace asio = boost::asio;

// An "analysis loop": one file per tick, forever unless cancelled.
asio::awaitable<void> analysis_loop(TaskContext& ctx) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int file = 1;; ++file) {
    timer.expires_after(100ms);
    co_await timer.async_wait(asio::use_awaitable);  // cancellation lands here
    ctx.write(fmt::format("analysed file {}\n", file));
  }
}

int main() {
  Supervisor sup;
  auto quick = sup.spawn("quick analysis", [](TaskContext& ctx) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 150ms);
    co_await timer.async_wait(asio::use_awaitable);
    ctx.write("3 findings\n");
  });
  auto endless = sup.spawn("analysis loop", analysis_loop);

  sup.wait(quick, 5s);  // stands for main work
  if (auto done = sup.poll(quick)) fmt::print("quick analysis done: {}", quick->output().read(0).data);
  if (!sup.poll(endless)) {
    auto status = sup.stop_and_wait(endless);  // "task.cancel()": not needed any more
    fmt::print("the loop was cancelled at its next await: {} after {} lines of output\n", to_string(status.state),
               endless->output().read_lines(0).lines.size());
  }
  // One wait serves processes and coroutines alike.
  auto proc = sup.run(TaskSpec::exec({"sleep", "5"}));
  auto co = sup.spawn("short", [](TaskContext&) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
    co_await timer.async_wait(asio::use_awaitable);
  });
  auto first = sup.wait_any({proc, co}, 10s);
  fmt::print("wait_any over a process and a coroutine: {} finished first\n", (*first)->spec().name);
  return endless->state() == TaskState::cancelled && *first == co ? 0 : 1;
}
