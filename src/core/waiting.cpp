// Waiting for tasks: one, any, all; with timeouts that never stop a task
// unless asked.
//
// A waiter is a steady_timer: it expires at the wait's deadline (or never),
// and the engine cancels it when a task it watches finishes. Cancellation by
// the caller (Asio's per-operation cancellation) reaches the same timer, so
// every wait here is cancellable for free.

#include <algorithm>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"

namespace tend {
namespace {

// Registers a timer as a waiter on tasks; unregisters when destroyed.
class WaiterRegistration {
 public:
  WaiterRegistration(std::unordered_map<TaskId, std::vector<asio::steady_timer*>>& waiters,
                     const std::vector<TaskPtr>& tasks, asio::steady_timer* timer)
      : waiters_(waiters), timer_(timer) {
    for (const auto& t : tasks) {
      if (t->finished()) continue;
      waiters_[t->id()].push_back(timer_);
      ids_.push_back(t->id());
    }
  }
  ~WaiterRegistration() {
    for (TaskId id : ids_) {
      auto it = waiters_.find(id);
      if (it == waiters_.end()) continue;
      std::erase(it->second, timer_);
      if (it->second.empty()) waiters_.erase(it);
    }
  }
  WaiterRegistration(const WaiterRegistration&) = delete;
  WaiterRegistration& operator=(const WaiterRegistration&) = delete;

 private:
  std::unordered_map<TaskId, std::vector<asio::steady_timer*>>& waiters_;
  asio::steady_timer* timer_;
  std::vector<TaskId> ids_;
};

asio::steady_timer::time_point deadline_after(std::optional<Duration> timeout) {
  if (!timeout) return asio::steady_timer::time_point::max();
  return asio::steady_timer::clock_type::now() + *timeout;
}

bool any_finished(const std::vector<TaskPtr>& tasks) {
  return std::any_of(tasks.begin(), tasks.end(), [](const TaskPtr& t) { return t->finished(); });
}

bool all_finished(const std::vector<TaskPtr>& tasks) {
  return std::all_of(tasks.begin(), tasks.end(), [](const TaskPtr& t) { return t->finished(); });
}

}  // namespace

asio::awaitable<std::optional<TaskStatus>> Engine::wait(TaskPtr task, std::optional<Duration> timeout,
                                                        OnTimeout on_timeout) {
  auto self = shared_from_this();
  bool expired = false;
  if (!task->finished()) {
    asio::steady_timer timer(executor_, deadline_after(timeout));
    WaiterRegistration registration(waiters_, {task}, &timer);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    expired = !ec;
  }
  if (task->finished()) co_return task->status();
  if (expired && on_timeout == OnTimeout::stop) {
    co_return co_await stop_and_wait(task, std::nullopt, StopCause::wait_timeout);
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<TaskPtr>> Engine::wait_any(std::vector<TaskPtr> tasks, std::optional<Duration> timeout) {
  auto self = shared_from_this();
  if (tasks.empty()) co_return std::nullopt;
  if (!any_finished(tasks)) {
    asio::steady_timer timer(executor_, deadline_after(timeout));
    WaiterRegistration registration(waiters_, tasks, &timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  // The earliest to finish, even if several did before we woke.
  TaskPtr first;
  std::uint64_t first_seq = 0;
  for (const auto& t : tasks) {
    if (!t->finished()) continue;
    std::uint64_t seq = TaskControl::finish_seq(*t);
    if (!first || seq < first_seq) first = t, first_seq = seq;
  }
  if (!first) co_return std::nullopt;
  co_return first;
}

asio::awaitable<std::vector<TaskPtr>> Engine::wait_all(std::vector<TaskPtr> tasks, std::optional<Duration> timeout) {
  auto self = shared_from_this();
  auto deadline = deadline_after(timeout);
  while (!all_finished(tasks)) {
    asio::steady_timer timer(executor_, deadline);
    WaiterRegistration registration(waiters_, tasks, &timer);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (!ec) break;  // the deadline passed
    auto state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none) break;  // the caller gave up
    if (closed_) break;
  }
  std::vector<TaskPtr> done;
  for (const auto& t : tasks) {
    if (t->finished()) done.push_back(t);
  }
  std::sort(done.begin(), done.end(), [](const TaskPtr& a, const TaskPtr& b) {
    return TaskControl::finish_seq(*a) < TaskControl::finish_seq(*b);
  });
  co_return done;
}

}  // namespace tend
