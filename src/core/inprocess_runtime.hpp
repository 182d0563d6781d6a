#pragma once
// An in-process task: a coroutine on the executor or a callable on a thread
// of its own, with the same handle, states and waits as a process.

#include <thread>

#include <boost/asio.hpp>

#include "engine.hpp"

namespace tend {

struct InProcessRuntime {
  InProcessRuntime(const asio::any_io_executor& ex, TaskPtr t, std::shared_ptr<TaskContext> c)
      : task(std::move(t)), ctx(std::move(c)), timeout_timer(ex) {}
  ~InProcessRuntime() {
    if (thread.joinable()) thread.join();
  }

  /// Asks the task to stop: Asio cancellation for a coroutine, a stop request
  /// for a thread.
  void cancel(StopCause cause);
  /// At close: ask it to stop, and wait for a thread to finish.
  void abandon(Engine& engine);

  TaskPtr task;
  std::shared_ptr<TaskContext> ctx;
  /// A coroutine lambda's captures live in its closure: the closure must
  /// outlive the coroutine, so the runtime keeps it.
  CoroutineBody body;
  asio::cancellation_signal cancel_signal;
  asio::steady_timer timeout_timer;
  std::optional<StopCause> stop_cause;
  bool on_thread = false;
  std::thread thread;
};

}  // namespace tend
