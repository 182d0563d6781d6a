#pragma once
// The Supervisor's engine: every task's life, on one executor.
//
// Held by shared_ptr: every pending handler and coroutine holds the engine,
// so a Supervisor destroyed while its io_context still has work queued leaves
// nothing dangling; once closed, late handlers see `closed_` and return.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio.hpp>

#include "tend/core/supervisor.hpp"

namespace tend {

enum class StopCause { request, timeout, wait_timeout, shutdown };

struct ProcessRuntime;

class Engine : public std::enable_shared_from_this<Engine> {
 public:
  Engine(asio::any_io_executor executor, SupervisorOptions options);
  ~Engine();

  /// Takes up process-wide duties (subreaper, SIGCHLD, shutdown signals).
  void start();

  asio::any_io_executor executor() const { return executor_; }
  const SupervisorOptions& options() const { return options_; }
  bool on_executor_thread() const;

  TaskPtr run(TaskSpec spec);
  TaskPtr find(TaskId id) const;
  std::vector<TaskPtr> tasks() const;

  asio::awaitable<std::optional<TaskStatus>> wait(TaskPtr task, std::optional<Duration> timeout, OnTimeout on_timeout);
  asio::awaitable<std::optional<TaskPtr>> wait_any(std::vector<TaskPtr> tasks, std::optional<Duration> timeout);
  asio::awaitable<std::vector<TaskPtr>> wait_all(std::vector<TaskPtr> tasks, std::optional<Duration> timeout);

  void stop(const TaskPtr& task, std::optional<StopLadder> ladder, StopCause cause);
  asio::awaitable<TaskStatus> stop_and_wait(TaskPtr task, std::optional<StopLadder> ladder, StopCause cause);
  bool kill(const TaskPtr& task, int signal);

  Subscription subscribe(EventCallback callback);

  /// Stops everything with the ladders and waits for all of it, cleanup included.
  asio::awaitable<void> shutdown();
  /// Stops everything synchronously, without the event loop; for destructors.
  void close_now();

 private:
  using RuntimePtr = std::shared_ptr<ProcessRuntime>;

  void watch_exit(const RuntimePtr& rt);
  void on_exit(const RuntimePtr& rt);
  void watch_stream(const RuntimePtr& rt, Stream stream);
  void on_readable(const RuntimePtr& rt, Stream stream);
  void on_stream_closed(const RuntimePtr& rt);
  void arm_timeout(const RuntimePtr& rt, Duration timeout);
  void finalize(const RuntimePtr& rt);
  void release_if_done(const RuntimePtr& rt);
  bool leftovers_exist(const RuntimePtr& rt) const;
  std::string marker_for(TaskId id) const;
  std::string scan_marker(const RuntimePtr& rt) const;

  /// Climbs the ladder against the task's process group and every process
  /// that belongs to it, until all are gone.
  asio::awaitable<void> stop_processes(RuntimePtr rt, StopLadder ladder);
  asio::awaitable<void> run_cleanup(RuntimePtr rt, StopLadder ladder);

  void wake_waiters(TaskId id);
  void emit(const Event& event);
  bool has_subscribers() const { return subscriber_count_.load(std::memory_order_relaxed) > 0; }

  asio::any_io_executor executor_;
  SupervisorOptions options_;
  std::string marker_prefix_;
  bool closed_ = false;

  mutable std::mutex tasks_mutex_;
  std::unordered_map<TaskId, TaskPtr> tasks_;
  TaskId next_id_;
  std::uint64_t finish_seq_ = 0;

  // Executor-only state.
  std::unordered_map<TaskId, RuntimePtr> runtimes_;
  std::unordered_map<TaskId, std::vector<asio::steady_timer*>> waiters_;
  std::vector<asio::steady_timer*> idle_waiters_;  ///< woken when no runtime is left
  std::array<char, 64 * 1024> read_buffer_{};

  std::mutex subscribers_mutex_;
  std::vector<std::pair<std::uint64_t, std::shared_ptr<EventCallback>>> subscribers_;
  std::uint64_t next_subscriber_ = 1;
  std::atomic<std::size_t> subscriber_count_{0};

  std::optional<asio::signal_set> child_signals_;
  std::optional<asio::signal_set> stop_signals_;
};

}  // namespace tend
