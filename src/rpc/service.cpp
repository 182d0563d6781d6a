#include "tend/rpc/service.hpp"

#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "params.hpp"
#include "run_request.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/rpc/task_ref.hpp"
#include "task_activity.hpp"
#include "tend/process/signals.hpp"
#include "task_json.hpp"
#include "tend/store/task_codec.hpp"
#include "tend/version.hpp"

namespace tend::rpc {

using namespace params;

namespace {

constexpr std::size_t kMaxRead = 16u << 20;


}  // namespace

Service::Service(Supervisor& supervisor, store::StateStore* store, std::filesystem::path socket,
                 std::filesystem::path state_dir, std::function<void()> shutdown)
    : sup_(supervisor),
      store_(store),
      socket_(std::move(socket)),
      state_dir_(std::move(state_dir)),
      shutdown_(std::move(shutdown)),
      agents_(std::make_unique<AgentService>(supervisor, store, state_dir_ / "agents")) {}

void Service::persist(const TaskPtr& task) {
  if (!store_) return;
  try {
    store_->save(task->spec(), task->status());
  } catch (const std::exception& e) {
    spdlog::error("tend: cannot record task {}: {}", task->id(), e.what());
  }
}

void Service::make_durable() {
  if (!store_) return;
  try {
    if (resave_all_) {
      // The last commit failed (a full disk, say) and took its saves with
      // it: save every task again, now that it may work.
      resave_all_ = false;
      for (const auto& task : sup_.tasks()) store_->save(task->spec(), task->status());
    }
    store_->commit();
  } catch (const std::exception& e) {
    resave_all_ = true;
    spdlog::error("tend: cannot record the latest task states (tried again with the next change): {}", e.what());
  }
}

TaskPtr Service::resolve(const json& ref) const {
  TaskRef parsed;
  try {
    parsed = parse_task_ref(ref);
  } catch (const TaskRefError& e) {
    if (e.kind() == TaskRefError::Kind::no_such_task) throw RpcError(error_code::no_such_task, e.what());
    throw RpcError(error_code::invalid_params, fmt::format("invalid params: {}", e.what()));
  }
  if (parsed.id) {
    if (auto task = sup_.find(*parsed.id)) return task;
    throw RpcError(error_code::no_such_task, fmt::format("no task {}", *parsed.id));
  }
  if (auto task = find_by_name(parsed.name)) return task;
  throw RpcError(error_code::no_such_task, fmt::format("no task named \"{}\"", escape_controls(parsed.name)));
}

TaskPtr Service::find_by_name(const std::string& name) const {
  // tasks() is in id order: the last found is the newest.
  TaskPtr live, ended;
  for (const auto& t : sup_.tasks()) {
    if (t->spec().name == name) (t->finished() ? ended : live) = t;
  }
  return live ? live : ended;
}

std::vector<TaskPtr> Service::resolve_all(Params p) const {
  auto it = p.find("ids");
  if (it == p.end() || !it->is_array() || it->empty()) {
    if (p.contains("id")) return {resolve(p["id"])};
    throw RpcError(error_code::invalid_params, "invalid params: \"ids\" must be a non-empty list of task ids or names");
  }
  std::vector<TaskPtr> tasks;
  for (const auto& ref : *it) tasks.push_back(resolve(ref));
  return tasks;
}

asio::awaitable<json> Service::handle(const Request& request, std::shared_ptr<Session> session) {
  const std::string& m = request.method;
  const json& p = request.params;
  try {
    if (m == "task.run") co_return co_await run(p);
    if (m == "task.list") co_return list(p);
    if (m == "task.status") co_return status(p);
    if (m == "task.output") co_return co_await output(p);
    if (m == "task.wait") co_return co_await wait(p);
    if (m == "task.kill") co_return co_await kill(p);
    if (m == "task.send") co_return send(p);
    if (m == "task.pause") co_return pause_resume(p, true);
    if (m == "task.resume") co_return pause_resume(p, false);
    if (m == "task.remove") co_return remove(p);
    if (m == "task.clean") co_return clean(p);
    if (m == "task.edit") co_return edit(p);
    if (m == "task.restart") co_return co_await restart(p);
    if (m == "queue.parallel") co_return set_parallel(p, false);
    if (m == "group.add") co_return set_parallel(p, true);
    if (m == "group.list") co_return group_list(p);
    if (m == "group.remove") co_return group_remove(p);
    if (m == "task.enqueue") co_return enqueue(p);
    if (m == "task.start") co_return start(p);
    if (m == "events.subscribe") co_return subscribe(p, session);
    if (m == "daemon.status") co_return daemon_status(p);
    if (m.rfind("agent.", 0) == 0) {
      if (auto answer = co_await agents_->handle(m, p)) co_return *answer;
    }
    if (m == "daemon.shutdown") {
      if (shutdown_) asio::post(co_await asio::this_coro::executor, shutdown_);
      co_return json{{"stopping", true}};
    }
  } catch (const RpcError&) {
    throw;
  } catch (const process::SpawnError& e) {
    throw RpcError(error_code::spawn_failed, e.what(), {{"subject", e.subject()}});
  } catch (const ReadinessError& e) {
    throw RpcError(error_code::not_ready, e.what(), {{"output_tail", e.output_tail()}});
  } catch (const TaskError& e) {
    throw RpcError(error_code::task_error, e.what());
  } catch (const std::exception& e) {
    throw RpcError(error_code::internal_error, fmt::format("internal error: {}", e.what()));
  }
  throw RpcError(error_code::method_not_found, fmt::format("method not found: \"{}\"", m));
}

asio::awaitable<json> Service::run(Params p) {
  auto id_of = [this](const json& ref) { return resolve(ref)->id(); };
  RunRequest request = decode_run_request(p, id_of);
  check_group_exists(request.spec.group);
  if (!request.spec.name.empty()) co_await take_name(request.spec.name, request.replace);
  TaskPtr task = sup_.submit(std::move(request.spec), request.hold);
  persist(task);
  if (request.wait_ready) {
    auto deadline = asio::steady_timer::clock_type::now() + request.ready_timeout;
    while (task->state() == TaskState::queued && asio::steady_timer::clock_type::now() < deadline) {
      co_await wait_for_activity(sup_, task, deadline);
    }
    auto left = std::chrono::duration_cast<Duration>(deadline - asio::steady_timer::clock_type::now());
    try {
      co_await sup_.async_wait_ready(task, std::max(left, Duration(0)));
    } catch (const ReadinessError& e) {
      // The task exists (and may still run): say which, so the caller can stop or read it.
      throw RpcError(error_code::not_ready, e.what(), {{"output_tail", e.output_tail()}, {"id", task->id()}});
    }
  }
  co_return task_json(task);
}

void Service::check_group_exists(const std::string& group) const {
  // A group is what has a limit (group.add, queue.parallel --group, kept in
  // the store); a misspelt one would otherwise run unlimited, unnoticed.
  if (!group.empty() && (group == "default" || !store_ || store_->setting("parallel:" + group))) return;
  throw RpcError(error_code::invalid_params,
                 fmt::format("no group \"{}\": add it first (tend group add {} --parallel N)", escape_controls(group),
                             escape_controls(group)));
}

asio::awaitable<void> Service::take_name(const std::string& name, bool replace) {
  auto live_named = [&]() -> TaskPtr {
    TaskPtr found = find_by_name(name);
    return found && !found->finished() ? found : nullptr;
  };
  TaskPtr live = live_named();
  if (!live) co_return;
  auto taken = [&](const TaskPtr& t) {
    return RpcError(error_code::name_in_use,
                    fmt::format("the name \"{}\" belongs to task {}, which is {}: stop it first, or replace it "
                                "(tend run --replace; \"replace\": true)",
                                escape_controls(name), t->id(), to_string(t->state())),
                    {{"id", t->id()}});
  };
  if (!replace) throw taken(live);
  // Its own ladder (TERM, grace, KILL by default), and the new task starts
  // only once the old one has ended: a server must free its port first.
  co_await sup_.async_stop(live);
  persist(live);
  // Another run may have taken the name while this one waited.
  if (TaskPtr other = live_named()) throw taken(other);
}

json Service::list(Params p) {
  const bool all = optional<bool>(p, "all").value_or(false);
  const bool internal = optional<bool>(p, "internal").value_or(false);
  json tasks = json::array();
  auto everything = sup_.tasks();
  if (!internal) std::erase_if(everything, [](const TaskPtr& t) { return t->spec().internal; });
  if (auto group = optional<std::string>(p, "group")) {
    check_group_known(*group);
    std::erase_if(everything, [&](const TaskPtr& t) { return t->spec().group != *group; });
  }
  // Without "all": every unfinished task, and the 20 that finished last.
  std::size_t finished = 0;
  for (const auto& t : everything) finished += t->finished() ? 1 : 0;
  std::size_t skip = all || finished <= 20 ? 0 : finished - 20;
  for (const auto& t : everything) {
    if (t->finished() && skip > 0) {
      --skip;
      continue;
    }
    tasks.push_back(task_json(t));
  }
  return {{"tasks", tasks}};
}

json Service::status(Params p) {
  if (!p.contains("id")) bad("id", "a task id or name");
  TaskPtr task = resolve(p["id"]);
  json j = task_json(task);
  json history = json::array();
  for (const auto& a : task->history()) {
    history.push_back({{"attempt", a.number},
                       {"pid", a.pid},
                       {"started_at", store::format_time(a.started_at)},
                       {"ended_at", store::format_time(a.ended_at)},
                       {"exit_code", a.exit_code ? json(*a.exit_code) : json(nullptr)},
                       {"signal", a.signal ? json(process::signal_name(*a.signal)) : json(nullptr)},
                       {"reason", a.reason}});
  }
  j["history"] = history;
  j["stdout_bytes"] = task->output(Stream::stdout_stream).size();
  j["stderr_bytes"] = task->output(Stream::stderr_stream).size();
  if (store_) {
    json transitions = json::array();
    for (const auto& t : store_->transitions(task->id())) {
      transitions.push_back({{"at", store::format_time(t.at)}, {"state", to_string(t.state)}, {"reason", t.reason}});
    }
    j["transitions"] = transitions;
  }
  return j;
}

asio::awaitable<json> Service::wait(Params p) {
  auto tasks = resolve_all(p);
  const bool any = optional<bool>(p, "any").value_or(false);
  const auto timeout = duration_ms(p, "timeout_ms");
  std::vector<TaskPtr> finished;
  if (any) {
    if (auto first = co_await sup_.async_wait_any(tasks, timeout)) finished.push_back(*first);
  } else {
    finished = co_await sup_.async_wait_all(tasks, timeout);
  }
  json done = json::array();
  for (const auto& t : finished) done.push_back(task_json(t));
  json pending = json::array();
  for (const auto& t : tasks) {
    if (!t->finished()) pending.push_back(t->id());
  }
  const bool timed_out = any ? finished.empty() : !pending.empty();
  co_return json{{"finished", done}, {"pending", pending}, {"timed_out", timed_out}};
}

json Service::send(Params p) {
  if (!p.contains("id")) bad("id", "a task id or name");
  TaskPtr task = resolve(p["id"]);
  auto text = optional<std::string>(p, "text");
  if (!text) bad("text", "a string");
  if (optional<bool>(p, "newline").value_or(true)) *text += task->spec().kind == TaskKind::terminal ? "\r" : "\n";
  sup_.send(task, *text);
  if (optional<bool>(p, "eof").value_or(false)) sup_.close_input(task);
  return {{"id", task->id()}, {"sent_bytes", text->size()}};
}

json Service::pause_resume(Params p, bool pause) {
  if (!p.contains("id")) bad("id", "a task id or name");
  TaskPtr task = resolve(p["id"]);
  bool done = pause ? sup_.pause(task) : sup_.resume(task);
  if (!done) {
    throw RpcError(error_code::task_error,
                   fmt::format("task {} is {}{}", task->id(), to_string(task->state()),
                               pause ? (task->status().paused ? " and paused already" : ": nothing to pause")
                                     : (task->status().paused ? ": cannot resume" : " and not paused")));
  }
  persist(task);
  return task_json(task);
}

json Service::daemon_status(Params) {
  std::size_t running = 0, queued = 0, finished = 0;
  for (const auto& t : sup_.tasks()) {
    auto s = t->state();
    running += s == TaskState::running;
    queued += s == TaskState::queued;
    finished += is_final(s);
  }
  return {{"pid", ::getpid()},
          {"version", kVersion},
          {"started_at", store::format_time(started_at_)},
          {"uptime_ms", std::chrono::duration_cast<Duration>(Clock::now() - started_at_).count()},
          {"socket", socket_.string()},
          {"state_dir", state_dir_.string()},
          {"parallel", sup_.parallel("")},
          {"tasks", {{"running", running}, {"queued", queued}, {"finished", finished}}}};
}

json Service::set_parallel(Params p, bool is_group_add) {
  std::string group;
  std::int64_t n;
  if (is_group_add) {
    group = optional<std::string>(p, "name").value_or("");
    if (group.empty()) bad("name", "a group name");
    n = non_negative(p, "parallel", 1);
  } else {
    group = optional<std::string>(p, "group").value_or("");
    auto value = optional<std::int64_t>(p, "n");
    if (!value || *value < 0) bad("n", "a number of tasks, 0 for no limit");
    n = *value;
  }
  sup_.set_parallel(group, static_cast<std::size_t>(n));
  if (store_) store_->set_setting("parallel:" + group, std::to_string(n));
  return {{"group", group.empty() ? json(nullptr) : json(group)}, {"parallel", n}};
}

json Service::subscribe(Params p, const std::shared_ptr<Session>& session) {
  std::vector<TaskId> ids;
  if (auto it = p.find("ids"); it != p.end() && !it->is_null()) {
    if (!it->is_array()) bad("ids", "a list of task ids or names");
    for (const auto& ref : *it) ids.push_back(resolve(ref)->id());
  }
  const bool with_output = optional<bool>(p, "output").value_or(false);
  std::weak_ptr<Session> weak = session;
  auto on_event = [weak, ids, with_output](const Event& e) {
    auto s = weak.lock();
    if (!s) return;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), e.task->id()) == ids.end()) return;
    if (e.kind == Event::Kind::output && (!with_output || (s->congested && s->congested()))) return;
    json params = {{"kind", to_string(e.kind)}, {"id", e.task->id()}};
    if (e.kind == Event::Kind::output) {
      params["stream"] = to_string(e.stream);
      params["data"] = std::string(e.data);
      // Where these bytes end in the stream: lets a client that also reads
      // by cursor skip what it has already shown.
      params["cursor_end"] = e.task->output(e.stream).size();
    } else {
      params["task"] = store::status_to_json(e.status, e.task->spec());
    }
    s->send(make_notification("event", params));
  };
  session->subscriptions.push_back(sup_.subscribe(on_event, with_output));
  return {{"subscribed", true}};
}

}  // namespace tend::rpc
