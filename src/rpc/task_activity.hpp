#pragma once
// Waiting, inside a method, for a task to do something.

#include <boost/asio.hpp>

#include "tend/core/supervisor.hpp"

namespace tend::rpc {

namespace asio = boost::asio;

// Waits (on the executor) until `task` writes output or ends, or `deadline`.
inline asio::awaitable<void> wait_for_activity(Supervisor& sup, TaskPtr task, asio::steady_timer::time_point deadline) {
  asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
  auto on_event = [&timer, id = task->id()](const Event& e) {
    if (e.task->id() == id && (e.kind == Event::Kind::output || e.kind == Event::Kind::exited ||
                               e.kind == Event::Kind::started)) {
      timer.cancel();
    }
  };
  Subscription sub = sup.subscribe(on_event);
  if (task->finished()) co_return;
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace tend::rpc
