#pragma once
// Waiters: a timer registered against tasks, cancelled by the engine when one
// of them finishes (or, for readiness, becomes ready).

#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>

#include "tend/core/task.hpp"

namespace tend {

namespace asio = boost::asio;

/// Registers a timer as a waiter on tasks; unregisters when destroyed.
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

enum class WakeReason { woken, deadline, cancelled };

asio::steady_timer::time_point deadline_after(std::optional<Duration> timeout);

/// Sleeps until a task in `tasks` finishes (woken), `deadline` passes, or the
/// caller's operation is cancelled. Wake-ups may be spurious: re-check.
asio::awaitable<WakeReason> wait_until(std::unordered_map<TaskId, std::vector<asio::steady_timer*>>& waiters,
                                       const std::vector<TaskPtr>& tasks, asio::steady_timer& timer,
                                       asio::steady_timer::time_point deadline);

}  // namespace tend
