#pragma once
// The seed's ProgressMonitor: when did this last make progress, and has it
// been quiet for too long? Thread-safe; the Supervisor keeps one per task and
// records output (or only output lines matching a progress pattern) as
// activity; code can record activity itself.

#include <atomic>
#include <chrono>

#include "tend/core/duration.hpp"

namespace tend {

/// When something last made progress, and whether it has been quiet too long.
/// Every method may be called from any thread.
class ProgressMonitor {
 public:
  /// A steady clock: wall-clock changes do not make a task look stalled.
  using clock = std::chrono::steady_clock;

  /// Starts as if there had been activity now.
  explicit ProgressMonitor(Duration timeout = Duration(std::chrono::seconds(60)))
      : timeout_(timeout.count()), last_(clock::now().time_since_epoch().count()) {}

  /// Something happened: the clock starts again.
  void record_activity() { last_.store(clock::now().time_since_epoch().count(), std::memory_order_relaxed); }
  /// Moves the last activity later by `d` (time spent paused does not count).
  void shift(Duration d) {
    last_.fetch_add(std::chrono::duration_cast<clock::duration>(d).count(), std::memory_order_relaxed);
  }

  /// When activity was last recorded, and how long ago.
  clock::time_point last_activity() const {
    return clock::time_point(clock::duration(last_.load(std::memory_order_relaxed)));
  }
  Duration idle_for() const { return std::chrono::duration_cast<Duration>(clock::now() - last_activity()); }
  /// How long quiet counts as stalled (zero: never); the Supervisor sets it to
  /// the task's idle timeout when its process starts.
  Duration timeout() const { return Duration(timeout_.load(std::memory_order_relaxed)); }
  void set_timeout(Duration d) { timeout_.store(d.count(), std::memory_order_relaxed); }

  /// Quiet for longer than the timeout (a zero timeout never stalls).
  bool is_stalled() const { return timeout().count() > 0 && idle_for() > timeout(); }

 private:
  std::atomic<Duration::rep> timeout_;
  std::atomic<clock::duration::rep> last_;
};

}  // namespace tend
