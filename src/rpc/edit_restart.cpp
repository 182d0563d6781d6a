// task.edit and task.restart: change a queued task before it starts, or run
// a task that ended again as a new task, with the same changes on the way.

#include <fmt/format.h>

#include "params.hpp"
#include "spec_changes.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/rpc/service.hpp"
#include "task_json.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::rpc {

using namespace params;

namespace {


json restart_failure(const json& ref, const TaskPtr& task, int code, const std::string& message) {
  json entry = {{"ref", ref}, {"error", {{"code", code}, {"message", message}}}};
  if (task) entry["id"] = task->id();
  return entry;
}

void refuse_tend_machinery(const TaskPtr& task) {
  if (!task->spec().internal && task->spec().kind != TaskKind::coroutine) return;
  throw RpcError(error_code::task_error,
                 fmt::format("task {} is part of tend's own machinery ({}): it cannot be edited or restarted",
                             task->id(), task->spec().owner.empty() ? "in-process" : task->spec().owner));
}

}  // namespace

json Service::edit(Params p) {
  if (!p.contains("id")) bad("id", "a task id or name");
  TaskPtr task = resolve(p["id"]);
  SpecChanges changes = decode_spec_changes(p);
  if (changes.empty()) {
    throw RpcError(error_code::invalid_params,
                   "invalid params: nothing to change: give argv or shell, cwd, env, unset_env, priority or name");
  }
  refuse_tend_machinery(task);
  if (task->state() != TaskState::queued) {
    throw RpcError(error_code::task_error,
                   fmt::format("task {} is {}: only a queued task that has not started can be edited{}", task->id(),
                               to_string(task->state()),
                               task->finished() ? fmt::format(" (tend restart {} runs it again)", task->id()) : ""));
  }
  if (changes.name && *changes.name != task->spec().name) {
    if (TaskPtr holder = find_by_name(*changes.name); holder && !holder->finished()) {
      throw RpcError(error_code::name_in_use,
                     fmt::format("the name \"{}\" belongs to task {}, which is {}", escape_controls(*changes.name),
                                 holder->id(), to_string(holder->state())),
                     {{"id", holder->id()}});
    }
  }
  sup_.edit(task, changes.applied_to(task->spec()));  // TaskError if it started meanwhile
  if (store_) store_->save_spec(task->id(), task->spec());
  persist(task);
  return task_json(task);
}

asio::awaitable<json> Service::restart(Params p) {
  auto each = resolve_each(p);
  json result = json::array();
  for (const auto& r : each) {
    if (!r.task) {
      result.push_back(r.error);
      continue;
    }
    try {
      json entry = co_await restart_one(r.task, p);
      entry["ref"] = r.ref;
      result.push_back(std::move(entry));
    } catch (const RpcError& e) {
      if (each.size() == 1 && e.code() == error_code::invalid_params) throw;
      result.push_back(restart_failure(r.ref, r.task, e.code(), e.what()));
    } catch (const TaskError& e) {
      result.push_back(restart_failure(r.ref, r.task, error_code::task_error, e.what()));
    }
  }
  co_return json{{"tasks", result}};
}

asio::awaitable<json> Service::restart_one(const TaskPtr& old, Params p) {
  SpecChanges changes = decode_spec_changes(p);
  refuse_tend_machinery(old);
  if (!old->finished()) {
    throw RpcError(error_code::task_error, fmt::format("task {} is {}: only a task that has ended can be restarted{}",
                                                       old->id(), to_string(old->state()),
                                                       old->state() == TaskState::queued
                                                           ? fmt::format(" (tend edit {} changes it)", old->id())
                                                           : fmt::format(" (tend kill {} first)", old->id())));
  }
  TaskSpec spec = changes.applied_to(old->spec());
  // What it waited for has run already: the new task starts on its own.
  spec.after.clear();
  check_group_exists(spec.group);
  if (!spec.name.empty()) co_await take_name(spec.name, false);
  TaskPtr task = sup_.submit(std::move(spec));
  persist(task);
  co_return json{{"id", old->id()}, {"new_id", task->id()}, {"task", task_json(task)}};
}

}  // namespace tend::rpc
