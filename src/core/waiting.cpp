// Waiting for tasks: one, any, all; with timeouts that never stop a task
// unless asked.
//
// A waiter is a steady_timer: it expires at the wait's deadline (or never),
// and the engine cancels it when a task it watches finishes. Cancellation by
// the caller (Asio's per-operation cancellation) reaches the same timer, so
// every wait here is cancellable for free.

#include <algorithm>

#include "engine.hpp"
#include "task_control.hpp"
#include "waiter.hpp"

namespace tend {
namespace {

bool any_finished(const std::vector<TaskPtr>& tasks) {
  return std::any_of(tasks.begin(), tasks.end(), [](const TaskPtr& t) { return t->finished(); });
}

bool all_finished(const std::vector<TaskPtr>& tasks) {
  return std::all_of(tasks.begin(), tasks.end(), [](const TaskPtr& t) { return t->finished(); });
}

}  // namespace

asio::steady_timer::time_point deadline_after(std::optional<Duration> timeout) {
  if (!timeout) return asio::steady_timer::time_point::max();
  return asio::steady_timer::clock_type::now() + *timeout;
}

asio::awaitable<WakeReason> wait_until(std::unordered_map<TaskId, std::vector<asio::steady_timer*>>& waiters,
                                       const std::vector<TaskPtr>& tasks, asio::steady_timer& timer,
                                       asio::steady_timer::time_point deadline) {
  timer.expires_at(deadline);
  WaiterRegistration registration(waiters, tasks, &timer);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!ec) co_return WakeReason::deadline;
  auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) co_return WakeReason::cancelled;
  co_return WakeReason::woken;
}

asio::awaitable<std::optional<TaskStatus>> Engine::wait(TaskPtr task, std::optional<Duration> timeout,
                                                        OnTimeout on_timeout) {
  auto self = shared_from_this();
  auto deadline = deadline_after(timeout);
  asio::steady_timer timer(executor_);
  // Named, not a braced list: g++ 12 cannot keep an initializer_list across co_await.
  const std::vector<TaskPtr> just_task{task};
  WakeReason why = WakeReason::woken;
  while (!task->finished() && why == WakeReason::woken && !closed_) {
    why = co_await wait_until(waiters_, just_task, timer, deadline);
  }
  if (task->finished()) co_return task->status();
  if (why == WakeReason::deadline && on_timeout == OnTimeout::stop) {
    co_return co_await stop_and_wait(task, std::nullopt, StopCause::wait_timeout);
  }
  co_return std::nullopt;
}

asio::awaitable<std::optional<TaskPtr>> Engine::wait_any(std::vector<TaskPtr> tasks, std::optional<Duration> timeout) {
  auto self = shared_from_this();
  if (tasks.empty()) co_return std::nullopt;
  auto deadline = deadline_after(timeout);
  asio::steady_timer timer(executor_);
  WakeReason why = WakeReason::woken;
  while (!any_finished(tasks) && why == WakeReason::woken && !closed_) {
    why = co_await wait_until(waiters_, tasks, timer, deadline);
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
  asio::steady_timer timer(executor_);
  WakeReason why = WakeReason::woken;
  while (!all_finished(tasks) && why == WakeReason::woken && !closed_) {
    why = co_await wait_until(waiters_, tasks, timer, deadline);
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
