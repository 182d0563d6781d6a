// An async subprocess: a C++20 coroutine on the Supervisor's executor awaits
// tasks without blocking anything.
#include <fmt/format.h>

#include <boost/asio.hpp>
#include <tend/core/supervisor.hpp>

using namespace tend;
namespace asio = boost::asio;

int main() {
  asio::io_context io;
  Supervisor sup(io);
  int code = 1;
  auto main_coroutine = [&]() -> asio::awaitable<void> {
    auto a = sup.run(TaskSpec::exec({"uname", "-s"}));
    auto b = sup.run(TaskSpec::shell("echo $((6 * 7))"));
    auto sa = co_await sup.async_wait(a);
    auto sb = co_await sup.async_wait(b);
    fmt::print("uname said {}", a->output().read(0).data);
    fmt::print("the shell said {}", b->output().read(0).data);
    code = sa->state == TaskState::succeeded && sb->state == TaskState::succeeded ? 0 : 1;
    co_await sup.async_shutdown();
  };
  asio::co_spawn(io, main_coroutine(), asio::detached);
  io.run();
  return code;
}
