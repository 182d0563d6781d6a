#pragma once
// What happens to tasks, as it happens. Subscribers are called on the
// Supervisor's executor, in order; one that throws is logged and skipped, and
// never breaks the engine or the other subscribers.

#include <functional>
#include <memory>
#include <string_view>

#include "tend/core/task.hpp"

namespace tend {

struct Event {
  enum class Kind {
    started,  ///< the task's process is running
    output,   ///< bytes arrived on `stream` (in `data`, valid during the call)
    exited,   ///< the task ended; `status` says how and why
    stalled,  ///< no progress for its idle timeout (`status.reason` says how long)
    restarting,  ///< an attempt ended and another will start (`status.reason` says when)
    ready,    ///< its readiness conditions hold
    paused,
    resumed,
  };
  Kind kind;
  TaskPtr task;
  Stream stream = Stream::stdout_stream;
  std::string_view data;
  TaskStatus status;  ///< for started and exited
};

std::string_view to_string(Event::Kind kind);

using EventCallback = std::function<void(const Event&)>;

/// Keeps a subscription alive; destroying (or reset()) unsubscribes.
class Subscription {
 public:
  Subscription() = default;
  explicit Subscription(std::function<void()> cancel) : cancel_(std::move(cancel)) {}
  Subscription(Subscription&& other) noexcept : cancel_(std::exchange(other.cancel_, nullptr)) {}
  Subscription& operator=(Subscription&& other) noexcept {
    if (this != &other) {
      reset();
      cancel_ = std::exchange(other.cancel_, nullptr);
    }
    return *this;
  }
  ~Subscription() { reset(); }
  void reset() {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

}  // namespace tend
