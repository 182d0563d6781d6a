#include "tend/rpc/agent_service.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "params.hpp"
#include "tend/store/json_limits.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::rpc {

using namespace params;
using agents::Manager;
using agents::ManagerError;
using agents::ShadowGitError;

namespace {

constexpr int kGitRefused = -32005;  // documented in docs/protocol.md
constexpr int kGitFailed = -32006;

const char* kind_name(ShadowGitError::Kind kind) {
  using K = ShadowGitError::Kind;
  switch (kind) {
    case K::no_repository: return "no_repository";
    case K::unknown_branch: return "unknown_branch";
    case K::workspace_exists: return "workspace_exists";
    case K::no_workspace: return "no_workspace";
    case K::nothing_to_commit: return "nothing_to_commit";
    case K::not_fast_forward: return "not_fast_forward";
    case K::target_dirty: return "target_dirty";
    case K::no_conflict: return "no_conflict";
    case K::unsafe_removal: return "unsafe_removal";
  }
  return "?";
}

// The agents layer's errors, as the protocol says them.
[[noreturn]] void rethrow_as_rpc(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const RpcError&) {
    throw;
  } catch (const ManagerError& e) {
    switch (e.kind()) {
      case ManagerError::Kind::no_ticket: throw RpcError(error_code::no_such_task, e.what());
      case ManagerError::Kind::bad_spec: throw RpcError(error_code::invalid_params, fmt::format("invalid params: {}", e.what()));
      default: throw RpcError(error_code::task_error, e.what());
    }
  } catch (const ShadowGitError& e) {
    throw RpcError(kGitRefused, e.what(), {{"kind", kind_name(e.kind())}});
  } catch (const agents::GitError& e) {
    throw RpcError(kGitFailed, e.what(), {{"git_message", e.git_message()}, {"exit_code", e.exit_code()}});
  } catch (const std::invalid_argument& e) {
    throw RpcError(error_code::invalid_params, fmt::format("invalid params: {}", e.what()));
  }
}

json merge_json(const agents::MergeResult& r) {
  return {{"merged", r.merged},
          {"target", r.target},
          {"strategy", agents::merge_strategy_name(r.strategy)},
          {"previous_commit", r.previous_commit},
          {"commit", r.commit},
          {"up_to_date", r.up_to_date},
          {"conflicts", r.conflicts},
          {"updated_worktree", r.updated_worktree ? json(r.updated_worktree->string()) : json(nullptr)}};
}

json optional_time(const std::optional<agents::WallClock::time_point>& t) {
  return t ? json(store::format_time(*t)) : json(nullptr);
}

}  // namespace

AgentService::AgentService(Supervisor& supervisor, store::StateStore* store, std::filesystem::path work_dir)
    : sup_(supervisor), store_(store), manager_(supervisor, [&] {
        agents::ManagerOptions o;
        o.work_dir = std::move(work_dir);
        if (store) {
          if (auto next = store->setting("agents:next_ticket")) o.first_ticket = std::stoull(*next);
        }
        return o;
      }()) {
  restore_saved();
  // A worker's task ends after its result is recorded: the moment to save it.
  auto on_event = [this](const Event& e) {
    if (e.kind != Event::Kind::exited) return;
    auto it = ticket_of_worker_.find(e.task->id());
    if (it == ticket_of_worker_.end()) return;
    save(it->second);
    ticket_of_worker_.erase(it);
  };
  worker_exits_ = sup_.subscribe(on_event, /*with_output=*/false);
}

namespace {
constexpr const char* kRecords = "agents";

std::optional<agents::WallClock::time_point> time_field(const json& v) {
  if (!v.is_string()) return std::nullopt;
  return store::parse_time(v.get<std::string>());
}

std::string string_field(const json& record, const char* name) {
  auto it = record.find(name);
  return it != record.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

json AgentService::record_of(const agents::Ticket& t) const {
  json record = agent_json(t);
  record["repo"] = manager_.repo_of(t.id).string();
  record["metadata"] = t.spec.metadata;
  record["context"] = t.spec.context;
  return record;
}

void AgentService::save(const std::string& id) {
  if (!store_) return;
  try {
    auto t = manager_.ticket(id);
    if (!t) {
      store_->remove_record(kRecords, id);
      return;
    }
    store_->put_record(kRecords, id, record_of(*t).dump());
  } catch (const std::exception& e) {
    spdlog::error("tend: cannot record agent {}: {}", id, e.what());
  }
}

AgentService::~AgentService() {
  git_pool_.join();
  // The daemon is going away and has stopped every task: a ticket still
  // under way was cancelled by that, whether or not its worker got to say so.
  if (!store_) return;
  for (const auto& t : manager_.tickets()) {
    if (agents::is_final(t.status)) {
      save(t.id);
      continue;
    }
    try {
      json record = record_of(t);
      record["status"] = "cancelled";
      record["success"] = false;
      record["summary"] = "cancelled: the daemon was stopped while the agent ran";
      record["reason"] = "cancelled: the daemon was stopped while the agent ran";
      record["ended_at"] = store::format_time(agents::WallClock::now());
      store_->put_record(kRecords, t.id, record.dump());
    } catch (const std::exception& e) {
      spdlog::error("tend: cannot record agent {}: {}", t.id, e.what());
    }
  }
}

void AgentService::restore_saved() {
  if (!store_) return;
  for (const auto& [id, text] : store_->records(kRecords)) {
    try {
      json r = store::parse_json(text);
      agents::Ticket t;
      t.id = id;
      t.spec.task = string_field(r, "task");
      t.spec.handles = r.value("handles", std::vector<std::string>{});
      const json constraints = r.value("constraints", json::object());
      for (const auto& [name, rule] : constraints.items()) {
        t.spec.constraints.emplace_back(name, rule.get<std::string>());
      }
      t.spec.priority = agents::parse_priority(string_field(r, "priority")).value_or(agents::Priority::normal);
      t.spec.parent = string_field(r, "parent");
      t.spec.metadata = r.value("metadata", std::map<std::string, std::string>{});
      t.spec.context = string_field(r, "context");
      const std::string status = string_field(r, "status");
      t.status = agents::TicketStatus::failed;
      for (auto s : {agents::TicketStatus::pending, agents::TicketStatus::assigned, agents::TicketStatus::in_progress,
                     agents::TicketStatus::completed, agents::TicketStatus::failed, agents::TicketStatus::cancelled}) {
        if (status == agents::ticket_status_name(s)) t.status = s;
      }
      t.created_at = time_field(r["created_at"]).value_or(agents::WallClock::now());
      t.started_at = time_field(r["started_at"]);
      t.ended_at = time_field(r["ended_at"]);
      t.updated_at = t.ended_at.value_or(t.created_at);
      std::optional<agents::WorkerResult> result;
      if (r["success"].is_boolean()) {
        agents::WorkerResult w;
        w.ticket_id = id;
        w.success = r["success"].get<bool>();
        w.status = t.status;
        w.summary = string_field(r, "summary");
        w.reason = string_field(r, "reason");
        w.commit = string_field(r, "commit");
        w.branch = string_field(r, "branch");
        w.worktree = string_field(r, "worktree");
        if (r["duration_ms"].is_number_integer()) w.duration = Duration(r["duration_ms"].get<std::int64_t>());
        if (r["exit_code"].is_number_integer()) w.exit_code = r["exit_code"].get<int>();
        if (auto state = parse_task_state(string_field(r, "agent_state"))) w.agent_state = *state;
        if (r["agent_task"].is_number_unsigned()) w.agent_task = r["agent_task"].get<TaskId>();
        result = w;
      }
      bool was_running = !agents::is_final(t.status);
      manager_.restore(std::move(t), std::move(result), string_field(r, "repo"));
      if (was_running) save(id);
    } catch (const std::exception& e) {
      spdlog::error("tend: cannot take up agent {}: {}", id, e.what());
    }
  }
}

template <typename F>
asio::awaitable<json> AgentService::off_loop(F work) {
  auto job = [work = std::move(work)]() mutable -> asio::awaitable<json> { co_return work(); };
  co_return co_await asio::co_spawn(git_pool_, job, asio::use_awaitable);
}

std::string AgentService::ticket_id(Params p, const char* name) const {
  auto it = p.find(name);
  if (it != p.end() && it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  if (it != p.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  bad(name, "a ticket id");
}

asio::awaitable<std::optional<json>> AgentService::handle(const std::string& m, Params p) {
  std::exception_ptr error;
  try {
    if (m == "agent.spawn") co_return co_await spawn(p);
    if (m == "agent.list") co_return list(p);
    if (m == "agent.status") co_return status(p);
    if (m == "agent.wait") co_return co_await wait(p);
    if (m == "agent.cancel") co_return co_await cancel(p);
    if (m == "agent.diff") {
      std::string id = ticket_id(p);
      bool stat = optional<bool>(p, "stat").value_or(false);
      auto diff = [this, id, stat] { return json{{"id", id}, {"diff", manager_.diff(id, stat)}}; };
      co_return co_await off_loop(diff);
    }
    if (m == "agent.merge") {
      std::string id = ticket_id(p);
      std::string into = optional<std::string>(p, "into").value_or("");
      std::string name = optional<std::string>(p, "strategy").value_or("squash");
      auto strategy = agents::parse_merge_strategy(name);
      if (!strategy) bad("strategy", "one of squash, merge, rebase, ff");
      auto merge = [this, id, into, s = *strategy] { return merge_json(manager_.merge(id, into, s)); };
      co_return co_await off_loop(merge);
    }
    if (m == "agent.resolve") {
      std::string id = ticket_id(p);
      std::string side = optional<std::string>(p, "side").value_or("");
      if (side != "ours" && side != "theirs") bad("side", "\"ours\" or \"theirs\"");
      auto files = optional<std::vector<std::string>>(p, "files").value_or(std::vector<std::string>{});
      auto resolve = [this, id, files, s = side == "ours" ? agents::Side::ours : agents::Side::theirs] {
        return merge_json(manager_.resolve_conflict(id, s, files));
      };
      co_return co_await off_loop(resolve);
    }
    if (m == "agent.remove") {
      std::string id = ticket_id(p);
      bool force = optional<bool>(p, "force").value_or(false);
      auto remove = [this, id, force] {
        manager_.remove(id, force);
        return json{{"removed", id}};
      };
      json answer = co_await off_loop(remove);
      save(id);
      co_return answer;
    }
    if (m == "agent.gc") {
      std::string repo = optional<std::string>(p, "repo").value_or("");
      if (repo.empty()) bad("repo", "a directory in the repository to collect workspaces of");
      auto gc = [this, repo] {
        agents::GcResult r = manager_.gc(repo);
        json kept = json::array();
        for (const auto& k : r.kept) kept.push_back({{"id", k.id}, {"reason", k.reason}});
        return json{{"removed", r.removed}, {"kept", kept}};
      };
      json answer = co_await off_loop(gc);
      for (const auto& id : answer["removed"]) save(id.get<std::string>());
      co_return answer;
    }
  } catch (...) {
    error = std::current_exception();
  }
  if (error) rethrow_as_rpc(error);
  co_return std::nullopt;
}

json AgentService::agent_json(const agents::Ticket& t) const {
  json out = {{"id", t.id},
              {"task", t.spec.task},
              {"status", agents::ticket_status_name(t.status)},
              {"priority", agents::priority_name(t.spec.priority)},
              {"handles", t.spec.handles},
              {"parent", t.spec.parent.empty() ? json(nullptr) : json(t.spec.parent)},
              {"created_at", store::format_time(t.created_at)},
              {"started_at", optional_time(t.started_at)},
              {"ended_at", optional_time(t.ended_at)},
              {"branch", nullptr},
              {"worktree", nullptr},
              {"base", nullptr},
              {"commit", nullptr},
              {"success", nullptr},
              {"summary", nullptr},
              {"reason", nullptr},
              {"duration_ms", nullptr},
              {"exit_code", nullptr},
              {"agent_state", nullptr},
              {"agent_task", nullptr},
              {"worker_task", nullptr},
              {"conflicts", nullptr}};
  json constraints = json::object();
  for (const auto& [name, text] : t.spec.constraints) constraints[name] = text;
  out["constraints"] = constraints;
  if (auto ws = manager_.workspace(t.id)) {
    out["branch"] = ws->branch;
    out["worktree"] = ws->path.string();
    out["base"] = ws->base_branch;
  }
  if (TaskPtr worker = manager_.worker_task(t.id)) out["worker_task"] = worker->id();
  if (auto r = manager_.get_result(t.id)) {
    out["commit"] = r->commit.empty() ? json(nullptr) : json(r->commit);
    out["success"] = r->success;
    out["summary"] = r->summary;
    if (!r->reason.empty()) out["reason"] = r->reason;
    out["duration_ms"] = r->duration.count();
    if (r->exit_code) out["exit_code"] = *r->exit_code;
    if (r->agent_state) out["agent_state"] = std::string(to_string(*r->agent_state));
    if (r->agent_task) out["agent_task"] = *r->agent_task;
  }
  return out;
}

namespace {

std::vector<std::pair<std::string, std::string>> string_pairs(const json& p, const char* name) {
  std::vector<std::pair<std::string, std::string>> out;
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return out;
  if (!it->is_object()) bad(name, "an object of string values");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) bad(name, "an object of string values");
    out.emplace_back(key, value.get<std::string>());
  }
  return out;
}

}  // namespace

asio::awaitable<json> AgentService::spawn(Params p) {
  agents::TicketSpec ticket;
  ticket.task = optional<std::string>(p, "task").value_or("");
  if (ticket.task.empty()) bad("task", "a non-empty string (what the agent should do)");
  agents::WorkerSpec worker;
  worker.command = optional<std::vector<std::string>>(p, "command").value_or(std::vector<std::string>{});
  if (worker.command.empty()) bad("command", "a non-empty list: the agent program and its arguments");
  if (auto priority = optional<std::string>(p, "priority")) {
    auto parsed = agents::parse_priority(*priority);
    if (!parsed) bad("priority", "one of low, normal, high, critical");
    ticket.priority = *parsed;
  }
  ticket.constraints = string_pairs(p, "constraints");
  ticket.handles = optional<std::vector<std::string>>(p, "handles").value_or(std::vector<std::string>{});
  ticket.parent = optional<std::string>(p, "parent").value_or("");
  ticket.context = optional<std::string>(p, "context").value_or("");
  worker.repo = optional<std::string>(p, "repo").value_or("");
  if (worker.repo.empty()) bad("repo", "a directory in the git repository to work on");
  worker.base = optional<std::string>(p, "base").value_or("");
  worker.copy_files = optional<std::vector<std::string>>(p, "copy").value_or(std::vector<std::string>{});
  worker.setup = optional<std::string>(p, "setup");
  worker.setup_timeout = duration_ms(p, "setup_timeout_ms");
  worker.timeout = duration_ms(p, "timeout_ms");
  worker.idle_timeout = duration_ms(p, "idle_timeout_ms");
  worker.env = string_pairs(p, "env");
  worker.scrub_secrets = optional<bool>(p, "scrub_secrets").value_or(false);
  worker.keep_env = optional<std::vector<std::string>>(p, "keep_env").value_or(std::vector<std::string>{});

  // What the worker would only find out later is refused now, before a
  // ticket number is used up: the repository, the base, the files to copy.
  auto check = [this, &worker] {
    manager_.check_spec(worker);
    return json{};
  };
  co_await off_loop(std::move(check));
  agents::Ticket created = manager_.create_ticket(std::move(ticket));
  if (store_) store_->set_setting("agents:next_ticket", std::to_string(std::stoull(created.id) + 1));
  // Opening the repository and starting the worker run git: off the loop.
  auto start = [this, id = created.id, worker = std::move(worker)]() mutable {
    try {
      manager_.spawn_async(id, std::move(worker));
    } catch (...) {
      manager_.cancel(id);  // a ticket that cannot start is not left pending
      manager_.remove(id, true);
      throw;
    }
    return json{};
  };
  co_await off_loop(std::move(start));
  if (TaskPtr worker = manager_.worker_task(created.id)) ticket_of_worker_[worker->id()] = created.id;
  save(created.id);
  co_return agent_json(*manager_.ticket(created.id));
}

json AgentService::list(Params) {
  json agents = json::array();
  for (const auto& t : manager_.tickets()) agents.push_back(agent_json(t));
  return {{"agents", agents}};
}

json AgentService::status(Params p) {
  std::string id = ticket_id(p);
  auto t = manager_.ticket(id);
  if (!t) throw RpcError(error_code::no_such_task, fmt::format("no agent {}", id));
  json out = agent_json(*t);
  if (auto conflicts = manager_.pending_conflicts(id)) out["conflicts"] = *conflicts;
  return out;
}

asio::awaitable<json> AgentService::wait(Params p) {
  std::vector<std::string> ids;
  auto it = p.find("ids");
  if (it == p.end() || !it->is_array() || it->empty()) bad("ids", "a non-empty list of ticket ids");
  for (const auto& ref : *it) {
    json one = {{"id", ref}};
    ids.push_back(ticket_id(one, "id"));
  }
  bool any = optional<bool>(p, "any").value_or(false);
  auto timeout = duration_ms(p, "timeout_ms");

  // A ticket without a worker (cancelled before it started) has ended already.
  std::vector<TaskPtr> workers;
  std::vector<std::string> ended;
  for (const auto& id : ids) {
    if (!manager_.ticket(id)) throw RpcError(error_code::no_such_task, fmt::format("no agent {}", id));
    if (TaskPtr w = manager_.worker_task(id)) {
      workers.push_back(w);
    } else {
      ended.push_back(id);
    }
  }
  std::vector<TaskPtr> done;
  if (!(any && !ended.empty()) && !workers.empty()) {
    if (any) {
      if (auto first = co_await sup_.async_wait_any(workers, timeout)) done.push_back(*first);
    } else {
      done = co_await sup_.async_wait_all(workers, timeout);
    }
  }
  for (const TaskPtr& task : done) {
    for (const auto& id : ids) {
      if (manager_.worker_task(id) == task) ended.push_back(id);
    }
  }
  json agents = json::array();
  for (const auto& id : ids) agents.push_back(status(json{{"id", id}}));
  bool timed_out = any ? ended.empty() : ended.size() < ids.size();
  co_return json{{"finished", ended}, {"timed_out", timed_out}, {"agents", agents}};
}

asio::awaitable<json> AgentService::cancel(Params p) {
  std::string id = ticket_id(p);
  if (!manager_.ticket(id)) throw RpcError(error_code::no_such_task, fmt::format("no agent {}", id));
  bool cancelled = manager_.cancel(id);
  // Answer once the agent's processes are gone.
  if (TaskPtr worker = manager_.worker_task(id)) co_await sup_.async_wait(worker);
  save(id);
  json out = status(json{{"id", id}});
  out["cancelled"] = cancelled;
  co_return out;
}

}  // namespace tend::rpc
