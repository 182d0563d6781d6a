#include "tend/agents/manager.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "manager_entry.hpp"

namespace tend::agents {

namespace fs = std::filesystem;

Manager::Manager(Supervisor& supervisor, ManagerOptions options)
    : sup_(supervisor), options_(std::move(options)), next_ticket_(options_.first_ticket) {
  if (options_.work_dir.empty()) throw std::invalid_argument("ManagerOptions::work_dir must name a directory");
}

Manager::~Manager() {
  std::vector<TaskPtr> workers;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, e] : entries_) {
      if (e->worker && !e->worker->finished()) workers.push_back(e->worker);
    }
  }
  for (const TaskPtr& worker : workers) sup_.stop(worker);
  for (const TaskPtr& worker : workers) sup_.wait(worker);
}

// --- Tickets ---------------------------------------------------------------

Ticket Manager::create_ticket(TicketSpec spec) {
  if (spec.task.empty()) throw ManagerError(ManagerError::Kind::bad_spec, "a ticket needs a task");
  auto e = std::make_shared<Entry>();
  std::lock_guard lock(mutex_);
  e->ticket.id = std::to_string(next_ticket_++);
  e->ticket.spec = std::move(spec);
  e->ticket.created_at = e->ticket.updated_at = WallClock::now();
  entries_[e->ticket.id] = e;
  order_.push_back(e->ticket.id);
  return e->ticket;
}

std::shared_ptr<Manager::Entry> Manager::entry(const std::string& ticket_id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(ticket_id);
  if (it == entries_.end()) throw ManagerError(ManagerError::Kind::no_ticket, fmt::format("no ticket {}", ticket_id));
  return it->second;
}

std::optional<Ticket> Manager::ticket(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second->ticket;
}

std::vector<Ticket> Manager::tickets() const {
  std::lock_guard lock(mutex_);
  std::vector<Ticket> out;
  for (const auto& id : order_) out.push_back(entries_.at(id)->ticket);
  return out;
}

std::vector<Ticket> Manager::pending_tickets() const {
  std::vector<Ticket> out = tickets();
  std::erase_if(out, [](const Ticket& t) { return t.status != TicketStatus::pending; });
  std::stable_sort(out.begin(), out.end(),
                   [](const Ticket& a, const Ticket& b) { return a.spec.priority > b.spec.priority; });
  return out;
}

void Manager::restore(Ticket ticket, std::optional<WorkerResult> result, const fs::path& repo) {
  auto e = std::make_shared<Entry>();
  if (!repo.empty()) {
    try {
      e->git = &git_for(repo);
      e->workspace = e->git->find(ticket.id);
    } catch (const std::exception&) {
      e->git = nullptr;  // the repository is gone: the record stays, without a workspace
    }
  }
  if (!is_final(ticket.status)) {
    WorkerResult lost = result.value_or(WorkerResult{});
    lost.ticket_id = ticket.id;
    lost.success = false;
    lost.status = TicketStatus::failed;
    lost.summary = fmt::format("the worker was lost when its Manager (the daemon) stopped while the ticket was {}",
                               ticket_status_name(ticket.status));
    lost.reason = "the worker was lost: the daemon stopped while it ran";
    if (e->workspace) {
      lost.branch = e->workspace->branch;
      lost.worktree = e->workspace->path;
      lost.commit = e->git->head(*e->workspace);
    }
    result = lost;
    ticket.status = TicketStatus::failed;
    ticket.ended_at = ticket.updated_at = WallClock::now();
  }
  e->ticket = std::move(ticket);
  e->result = std::move(result);
  std::lock_guard lock(mutex_);
  const std::string id = e->ticket.id;
  if (id.find_first_not_of("0123456789") == std::string::npos && !id.empty()) {
    next_ticket_ = std::max<std::uint64_t>(next_ticket_, std::stoull(id) + 1);
  }
  if (!entries_.contains(id)) order_.push_back(id);
  entries_[id] = e;
}

fs::path Manager::repo_of(const std::string& ticket_id) const {
  auto e = entry(ticket_id);
  std::lock_guard lock(mutex_);
  return e->git ? e->git->repo() : fs::path();
}

void Manager::set_status(const std::shared_ptr<Entry>& e, TicketStatus status) {
  std::lock_guard lock(mutex_);
  e->ticket.status = status;
  e->ticket.updated_at = WallClock::now();
  if (status == TicketStatus::in_progress) e->ticket.started_at = e->ticket.updated_at;
}

// --- Workers ---------------------------------------------------------------

ShadowGit& Manager::git_for(const fs::path& dir) {
  fs::path where = dir.empty() ? options_.default_repo : dir;
  if (where.empty()) throw ManagerError(ManagerError::Kind::bad_spec, "no repository given (and no default)");
  // One per repository, keyed by its top directory.
  fs::path top = ShadowGit::repository_of(where, options_.git_timeout);
  std::lock_guard lock(mutex_);
  auto it = gits_.find(top);
  if (it != gits_.end()) return *it->second;
  std::string key = fmt::format("{}-{:08x}", top.filename().string(),
                                static_cast<std::uint32_t>(std::hash<std::string>{}(top.string())));
  auto git = std::make_unique<ShadowGit>(top, options_.work_dir / "worktrees" / key, options_.git_timeout);
  return *gits_.emplace(top, std::move(git)).first->second;
}

void Manager::check_spec(const WorkerSpec& spec) {
  if (spec.command.empty() == !spec.coroutine) {
    throw ManagerError(ManagerError::Kind::bad_spec, "a worker needs exactly one of a command or a coroutine");
  }
  ShadowGit& git = git_for(spec.repo);
  try {
    if (spec.base.empty()) {
      git.current_branch();  // a detached HEAD names no branch to start from
    } else {
      git.require_branch(spec.base);
    }
  } catch (const ShadowGitError& e) {
    if (e.kind() != ShadowGitError::Kind::unknown_branch) throw;
    throw ManagerError(ManagerError::Kind::bad_spec, fmt::format("{}{}", spec.base.empty() ? "" : "base ", e.what()));
  }
  try {
    git.check_copy_files(spec.copy_files);
  } catch (const std::invalid_argument& e) {
    throw ManagerError(ManagerError::Kind::bad_spec, e.what());
  }
}

TaskPtr Manager::spawn_async(const std::string& ticket_id, WorkerSpec spec, OnComplete on_complete) {
  auto e = entry(ticket_id);
  check_spec(spec);
  ShadowGit& git = git_for(spec.repo);
  if (spec.base.empty()) spec.base = git.current_branch();
  {
    std::lock_guard lock(mutex_);
    if (e->worker || e->ticket.status != TicketStatus::pending) {
      throw ManagerError(ManagerError::Kind::busy,
                         fmt::format("ticket {} is {}: a ticket gets one worker", ticket_id,
                                     ticket_status_name(e->ticket.status)));
    }
    e->spec = std::move(spec);
    e->on_complete = std::move(on_complete);
    e->git = &git;
    e->ticket.status = TicketStatus::assigned;
    e->ticket.updated_at = WallClock::now();
  }
  auto body = [this, e](TaskContext& ctx) { run_worker(e, ctx); };
  Supervisor::InProcessOptions listed{.timeout = {}, .owner = "ticket " + ticket_id, .internal = true};
  TaskPtr worker = sup_.spawn_thread("worker-" + ticket_id, body, std::move(listed));
  std::lock_guard lock(mutex_);
  e->worker = worker;
  return worker;
}

std::vector<std::string> Manager::spawn_many_async(std::vector<std::pair<TicketSpec, WorkerSpec>> work,
                                                   OnComplete on_complete) {
  std::vector<std::string> ids;
  for (auto& [ticket, spec] : work) {
    std::string id = create_ticket(std::move(ticket)).id;
    spawn_async(id, std::move(spec), on_complete);
    ids.push_back(id);
  }
  return ids;
}

WorkerResult Manager::delegate(const std::string& ticket_id, WorkerSpec spec) {
  spawn_async(ticket_id, std::move(spec));
  return *wait_for(ticket_id);
}

std::vector<WorkerResult> Manager::delegate_parallel(std::vector<std::pair<std::string, WorkerSpec>> work) {
  for (auto& [id, spec] : work) spawn_async(id, std::move(spec));
  std::vector<WorkerResult> results;
  for (auto& [id, spec] : work) results.push_back(*wait_for(id));
  return results;
}

std::optional<WorkerResult> Manager::get_result(const std::string& ticket_id) const {
  auto e = entry(ticket_id);
  std::lock_guard lock(mutex_);
  return e->result;
}

bool Manager::is_running(const std::string& ticket_id) const {
  auto e = entry(ticket_id);
  std::lock_guard lock(mutex_);
  return e->worker && !e->result;
}

std::size_t Manager::running_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(entries_.begin(), entries_.end(), [](const auto& kv) {
    return kv.second->worker && !kv.second->result;
  }));
}

TaskPtr Manager::worker_task(const std::string& ticket_id) const {
  auto e = entry(ticket_id);
  std::lock_guard lock(mutex_);
  return e->worker;
}

std::optional<Workspace> Manager::workspace(const std::string& ticket_id) const {
  auto e = entry(ticket_id);
  std::lock_guard lock(mutex_);
  return e->workspace;
}

std::optional<std::vector<std::string>> Manager::pending_conflicts(const std::string& ticket_id) const {
  auto e = entry(ticket_id);
  std::optional<Workspace> ws = workspace(ticket_id);
  if (!ws) return std::nullopt;
  return e->git->pending_conflicts(*ws);
}

// --- Waiting ---------------------------------------------------------------

std::optional<WorkerResult> Manager::wait_for(const std::string& ticket_id, std::optional<Duration> timeout) {
  auto e = entry(ticket_id);
  TaskPtr worker = worker_task(ticket_id);
  if (!worker) throw ManagerError(ManagerError::Kind::no_workspace, fmt::format("ticket {} has no worker", ticket_id));
  if (!sup_.wait(worker, timeout)) return std::nullopt;
  return get_result(ticket_id);
}

std::optional<std::string> Manager::wait_any(const std::vector<std::string>& ticket_ids,
                                             std::optional<Duration> timeout) {
  std::vector<TaskPtr> workers;
  for (const auto& id : ticket_ids) {
    TaskPtr worker = worker_task(id);
    if (!worker) throw ManagerError(ManagerError::Kind::no_workspace, fmt::format("ticket {} has no worker", id));
    workers.push_back(worker);
  }
  auto first = sup_.wait_any(workers, timeout);
  if (!first) return std::nullopt;
  auto at = std::find(workers.begin(), workers.end(), *first);
  return ticket_ids[static_cast<std::size_t>(at - workers.begin())];
}

std::vector<std::string> Manager::wait_all(const std::vector<std::string>& ticket_ids,
                                           std::optional<Duration> timeout) {
  std::vector<TaskPtr> workers;
  std::vector<std::string> ids;  // beside their workers: tickets without one are left out
  for (const auto& id : ticket_ids) {
    if (TaskPtr worker = worker_task(id)) {
      workers.push_back(worker);
      ids.push_back(id);
    }
  }
  std::vector<std::string> out;
  for (const TaskPtr& task : sup_.wait_all(workers, timeout)) {
    out.push_back(ids[static_cast<std::size_t>(std::find(workers.begin(), workers.end(), task) - workers.begin())]);
  }
  return out;
}

bool Manager::cancel(const std::string& ticket_id) {
  auto e = entry(ticket_id);
  TaskPtr worker;
  {
    std::lock_guard lock(mutex_);
    if (e->result || is_final(e->ticket.status)) return false;
    if (!e->worker) {
      e->ticket.status = TicketStatus::cancelled;
      e->ticket.updated_at = WallClock::now();
      return true;
    }
    worker = e->worker;
  }
  sup_.stop(worker);
  return true;
}

void Manager::cancel_and_wait(const std::string& ticket_id) {
  cancel(ticket_id);
  if (TaskPtr worker = worker_task(ticket_id)) sup_.wait(worker);
}

// --- Merging and workspaces ---------------------------------------------------

Workspace Manager::workspace_of(const std::shared_ptr<Entry>& e) const {
  std::lock_guard lock(mutex_);
  if (!e->workspace) {
    throw ManagerError(ManagerError::Kind::no_workspace,
                       fmt::format("ticket {} has no workspace yet (it is {})", e->ticket.id,
                                   ticket_status_name(e->ticket.status)));
  }
  return *e->workspace;
}

MergeResult Manager::merge(const std::string& ticket_id, const std::string& target, MergeStrategy strategy) {
  auto e = entry(ticket_id);
  if (is_running(ticket_id)) {
    throw ManagerError(ManagerError::Kind::busy, fmt::format("ticket {} is still running: wait for it first", ticket_id));
  }
  Workspace ws = workspace_of(e);
  MergeResult result = e->git->merge(ws, target, strategy,
                                     fmt::format("tend: merge ticket {}: {}", ticket_id, e->ticket.spec.task.substr(0, 72)));
  std::lock_guard lock(mutex_);
  ++(result.merged ? merged_ : conflicts_);
  if (result.merged) e->workspace->target_branch = result.target;
  return result;
}

MergeResult Manager::resolve_conflict(const std::string& ticket_id, Side side, const std::vector<std::string>& files) {
  auto e = entry(ticket_id);
  MergeResult result = e->git->resolve(workspace_of(e), side, files);
  std::lock_guard lock(mutex_);
  if (result.merged) ++merged_;
  return result;
}

std::string Manager::diff(const std::string& ticket_id, bool stat) const {
  auto e = entry(ticket_id);
  return e->git->diff(workspace_of(e), stat);
}

void Manager::remove(const std::string& ticket_id, bool force) {
  auto e = entry(ticket_id);
  if (is_running(ticket_id)) {
    throw ManagerError(ManagerError::Kind::busy, fmt::format("ticket {} is still running: cancel it first", ticket_id));
  }
  bool has_workspace;
  {
    std::lock_guard lock(mutex_);
    has_workspace = e->workspace.has_value();
  }
  if (has_workspace) e->git->remove(workspace_of(e), force);
  std::lock_guard lock(mutex_);
  entries_.erase(ticket_id);
  std::erase(order_, ticket_id);
}

GcResult Manager::gc(const fs::path& repo) {
  ShadowGit& git = git_for(repo);
  auto in_use = [this](const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    return it != entries_.end() && it->second->worker && !it->second->result;
  };
  GcResult result = git.gc(in_use);
  std::lock_guard lock(mutex_);
  for (const auto& id : result.removed) {
    entries_.erase(id);
    std::erase(order_, id);
  }
  return result;
}

ManagerStats Manager::stats() const {
  std::lock_guard lock(mutex_);
  ManagerStats s;
  s.tickets = entries_.size();
  for (const auto& [id, e] : entries_) {
    switch (e->ticket.status) {
      case TicketStatus::pending: ++s.pending; break;
      case TicketStatus::assigned:
      case TicketStatus::in_progress: ++s.running; break;
      case TicketStatus::completed: ++s.completed; break;
      case TicketStatus::failed: ++s.failed; break;
      case TicketStatus::cancelled: ++s.cancelled; break;
    }
  }
  s.merged = merged_;
  s.conflicts = conflicts_;
  return s;
}

}  // namespace tend::agents
