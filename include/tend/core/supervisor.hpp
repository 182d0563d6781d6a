#pragma once
// The Supervisor: owns tasks and looks after them on one Asio io_context.
//
// Threads. Everything a Supervisor does happens on its executor. Its methods
// may be called from any thread: starting, signalling and polling are safe
// everywhere; the blocking waits (wait, wait_any, wait_all, stop_and_wait,
// shutdown) must not be called on the executor's own thread (they would wait
// for themselves) and throw std::logic_error there; use the async_ forms,
// which are awaitables that honour Asio cancellation, so
// `co_await (sup.async_wait(t) || timer.async_wait(use_awaitable))` just works.
//
// Nothing polls. A task's exit is a pidfd becoming readable, its output a
// pipe becoming readable, its timeout a timer; with nothing happening, the
// io_context sleeps.
//
// With an io_context of your own, call the Supervisor from that context's
// thread, or from another thread while the context runs: a call from another
// thread is carried out on the executor and waits for it.
//
// Cleanup. Destroying the Supervisor stops every task it owns with its stop
// ladder and reaps them. With an io_context of your own, destroy the
// Supervisor on that context's thread or after it stopped running.

#include <functional>
#include <stdexcept>
#include <stop_token>
#include <memory>
#include <optional>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include "tend/core/command_policy.hpp"
#include "tend/core/events.hpp"
#include "tend/core/task.hpp"

namespace tend {

namespace asio = boost::asio;

class Engine;
class TaskContext;

/// The body of an in-process task that runs as a coroutine on the executor.
/// Cancelling the task cancels it at its next co_await.
using CoroutineBody = std::function<asio::awaitable<void>(TaskContext&)>;
/// The body of an in-process task that runs on a thread of its own; it should
/// return soon after `ctx.stop_requested()`.
using ThreadBody = std::function<void(TaskContext&)>;

/// What an in-process task can do to its own task: write output, show
/// progress, see a stop request.
class TaskContext {
 public:
  /// Made by the Supervisor for each in-process task; the body gets it by reference.
  TaskContext(std::shared_ptr<Engine> engine, TaskPtr task) : engine_(std::move(engine)), task_(std::move(task)) {}
  /// The task this body runs as.
  const TaskPtr& task() const { return task_; }
  /// Appends to the task's stdout (or stderr) log; counts as activity.
  void write(std::string_view bytes, Stream stream = Stream::stdout_stream);
  /// Counts as progress for the idle timeout without writing anything.
  void record_activity() { task_->progress().record_activity(); }
  /// Whether the task is being stopped (stop, its timeout, shutdown): a thread
  /// body should then return soon. stop_token() is the same as a std::stop_token.
  bool stop_requested() const { return stop_.stop_requested(); }
  std::stop_token stop_token() const { return stop_.get_token(); }

 private:
  friend class Engine;
  friend struct InProcessRuntime;
  std::shared_ptr<Engine> engine_;
  TaskPtr task_;
  std::stop_source stop_;
};

/// wait_ready() could not see the task become ready.
class ReadinessError : public std::runtime_error {
 public:
  /// Why: the task ended first, or `timeout` passed first. (not_a_process is
  /// never thrown today: an in-process task counts as ready while it runs.)
  enum class Kind { exited, timed_out, not_a_process };
  /// `message` names the task and says why, with the output tail appended.
  ReadinessError(Kind kind, const std::string& message, std::string output_tail)
      : std::runtime_error(message), kind_(kind), tail_(std::move(output_tail)) {}
  Kind kind() const { return kind_; }
  /// The last lines the task wrote (stdout, then stderr).
  const std::string& output_tail() const { return tail_; }

 private:
  Kind kind_;
  std::string tail_;
};

/// A request a task cannot honour (input to a task without stdin, a resize
/// of a task without a terminal, ...).
class TaskError : public std::runtime_error {
 public:
  /// The message names the task and what was refused.
  using std::runtime_error::runtime_error;
};

/// How a Supervisor runs its tasks; every field has a usable default (output in
/// memory only, the standard ladder and command policy, orphans adopted).
struct SupervisorOptions {
  /// Where task output files go (`<id>.stdout`, `<id>.stderr`); empty keeps
  /// output in memory only.
  std::filesystem::path log_dir;
  /// With a log_dir: tasks on pipes write their output straight to their log
  /// files (the Supervisor follows the files with inotify) instead of through
  /// a pipe. Every byte a task wrote is then on disk even if this process is
  /// killed, and the task does not die of SIGPIPE with it. Terminals still
  /// go through their PTY.
  bool direct_output_files = false;
  /// Bytes of each stream kept in memory.
  std::size_t ring_capacity = 1 << 20;
  /// How tasks are stopped unless their spec says otherwise.
  StopLadder stop_ladder = StopLadder::standard();
  /// Default timeouts by kind of command.
  CommandPolicy policy = CommandPolicy::standard();
  /// Become a child subreaper: escapees stay ours and are reaped by us, as is
  /// every exited child we did not spawn. Off (a host with children of its
  /// own), only what we spawned is reaped; escapees are found by their marker.
  bool adopt_orphans = true;
  /// Install SIGINT and SIGTERM handlers that stop every task, then let the
  /// signal take its default course (the host program ends as it would have).
  bool handle_signals = false;
  /// After a task's process exits, how long to wait for the rest of its output
  /// when a leftover descendant holds its pipes open.
  Duration drain_grace{200};
  /// The first task id handed out.
  TaskId first_id = 1;
};

/// What a wait does when its timeout passes first.
enum class OnTimeout {
  keep_running,  ///< the task goes on (a wait never stops a task unless asked)
  stop,          ///< stop the task with its ladder (the seed's wait_with_timeout)
};

/// Owns tasks and looks after them; see the notes at the top of this file for
/// threads and cleanup. Not copyable.
class Supervisor {
 public:
  /// A Supervisor with an io_context and a thread of its own.
  explicit Supervisor(SupervisorOptions options = {});
  /// A Supervisor on your io_context; you run it.
  explicit Supervisor(asio::io_context& io, SupervisorOptions options = {});
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  /// The executor everything runs on (to co_spawn the async_ waits on).
  asio::any_io_executor get_executor() const;
  /// The options it was made with.
  const SupervisorOptions& options() const;

  // --- Starting -----------------------------------------------------------

  /// Starts a task. Throws process::SpawnError when it cannot start (a
  /// missing program, a bad cwd, an unreadable stdin file). It does not wait
  /// for the child's exec: what only the exec finds (a file that is no
  /// program) ends the task `failed`, "could not start: ...", exit code 127.
  TaskPtr run(TaskSpec spec);
  /// Takes up a task recorded by an earlier Supervisor (a daemon after a
  /// restart), keeping its id: a finished task is kept as it was, its output
  /// read from its log files; a running one is re-adopted when its process
  /// still lives (same pid and start time: its output files are followed
  /// again and it can be waited on and stopped; as it is no longer our child,
  /// its exit status cannot be known and it ends `lost` unless stopped by
  /// request), else it ends `lost` at once; a queued one is queued again.
  TaskPtr restore(TaskSpec spec, TaskStatus recorded);

  /// Queues a task: it starts once its dependencies (spec.after) have
  /// succeeded and its group (spec.group) and the global limit have room,
  /// higher spec.priority first, then in order of submission. A dependency
  /// that does not succeed fails it. Throws TaskError for an unknown dependency.
  /// A task that cannot be started (what run() throws as a SpawnError) ends
  /// `failed` with a shell's exit code, 127 (126: not executable), and
  /// TaskStatus::start_failure saying why; when it was started at once, it
  /// has ended by the time submit returns.
  TaskPtr submit(TaskSpec spec);
  /// What holds a submitted task back beyond its dependencies and its group's room.
  struct Hold {
    std::optional<Clock::time_point> start_at;  ///< not started before this time
    bool stashed = false;                       ///< not started until release()d
  };
  /// submit(), held back as `hold` says (TaskStatus::start_at, ::stashed).
  TaskPtr submit(TaskSpec spec, Hold hold);
  /// Releases a queued task from its stash, with `start_at` as its delay from
  /// now on (nullopt: none). Throws TaskError for a task that is not queued.
  void release(const TaskPtr& task, std::optional<Clock::time_point> start_at);
  /// Starts a queued task now: past its group's limit, its delay and its
  /// stash, not past its dependencies (TaskError while it waits for one, or
  /// when it is not queued).
  void start_now(const TaskPtr& task);
  /// How many submitted tasks may run at once, in `group` or ("") in all;
  /// 0 means no limit (the default).
  void set_parallel(const std::string& group, std::size_t limit);
  /// The limit set for `group` ("" for all); 0: none.
  std::size_t parallel(const std::string& group) const;
  /// Replaces a queued task's spec before it starts (tend edit): it keeps its
  /// id and its place by priority and submission order; its kind, group and
  /// dependencies stay as they were. Throws TaskError, naming the task and
  /// its state, once it has started or ended.
  void edit(const TaskPtr& task, TaskSpec spec);

  /// Runs a coroutine as a task: same handle, states, waits and stop as a
  /// process. It ends `succeeded` when it returns, `failed` with the message
  /// when it throws, `cancelled` when stopped (`timed_out` past `timeout`).
  TaskPtr spawn(std::string name, CoroutineBody body, std::optional<Duration> timeout = {});
  /// Runs a callable on a thread of its own as a task; stopping it requests a
  /// stop through its TaskContext.
  TaskPtr spawn_thread(std::string name, ThreadBody body, std::optional<Duration> timeout = {});
  /// The same, with what a process task's spec would also say of it.
  struct InProcessOptions {
    /// Past it the task is cancelled and ends `timed_out`; nullopt: none.
    std::optional<Duration> timeout;
    std::string owner;      ///< as TaskSpec::owner
    bool internal = false;  ///< as TaskSpec::internal
  };
  /// spawn() and spawn_thread() with an owner and the internal flag too.
  TaskPtr spawn(std::string name, CoroutineBody body, InProcessOptions options);
  TaskPtr spawn_thread(std::string name, ThreadBody body, InProcessOptions options);

  // --- Looking ------------------------------------------------------------

  /// The task with this id, or nullptr when there is none (or it was forgotten).
  TaskPtr find(TaskId id) const;
  /// Every task in the table (finished ones too, until forgotten), by id.
  std::vector<TaskPtr> tasks() const;
  /// Drops a finished task from the table (its handle stays valid for its
  /// holders). Throws TaskError while it has not finished.
  void forget(const TaskPtr& task);
  /// forget(), and its log files go too (emptied and kept for the logs of
  /// later tasks, unless some process still has one open). A queued task is
  /// taken out of the queue first (it never ran, so nothing is lost), and the
  /// tasks after it fail: "dependency N was removed".
  void discard(const TaskPtr& task);
  /// The task's status if it has finished, else nullopt. Never blocks.
  std::optional<TaskStatus> poll(const TaskPtr& task) const;

  // --- Waiting (awaitables, on the executor) -------------------------------

  /// The task's final status, or nullopt when `timeout` passed first.
  asio::awaitable<std::optional<TaskStatus>> async_wait(TaskPtr task, std::optional<Duration> timeout = {},
                                                        OnTimeout on_timeout = OnTimeout::keep_running);
  /// The first of `tasks` to finish (an already finished one counts), or
  /// nullopt when `timeout` passed first.
  asio::awaitable<std::optional<TaskPtr>> async_wait_any(std::vector<TaskPtr> tasks,
                                                         std::optional<Duration> timeout = {});
  /// The tasks that finished by the time all did or `timeout` passed, in the
  /// order they finished; the rest keep running.
  asio::awaitable<std::vector<TaskPtr>> async_wait_all(std::vector<TaskPtr> tasks,
                                                       std::optional<Duration> timeout = {});

  // --- Waiting (blocking, for plain code on other threads) -----------------

  /// The blocking forms of the async_ waits above, with the same results; they
  /// throw std::logic_error on the executor's own thread.
  std::optional<TaskStatus> wait(const TaskPtr& task, std::optional<Duration> timeout = {},
                                 OnTimeout on_timeout = OnTimeout::keep_running);
  std::optional<TaskPtr> wait_any(const std::vector<TaskPtr>& tasks, std::optional<Duration> timeout = {});
  std::vector<TaskPtr> wait_all(const std::vector<TaskPtr>& tasks, std::optional<Duration> timeout = {});

  // --- Stopping -------------------------------------------------------------

  /// Starts stopping the task with its ladder (or `ladder`) and returns at
  /// once. The task ends `killed`.
  void stop(const TaskPtr& task, std::optional<StopLadder> ladder = {});
  /// Stops the task and waits until it has ended and been reaped.
  asio::awaitable<TaskStatus> async_stop(TaskPtr task, std::optional<StopLadder> ladder = {});
  TaskStatus stop_and_wait(const TaskPtr& task, std::optional<StopLadder> ladder = {});
  /// Sends one signal to the task's process group (and escaped descendants).
  /// Returns false when the task has no running process. If the signal ends
  /// the task, it ends `killed`.
  bool kill(const TaskPtr& task, int signal);

  /// Stops (SIGSTOP) or continues (SIGCONT) the task's process group. While
  /// paused, its wall and idle clocks do not run. False when not running.
  bool pause(const TaskPtr& task);
  bool resume(const TaskPtr& task);

  // --- Talking to a task ------------------------------------------------------

  /// Writes to the task's terminal or stdin pipe ("\x03" is Ctrl-C on a
  /// terminal). Throws TaskError when it has neither or its input is closed.
  void send(const TaskPtr& task, std::string bytes);
  /// Closes its stdin (a terminal gets end-of-file, Ctrl-D).
  void close_input(const TaskPtr& task);
  /// Sets a terminal's window size. Throws TaskError without a terminal.
  void resize(const TaskPtr& task, unsigned short rows, unsigned short cols);
  /// Counts as progress for hang detection (the seed's record_activity()).
  void record_activity(const TaskPtr& task);

  // --- Readiness --------------------------------------------------------------

  /// Returns once the task's readiness conditions (spec.ready) hold. Throws
  /// ReadinessError, with the output tail, when it exits first or `timeout`
  /// passes; the task is not stopped either way.
  asio::awaitable<void> async_wait_ready(TaskPtr task, Duration timeout);
  void wait_ready(const TaskPtr& task, Duration timeout);

  // --- Events ---------------------------------------------------------------

  /// Every event, in order, on the executor, until the Subscription goes.
  /// Without `with_output`, output events (the bytes) are not delivered: a
  /// Supervisor nobody reads output from live need not read back what tasks
  /// write to their own log files beyond what its memory ring keeps.
  Subscription subscribe(EventCallback callback, bool with_output = true);

  // --- Cleanup ----------------------------------------------------------------

  /// Stops every task with its ladder and waits until all are reaped. Tasks
  /// cannot be started afterwards.
  asio::awaitable<void> async_shutdown();
  void shutdown();

 private:
  template <typename T>
  T block_on(asio::awaitable<T> op) const;

  std::unique_ptr<asio::io_context> own_io_;
  std::shared_ptr<Engine> engine_;
  struct OwnThread;
  std::unique_ptr<OwnThread> thread_;
};

}  // namespace tend
