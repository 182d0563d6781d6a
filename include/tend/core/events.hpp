#pragma once
// What happens to tasks, as it happens. Subscribers are called on the
// Supervisor's executor, in order; one that throws is logged and skipped, and
// never breaks the engine or the other subscribers.

#include <functional>
#include <memory>
#include <string_view>

#include "tend/core/task.hpp"

namespace tend {

/// One thing that happened to a task, given to Supervisor::subscribe's callbacks.
struct Event {
  /// What happened.
  enum class Kind {
    started,  ///< the task's process is running
    output,   ///< bytes arrived on `stream` (in `data`, valid during the call)
    exited,   ///< the task ended; `status` says how and why
    stalled,  ///< no progress for its idle timeout (`status.reason` says how long)
    restarting,  ///< an attempt ended and another will start (`status.reason` says when)
    ready,    ///< its readiness conditions hold
    paused,   ///< stopped (SIGSTOP) by Supervisor::pause
    resumed,  ///< continued by Supervisor::resume
  };
  /// What happened, to which task; for `output`, the stream and the bytes
  /// (a view valid only during the callback: copy what you keep).
  Kind kind;
  TaskPtr task;
  Stream stream = Stream::stdout_stream;
  std::string_view data;
  TaskStatus status;  ///< the task's status then (every kind but output)
};

/// The kind's name, as in the `kind` of the daemon's event notifications ("started", "output").
std::string_view to_string(Event::Kind kind);

/// Called on the Supervisor's executor for each event; must not block.
using EventCallback = std::function<void(const Event&)>;

/// Keeps a subscription alive; destroying (or reset()) unsubscribes.
class Subscription {
 public:
  /// Subscribed to nothing; `cancel` runs once, at reset() or destruction.
  /// Movable, not copyable.
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
  /// Unsubscribes now (nothing when already done).
  void reset() {
    if (cancel_) std::exchange(cancel_, nullptr)();
  }

 private:
  std::function<void()> cancel_;
};

}  // namespace tend
