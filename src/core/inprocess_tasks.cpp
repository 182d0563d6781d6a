// In-process tasks (the seed's AgentLoop integration): coroutines and
// callables as tasks, with the same handle, states, waits and stop.
//
// States: returning is `succeeded`; throwing is `failed` with the message;
// ending after a stop request is `cancelled` (`timed_out` when the request
// came from its timeout, or from a wait told to stop).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine.hpp"
#include "inprocess_runtime.hpp"
#include "task_control.hpp"

namespace tend {

void InProcessRuntime::cancel(StopCause cause) {
  if (!stop_cause) stop_cause = cause;
  ctx->stop_.request_stop();
  if (!on_thread) cancel_signal.emit(asio::cancellation_type::terminal);
}

void InProcessRuntime::abandon(Engine&) {
  if (!stop_cause) stop_cause = StopCause::shutdown;
  ctx->stop_.request_stop();
  timeout_timer.cancel();
  if (thread.joinable()) thread.join();
}

void TaskContext::write(std::string_view bytes, Stream stream) {
  const Stream other = stream == Stream::stdout_stream ? Stream::stderr_stream : Stream::stdout_stream;
  task_->order().observe(stream, task_->output(stream).size(), task_->output(other).size());
  task_->output(stream).append(bytes);
  task_->progress().record_activity();
  if (!engine_->has_subscribers()) return;
  if (engine_->on_executor_thread()) {
    engine_->emit(Event{Event::Kind::output, task_, stream, bytes, {}});
  } else {
    asio::post(engine_->executor(), [engine = engine_, task = task_, stream, copy = std::string(bytes)] {
      engine->emit(Event{Event::Kind::output, task, stream, copy, {}});
    });
  }
}

namespace {

// How an in-process task ended, from how its body ended.
std::pair<TaskState, std::string> outcome(const InProcessRuntime& ip, std::exception_ptr error) {
  auto stopped_state = [&] {
    return ip.stop_cause == StopCause::timeout || ip.stop_cause == StopCause::wait_timeout ? TaskState::timed_out
                                                                                           : TaskState::cancelled;
  };
  if (!error) return {TaskState::succeeded, "returned"};
  try {
    std::rethrow_exception(error);
  } catch (const boost::system::system_error& e) {
    if (ip.stop_cause) return {stopped_state(), fmt::format("cancelled ({})", e.code().message())};
    return {TaskState::failed, fmt::format("threw: {}", e.what())};
  } catch (const std::exception& e) {
    if (ip.stop_cause) return {stopped_state(), fmt::format("cancelled; then threw: {}", e.what())};
    return {TaskState::failed, fmt::format("threw: {}", e.what())};
  } catch (...) {
    if (ip.stop_cause) return {stopped_state(), "cancelled"};
    return {TaskState::failed, "threw an exception that is not a std::exception"};
  }
}

}  // namespace

std::shared_ptr<InProcessRuntime> Engine::start_in_process(std::string name, bool on_thread,
                                                           const Supervisor::InProcessOptions& options) {
  const std::optional<Duration>& timeout = options.timeout;
  TaskSpec spec;
  spec.kind = TaskKind::coroutine;
  spec.name = std::move(name);
  spec.owner = options.owner;
  spec.internal = options.internal;
  TaskPtr task = register_task(std::move(spec));
  auto ip = std::make_shared<InProcessRuntime>(executor_, task, std::make_shared<TaskContext>(shared_from_this(), task));
  ip->on_thread = on_thread;
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.emplace(task->id(), task);
  }
  in_process_.emplace(task->id(), ip);
  TaskControl::mark_running(*task, 0);
  if (has_subscribers()) emit(Event{Event::Kind::started, task, Stream::stdout_stream, {}, task->status()});
  if (timeout && timeout->count() > 0) {
    ip->timeout_timer.expires_after(*timeout);
    ip->timeout_timer.async_wait([ip](boost::system::error_code ec) {
      if (!ec) ip->cancel(StopCause::timeout);
    });
  }
  return ip;
}

void Engine::finish_in_process(const std::shared_ptr<InProcessRuntime>& ip, std::exception_ptr error) {
  ip->timeout_timer.cancel();
  if (in_process_.erase(ip->task->id()) == 0) return;  // already settled by close_now()
  auto [state, reason] = outcome(*ip, error);
  complete(ip->task, state, std::nullopt, std::nullopt, std::move(reason));
  wake_idle_waiters();
}

TaskPtr Engine::spawn_coroutine(std::string name, CoroutineBody body, Supervisor::InProcessOptions options) {
  auto ip = start_in_process(std::move(name), false, options);
  auto on_done = [self = shared_from_this(), ip](std::exception_ptr error) { self->finish_in_process(ip, error); };
  ip->body = std::move(body);
  asio::awaitable<void> work = ip->body(*ip->ctx);
  asio::co_spawn(executor_, std::move(work), asio::bind_cancellation_slot(ip->cancel_signal.slot(), std::move(on_done)));
  return ip->task;
}

TaskPtr Engine::spawn_thread(std::string name, ThreadBody body, Supervisor::InProcessOptions options) {
  auto ip = start_in_process(std::move(name), true, options);
  std::weak_ptr<Engine> weak = weak_from_this();
  std::weak_ptr<InProcessRuntime> weak_ip = ip;
  ip->thread = std::thread([body = std::move(body), ctx = ip->ctx, weak, weak_ip, executor = executor_] {
    std::exception_ptr error;
    try {
      body(*ctx);
    } catch (...) {
      error = std::current_exception();
    }
    auto engine = weak.lock();
    if (!engine || engine->closed_) return;  // closing: the closer joins us and settles the task
    asio::post(executor, [engine, weak_ip, error] {
      auto ip = weak_ip.lock();
      if (!ip) return;
      engine->finish_in_process(ip, error);
      if (ip->thread.joinable()) ip->thread.join();
    });
  });
  return ip->task;
}

}  // namespace tend
