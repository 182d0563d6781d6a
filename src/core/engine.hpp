#pragma once
// The Supervisor's engine: every task's life, on one executor.
//
// Held by shared_ptr: every pending handler and coroutine holds the engine,
// so a Supervisor destroyed while its io_context still has work queued leaves
// nothing dangling; once closed, late handlers see `closed_` and return.
//
// Files: engine.cpp (starting, looking up, events, finishing), process_tasks.cpp
// (a process's launch, attempts, restarts and end), process_output.cpp (its
// pipes or PTY), direct_files.cpp (its own log files, followed with inotify),
// process_clocks.cpp (timeouts, pause), process_input.cpp (stdin, resize),
// stopping.cpp (the ladder, signals, shutdown, close_now's steps), waiting.cpp,
// readiness.cpp, inprocess_tasks.cpp, queue.cpp.

#include <array>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio.hpp>

#include "spare_log_files.hpp"
#include "tend/core/supervisor.hpp"

namespace tend {
namespace process {
class ProcessSnapshot;
}

enum class StopCause { request, timeout, wait_timeout, stalled, shutdown };

struct ProcessRuntime;
struct ProcessAttempt;
struct InProcessRuntime;

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
  TaskPtr submit(TaskSpec spec);
  TaskPtr restore(TaskSpec spec, TaskStatus recorded);
  TaskPtr submit(TaskSpec spec, Supervisor::Hold hold);
  void release(const TaskPtr& task, std::optional<Clock::time_point> start_at);
  void start_now(const TaskPtr& task);
  void set_parallel(const std::string& group, std::size_t limit);
  std::size_t parallel(const std::string& group) const;
  void edit(const TaskPtr& task, TaskSpec spec);
  TaskPtr spawn_coroutine(std::string name, CoroutineBody body, Supervisor::InProcessOptions options);
  TaskPtr spawn_thread(std::string name, ThreadBody body, Supervisor::InProcessOptions options);
  TaskPtr find(TaskId id) const;
  std::vector<TaskPtr> tasks() const;
  void forget(const TaskPtr& task);
  void discard(const TaskPtr& task);

  asio::awaitable<std::optional<TaskStatus>> wait(TaskPtr task, std::optional<Duration> timeout, OnTimeout on_timeout);
  asio::awaitable<std::optional<TaskPtr>> wait_any(std::vector<TaskPtr> tasks, std::optional<Duration> timeout);
  asio::awaitable<std::vector<TaskPtr>> wait_all(std::vector<TaskPtr> tasks, std::optional<Duration> timeout);
  asio::awaitable<void> wait_ready(TaskPtr task, Duration timeout);

  void stop(const TaskPtr& task, std::optional<StopLadder> ladder, StopCause cause);
  asio::awaitable<TaskStatus> stop_and_wait(TaskPtr task, std::optional<StopLadder> ladder, StopCause cause);
  bool kill(const TaskPtr& task, int signal);
  bool pause(const TaskPtr& task);
  bool resume(const TaskPtr& task);
  void send(const TaskPtr& task, std::string bytes);
  void close_input(const TaskPtr& task);
  void resize(const TaskPtr& task, unsigned short rows, unsigned short cols);
  void record_activity(const TaskPtr& task);

  Subscription subscribe(EventCallback callback, bool with_output = true);
  /// Delivers an event to every subscriber (on the executor).
  void emit(const Event& event);
  bool has_subscribers() const { return subscriber_count_.load(std::memory_order_relaxed) > 0; }
  /// Someone wants output events (the bytes themselves).
  bool has_output_subscribers() const { return output_subscriber_count_.load(std::memory_order_relaxed) > 0; }

  /// Stops everything with the ladders and waits for all of it, cleanup included.
  asio::awaitable<void> shutdown();
  /// Stops everything synchronously, without the event loop; for destructors.
  void close_now();

 private:
  friend class TaskContext;
  using RuntimePtr = std::shared_ptr<ProcessRuntime>;
  using AttemptPtr = std::shared_ptr<ProcessAttempt>;

  // process_tasks.cpp
  /// The limits a process task's spec runs under: what it asked for, else the
  /// command policy's when the spec turns it on, else none.
  TaskLimits limits_for(const TaskSpec& spec) const;
  /// Ends a task whose process could not be started (a missing program, a
  /// bad cwd): `failed`, a shell's 127 (126: not executable), and why.
  void fail_to_start(const TaskPtr& task, const process::SpawnError& error);
  void start_attempt(const RuntimePtr& rt);
  /// How to spawn the task's next attempt; opens the files it writes its
  /// output to, when it writes them itself.
  process::SpawnOptions spawn_options_for(const RuntimePtr& rt);
  /// TEND_TASK_ID, TEND_GROUP and TEND_WORKER_SLOT for the task's processes.
  void add_worker_environment(process::SpawnOptions& so, TaskId id, const std::string& group) const;
  /// Makes the child's pipes or PTY master the attempt's (and its stdin the task's).
  void take_child_streams(const RuntimePtr& rt, ProcessAttempt& at, process::SpawnedChild& child);
  void watch_exit(const RuntimePtr& rt, const AttemptPtr& at);
  void on_exit(const RuntimePtr& rt, const AttemptPtr& at);
  void watch_stream(const RuntimePtr& rt, const AttemptPtr& at, Stream stream);
  void on_readable(const RuntimePtr& rt, const AttemptPtr& at, Stream stream);
  /// `skipped`: bytes the task wrote to its file before `bytes` that were
  /// not read back (already_in_file only).
  void on_output(const RuntimePtr& rt, Stream stream, std::string_view bytes, bool already_in_file = false,
                 std::uint64_t skipped = 0);
  void follow_files(const RuntimePtr& rt);
  /// Reads what the task appended to its files; `bounded` yields to other
  /// work after a while and continues later.
  /// Reads what the task appended to its files; returns the bytes read.
  std::size_t catch_up(const RuntimePtr& rt, bool bounded = false);
  /// Jumps over what the ring could not keep anyway, when nobody needs the bytes.
  std::size_t skip_ahead(const RuntimePtr& rt, Stream stream, int fd);
  void unfollow_files(const RuntimePtr& rt);
  /// A task writing its own log file meets a full disk unseen by us: look at
  /// the file system (each wake-up, and at its exit) and say so in its status.
  void check_disk_space(const RuntimePtr& rt);
  void note_disk_full(const RuntimePtr& rt);
  void watch_inotify();
  void on_stream_closed(const RuntimePtr& rt, const AttemptPtr& at);
  void end_attempt(const RuntimePtr& rt, const AttemptPtr& at);
  bool should_restart(const RuntimePtr& rt, const process::ExitStatus& exit);
  void finalize(const RuntimePtr& rt, const AttemptPtr& at);
  /// Stops the task (as timed out) when `left` has passed, unless paused first.
  void arm_timeout(const RuntimePtr& rt, Duration left);
  void arm_idle(const RuntimePtr& rt);
  void flush_input(const RuntimePtr& rt);
  void release_attempt(const RuntimePtr& rt, const AttemptPtr& at);
  void release_if_done(const RuntimePtr& rt);
  bool leftovers_exist(const RuntimePtr& rt, const AttemptPtr& at) const;

  // stopping.cpp
  asio::awaitable<void> stop_processes(RuntimePtr rt, AttemptPtr at, StopLadder ladder);
  void signal_members(const RuntimePtr& rt, const AttemptPtr& at, int signal);
  /// The process table as read in this turn of the event loop: the first
  /// caller reads /proc, every handler already queued shares that reading,
  /// and a handler posted behind them drops it. So a burst of stops (a
  /// shutdown, a kill of many tasks) reads /proc once, and no one sees a
  /// reading older than the event they react to.
  std::shared_ptr<const process::ProcessSnapshot> process_snapshot();
  /// A fresh reading; with the task markers' environment entries only when
  /// escapees may exist outside every task's process tree.
  std::shared_ptr<process::ProcessSnapshot> take_process_snapshot() const;
  /// The processes of an attempt, as `snapshot` saw them.
  std::vector<pid_t> members_in(const process::ProcessSnapshot& snapshot, const RuntimePtr& rt,
                                const AttemptPtr& at) const;
  // close_now(), step by step
  /// Stops every live task's process tree with the ladder, blocking, and
  /// records the leaders' exit statuses.
  void stop_process_trees_blocking(const std::vector<RuntimePtr>& live);
  /// Closes a stopped task's streams, clocks and input, then ends it.
  void close_runtime_now(const RuntimePtr& rt);
  /// Takes what output is left in the attempt's pipes, then closes them.
  void drain_and_close_attempt(const RuntimePtr& rt, const AttemptPtr& at);
  void end_queued_tasks_at_close();
  void cancel_in_process_tasks_at_close();
  void wake_every_waiter();
  void reap_orphans_at_close();
  void release_io_objects();

  // queue.cpp
  void schedule();
  void on_queued_task_done(const TaskPtr& task);
  void release_dependents(const TaskPtr& task);
  /// The lowest slot number free in `group`, now taken by `id`; and back.
  void take_worker_slot(const std::string& group, TaskId id);
  void free_worker_slot(const std::string& group, TaskId id);
  /// Starts a task taken out of the queue, counting it in its group.
  void start_queued(const TaskPtr& task);

  // queue_hold.cpp: delays and stashes
  /// A task whose dependencies are met: into the ready queue, or, while its
  /// start time is still to come, among the delayed.
  void make_ready(const TaskPtr& task);
  /// Takes a queued task out of the ready queue and the delayed (its
  /// status's start_at names its place there); true when it was in either.
  bool take_out_of_queue(const TaskPtr& task, const TaskStatus& status);
  void arm_delay_timer();
  void on_delay_timer();

  // inprocess_tasks.cpp
  std::shared_ptr<InProcessRuntime> start_in_process(std::string name, bool on_thread,
                                                     const Supervisor::InProcessOptions& options);
  void finish_in_process(const std::shared_ptr<InProcessRuntime>& ip, std::exception_ptr error);

  // engine.cpp
  TaskPtr register_task(TaskSpec spec);
  void launch(const TaskPtr& task);
  OutputLog::Options log_options(TaskId id, Stream stream, const TaskSpec& spec) const;
  void enqueue(const TaskPtr& task);
  void adopt(const TaskPtr& task);
  /// Sets a task's final state and tells waiters and subscribers.
  void complete(const TaskPtr& task, TaskState state, std::optional<int> exit_code, std::optional<int> signal,
                std::string reason);
  void wake_waiters(TaskId id);
  void wake_idle_waiters();
  bool idle() const { return runtimes_.empty() && in_process_.empty(); }
  std::string marker_for(TaskId id) const;

  asio::any_io_executor executor_;
  SupervisorOptions options_;
  std::optional<SpareLogFiles> spare_logs_;  ///< with a log_dir
  std::string marker_prefix_;
  /// Tasks taken up after a restart: their escapees are not our children,
  /// so finding them takes the environment scan.
  bool adopted_any_ = false;
  bool closed_ = false;
  bool closed_queue_ = false;  ///< shutting down: queued tasks stay queued

  mutable std::mutex tasks_mutex_;
  std::unordered_map<TaskId, TaskPtr> tasks_;
  TaskId next_id_;
  std::uint64_t finish_seq_ = 0;

  // Executor-only state.
  std::unordered_map<TaskId, RuntimePtr> runtimes_;
  std::unordered_map<TaskId, std::shared_ptr<InProcessRuntime>> in_process_;
  std::unordered_map<TaskId, std::vector<asio::steady_timer*>> waiters_;
  std::vector<asio::steady_timer*> idle_waiters_;  ///< woken when nothing is left

  // The queue (queue.cpp): tasks whose dependencies are met, best first;
  // tasks still waiting for dependencies; concurrency per group ("" is the
  // global limit; 0 means no limit).
  struct QueueKey {
    int priority;
    TaskId id;
    bool operator<(const QueueKey& o) const { return priority != o.priority ? priority > o.priority : id < o.id; }
  };
  std::set<QueueKey> ready_queue_;
  std::unordered_map<TaskId, std::vector<TaskId>> dependents_;
  std::unordered_map<TaskId, std::size_t> unmet_dependencies_;
  /// Tasks whose dependencies are met and whose start time is to come, soonest
  /// first; one timer, for the soonest.
  std::set<std::pair<Clock::time_point, TaskId>> delayed_;
  std::optional<asio::system_timer> delay_timer_;
  std::optional<Clock::time_point> delay_timer_at_;  ///< what it is armed for
  // Tasks whose end is still to be passed on to their dependents (a failure
  // fails them, which ends more): a worklist, not recursion, so a chain of
  // 100 000 dependent tasks cannot overflow the stack.
  std::deque<TaskPtr> ends_to_pass_on_;
  bool passing_on_ends_ = false;
  struct GroupState {
    std::size_t limit = 0;
    std::size_t running = 0;
    /// TEND_WORKER_SLOT: which slot numbers its running tasks hold.
    std::vector<bool> slot_taken;
  };
  std::unordered_map<std::string, GroupState> groups_;
  std::unordered_set<TaskId> queue_running_;  ///< submitted tasks that were started
  std::unordered_map<TaskId, std::size_t> worker_slots_;  ///< of the tasks in queue_running_
  /// Queued tasks discarded: their dependents fail as "removed", not "did not succeed".
  std::unordered_set<TaskId> removed_from_queue_;
  std::array<char, 64 * 1024> read_buffer_{};

  std::mutex subscribers_mutex_;
  struct Subscriber {
    std::uint64_t id;
    std::shared_ptr<EventCallback> callback;
    bool with_output;
  };
  std::vector<Subscriber> subscribers_;
  std::uint64_t next_subscriber_ = 1;
  std::atomic<std::size_t> subscriber_count_{0};
  std::atomic<std::size_t> output_subscriber_count_{0};
  void count_subscribers_locked();

  std::optional<asio::posix::stream_descriptor> inotify_;
  std::optional<asio::steady_timer> inotify_pause_;  ///< lets a fast writer's changes pile up
  std::unordered_map<int, std::weak_ptr<ProcessRuntime>> followed_;  ///< inotify watch -> task
  alignas(8) std::array<char, 4096> inotify_buffer_{};

  std::optional<asio::signal_set> child_signals_;
  std::optional<asio::steady_timer> orphan_scan_timer_;  ///< reset in close_now(): no I/O object outlives it
  /// The last orphan scan saw live children we did not spawn (escapees).
  bool unknown_children_seen_ = false;
  void scan_orphans();
  std::optional<asio::signal_set> stop_signals_;
  std::shared_ptr<const process::ProcessSnapshot> snapshot_;  ///< this turn's; see process_snapshot()
};

}  // namespace tend
