#pragma once
// The Manager: tickets, and workers that carry them out on their own branch
// and worktree, merged back when ready.
//
// A worker is a task of the Supervisor (a thread task named `worker-<id>`,
// internal: task lists leave it out unless asked), so it is waited on and
// stopped like any other task. Its tasks' owner is "ticket <id>". It makes the ticket's
// workspace (ShadowGit), copies the listed files in, runs the setup command
// (a task with its timeout), then runs the agent: a **command** (any program,
// as a process task in the worktree, with the prompt in $TEND_TICKET_FILE,
// the id in $TEND_TICKET_ID and $TEND_RESULT_FILE to write a summary to,
// under the engine's timeouts and hang detection) or a **coroutine** (a C++
// coroutine task given the ticket and the worktree). When the agent ends, what
// it left uncommitted is committed on its branch and the result records
// success, summary, commit and duration.
//
// Threads: every method may be called from any thread but the Supervisor's
// executor; the waits block. On-complete callbacks run on the worker's
// thread; an exception from one is logged and goes no further.

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tend/agents/shadow_git.hpp"
#include "tend/agents/ticket.hpp"
#include "tend/core/supervisor.hpp"

namespace tend::agents {

/// What a coroutine worker reports.
struct WorkerOutcome {
  /// Whether the ticket's work succeeded (false: the ticket ends `failed`), and
  /// what it did, in words (the ticket result's summary).
  bool success = true;
  std::string summary;
};

/// A coroutine worker's body: the ticket, its worktree, and its task's context
/// (for output and stop requests).
using CoroutineWorker =
    std::function<asio::awaitable<WorkerOutcome>(const Ticket&, const std::filesystem::path& worktree, TaskContext&)>;

/// How a worker carries out its ticket.
struct WorkerSpec {
  /// The agent program and its arguments (run in the worktree), or...
  std::vector<std::string> command;
  /// ...a coroutine.
  CoroutineWorker coroutine;
  std::filesystem::path repo;                 ///< any directory in the repository (default: the Manager's)
  std::string base;                           ///< branch to start from (default: the repository's current one)
  std::vector<std::string> copy_files;        ///< untracked or ignored files to copy in (`.env`)
  std::optional<std::string> setup;           ///< a shell command run in the worktree first
  std::optional<Duration> setup_timeout;      ///< default: the Manager's
  std::optional<Duration> timeout;            ///< the agent's wall-clock limit (default: the Manager's)
  std::optional<Duration> idle_timeout;       ///< silence after which it is stalled and stopped (default: the Manager's)
  /// Variables set for the setup command and the agent.
  std::vector<std::pair<std::string, std::string>> env;
  /// Keep credentials (see secrets.hpp: AWS_*, GITHUB_TOKEN, *_API_KEY, ...)
  /// out of the setup command's and the agent's environment, whether they come
  /// from `env` or from ours; `keep_env` names the ones it may still see.
  bool scrub_secrets = false;
  /// Credential names scrub_secrets leaves in (exact names).
  std::vector<std::string> keep_env;
};

/// How a worker's ticket ended (Manager::get_result, the on-complete callback).
struct WorkerResult {
  /// The ticket; whether the agent succeeded and was not stopped; and the
  /// ticket's final status (completed, failed or cancelled).
  std::string ticket_id;
  bool success = false;
  TicketStatus status = TicketStatus::failed;
  std::string summary;               ///< $TEND_RESULT_FILE, else the agent's output tail, else why it failed
  /// Why it ended so, in a few words: "the agent exited with code 3",
  /// "setup command `make` exited with code 2", "cancelled before it started".
  std::string reason;
  std::string commit;                ///< the branch head when it ended
  /// The ticket's branch (tend/<id>) and worktree; empty when it never had one.
  std::string branch;
  std::filesystem::path worktree;
  /// The worker's run time, from its start to its result (setup and waiting for a slot included).
  Duration duration{0};
  std::optional<TaskId> agent_task;  ///< the agent's own task (its output, its end)
  /// The agent task's final state and exit code; nullopt when it never ran (or for a coroutine's exit code).
  std::optional<TaskState> agent_state;
  std::optional<int> exit_code;
};

/// Called once with the result when a worker ends, on the worker's thread.
using OnComplete = std::function<void(const WorkerResult&)>;

/// How a Manager runs its workers.
struct ManagerOptions {
  /// Where worktrees (`<repo>-<hash>/<ticket>`) and ticket files go.
  std::filesystem::path work_dir;
  /// The repository workers use unless their spec names one.
  std::filesystem::path default_repo;
  /// Workers running at once; more wait (ticket `assigned`). 0: no limit.
  std::size_t max_running = 4;
  /// The limit of each git command, and the setup command's and agent's
  /// defaults (a WorkerSpec may say otherwise).
  Duration git_timeout = std::chrono::seconds(120);
  Duration setup_timeout = std::chrono::minutes(10);
  Duration agent_timeout = std::chrono::hours(1);
  /// A silent agent is stalled and stopped after this. Zero: never.
  Duration agent_idle_timeout = std::chrono::minutes(10);
  /// The first ticket number handed out.
  std::uint64_t first_ticket = 1;
};

/// Ticket counts by status (running: assigned or in progress), and how many
/// merges succeeded and how many stopped at a conflict, since the Manager began.
struct ManagerStats {
  /// All tickets, then by status; then merges done and merges that stopped at a conflict.
  std::size_t tickets = 0;
  std::size_t pending = 0;
  std::size_t running = 0;
  std::size_t completed = 0;
  std::size_t failed = 0;
  std::size_t cancelled = 0;
  std::size_t merged = 0;
  std::size_t conflicts = 0;
};

/// A request about a ticket the Manager cannot honour (no such ticket, it has
/// no workspace yet, it is already running, ...).
class ManagerError : public std::runtime_error {
 public:
  /// No ticket with that id; it is running (or already started); it has no
  /// worker or workspace yet; its spec is refused (check_spec).
  enum class Kind { no_ticket, busy, no_workspace, bad_spec };
  /// `message` names the ticket and says why.
  ManagerError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// Tickets and the workers that carry them out (see the notes at the top of
/// this file); one per daemon, over its Supervisor. Not copyable.
class Manager {
 public:
  /// Workers run as tasks of `supervisor`, which must outlive the Manager.
  Manager(Supervisor& supervisor, ManagerOptions options);
  /// Cancels running workers and waits for them.
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  /// The Supervisor its workers run on, and the options it was made with.
  Supervisor& supervisor() { return sup_; }
  const ManagerOptions& options() const { return options_; }

  // --- Tickets -----------------------------------------------------------------

  /// Makes a `pending` ticket with the next id ("1", "2", ...). Throws
  /// ManagerError(bad_spec) when spec.task is empty.
  Ticket create_ticket(TicketSpec spec);
  /// A copy of the ticket, or nullopt when there is none.
  std::optional<Ticket> ticket(const std::string& id) const;
  /// Every ticket, oldest first.
  std::vector<Ticket> tickets() const;
  /// Pending tickets, most urgent first (then oldest first).
  std::vector<Ticket> pending_tickets() const;

  /// Takes up a ticket recorded by an earlier Manager (a daemon after a
  /// restart), keeping its id: its workspace is found again in `repo` (when
  /// it still exists), so it can be merged, diffed and removed. A ticket that
  /// had not ended ends `failed`: its worker died with the old Manager.
  void restore(Ticket ticket, std::optional<WorkerResult> result, const std::filesystem::path& repo);
  /// The repository of the ticket's workspace (empty before spawn).
  std::filesystem::path repo_of(const std::string& ticket_id) const;

  // --- Workers -----------------------------------------------------------------

  /// Refuses what a worker would otherwise only find out once started: a
  /// spec with neither command nor coroutine, a base that is not a local
  /// branch of the repository (`main~1`, a tag, `origin/main`), a file to
  /// copy that cannot be copied (see ShadowGit::check_copy_files). Throws
  /// ManagerError(bad_spec) saying which, and ShadowGitError (not a repository).
  void check_spec(const WorkerSpec& spec);
  /// Starts a worker on the ticket and returns at once; `on_complete` runs
  /// when it ends. Returns the worker's task. Throws ManagerError (an unknown
  /// or already started ticket, a spec check_spec refuses) and ShadowGitError
  /// (not a repository). Without a base, the workspace starts from the
  /// repository's current branch at this call.
  TaskPtr spawn_async(const std::string& ticket_id, WorkerSpec spec, OnComplete on_complete = {});
  /// Creates a ticket per spec and starts a worker on each.
  std::vector<std::string> spawn_many_async(std::vector<std::pair<TicketSpec, WorkerSpec>> work,
                                            OnComplete on_complete = {});
  /// Starts a worker and waits for its result.
  WorkerResult delegate(const std::string& ticket_id, WorkerSpec spec);
  /// Starts a worker per ticket, waits for all; results in the given order.
  std::vector<WorkerResult> delegate_parallel(std::vector<std::pair<std::string, WorkerSpec>> work);

  /// The ticket's result once its worker ended (nullopt before), whether its
  /// worker is running now, and how many workers are. An unknown ticket throws
  /// ManagerError(no_ticket) (here and in every call that takes a ticket id).
  std::optional<WorkerResult> get_result(const std::string& ticket_id) const;
  bool is_running(const std::string& ticket_id) const;
  std::size_t running_count() const;
  /// The worker's task (null before spawn).
  TaskPtr worker_task(const std::string& ticket_id) const;
  /// The ticket's workspace, once its worker has made it.
  std::optional<Workspace> workspace(const std::string& ticket_id) const;
  /// The files of the ticket's conflicted merge, while one waits for resolve_conflict.
  std::optional<std::vector<std::string>> pending_conflicts(const std::string& ticket_id) const;

  // --- Waiting (a wait's timeout never cancels) ---------------------------------

  /// Blocks until the ticket's worker ends: its result, or nullopt when the
  /// timeout passed first. Throws ManagerError(no_workspace) before spawn.
  std::optional<WorkerResult> wait_for(const std::string& ticket_id, std::optional<Duration> timeout = {});
  /// The first of the tickets to finish (one finished already counts).
  std::optional<std::string> wait_any(const std::vector<std::string>& ticket_ids, std::optional<Duration> timeout = {});
  /// The tickets that finished by the time all did or the timeout passed.
  std::vector<std::string> wait_all(const std::vector<std::string>& ticket_ids, std::optional<Duration> timeout = {});

  /// Stops the worker's agent with its ladder; the ticket ends `cancelled`,
  /// its branch is kept (with what it had done, committed). A pending ticket
  /// is cancelled at once. False when it had already ended.
  bool cancel(const std::string& ticket_id);
  /// Cancels and waits until the worker has ended.
  void cancel_and_wait(const std::string& ticket_id);

  // --- Merging and workspaces -----------------------------------------------------

  /// Merges the ticket's branch into `target` (default: its workspace's
  /// target branch: where it started from, or where it was last merged) by
  /// `strategy`; a conflict is a result, not an exception (see
  /// ShadowGit::merge). Throws ManagerError(busy) while its worker runs.
  MergeResult merge(const std::string& ticket_id, const std::string& target = "",
                    MergeStrategy strategy = MergeStrategy::squash);
  /// Finishes a conflicted merge taking `side` for `files` (default: every conflicted file).
  MergeResult resolve_conflict(const std::string& ticket_id, Side side, const std::vector<std::string>& files = {});
  /// The ticket's changes against its base: the patch, or with `stat` the `git diff --stat` summary.
  std::string diff(const std::string& ticket_id, bool stat) const;
  /// Removes the ticket's worktree and branch (refusing unmerged work unless
  /// forced) and forgets the ticket. Throws ManagerError(busy) while it runs.
  void remove(const std::string& ticket_id, bool force = false);
  /// Removes every safe workspace of `repo` (default: the Manager's) whose
  /// worker is not running.
  GcResult gc(const std::filesystem::path& repo = {});
  /// The ShadowGit of the repository `dir` is in (one per repository).
  ShadowGit& git_for(const std::filesystem::path& dir);

  /// Counts of tickets by status and of merges so far.
  ManagerStats stats() const;

 private:
  struct Entry;
  std::shared_ptr<Entry> entry(const std::string& ticket_id) const;
  void run_worker(const std::shared_ptr<Entry>& e, TaskContext& ctx);
  // run_worker's steps (worker.cpp)
  void take_slot(TaskContext& ctx);
  Workspace open_workspace(const std::shared_ptr<Entry>& e, WorkerResult& result);
  void run_setup(const std::shared_ptr<Entry>& e, const Workspace& ws, TaskContext& ctx);
  TaskPtr start_agent(const std::shared_ptr<Entry>& e, const Workspace& ws, std::optional<WorkerOutcome>& outcome);
  void collect_result(const std::shared_ptr<Entry>& e, const Workspace& ws, const Task& agent,
                      const TaskStatus& status, const std::optional<WorkerOutcome>& outcome, bool stopped,
                      WorkerResult& result);
  void finish(const std::shared_ptr<Entry>& e, WorkerResult result);
  void set_status(const std::shared_ptr<Entry>& e, TicketStatus status);
  Workspace workspace_of(const std::shared_ptr<Entry>& e) const;

  Supervisor& sup_;
  ManagerOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable_any slot_freed_;
  std::size_t running_ = 0;
  std::uint64_t next_ticket_;
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::vector<std::string> order_;
  std::map<std::filesystem::path, std::unique_ptr<ShadowGit>> gits_;
  std::size_t merged_ = 0;
  std::size_t conflicts_ = 0;
};

}  // namespace tend::agents
