// The methods that act on several tasks at once (task.kill, task.remove,
// task.clean, and in queue_methods.cpp task.enqueue and task.start):
// each reference is answered on its own, so one unknown id or one task that
// cannot be removed does not keep the others from being done.

#include <malloc.h>

#include <fmt/format.h>

#include "params.hpp"
#include "tend/rpc/service.hpp"
#include "tend/process/signals.hpp"
#include "task_json.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::rpc {

using namespace params;

namespace {


// What an answer says of a reference that could not be acted on.
json failure(const json& ref, int code, const std::string& message) {
  json entry = {{"ref", ref}, {"error", {{"code", code}, {"message", message}}}};
  if (ref.is_number_unsigned()) entry["id"] = ref;
  return entry;
}

// A forgotten task's record is freed, but free() gives heap back to the
// system only from its top, and the daemon's long-lived allocations sit
// among the freed ones: without this, RSS stays at its peak after a clean of
// thousands of tasks (Load.ShortTasks...: 10 MiB grew to 17.7 MiB for good;
// with it, 11.1 MiB).
void give_freed_memory_back() { ::malloc_trim(0); }

std::optional<int> signal_param(const json& p) {
  auto it = p.find("signal");
  if (it == p.end() || it->is_null()) return std::nullopt;
  std::optional<int> sig;
  if (it->is_number_integer()) {
    sig = process::parse_signal(std::to_string(it->get<std::int64_t>()));
  } else if (it->is_string()) {
    sig = process::parse_signal(it->get<std::string>());
  }
  if (!sig) bad("signal", "a signal name such as \"TERM\" or a number");
  return sig;
}

}  // namespace

std::vector<Service::Resolved> Service::resolve_each(Params p) const {
  auto it = p.find("ids");
  if (it == p.end() || !it->is_array() || it->empty()) {
    if (p.contains("id")) return {{p["id"], resolve(p["id"]), nullptr}};
    throw RpcError(error_code::invalid_params, "invalid params: \"ids\" must be a non-empty list of task ids or names");
  }
  // One reference that names no task is the request's mistake, as before.
  if (it->size() == 1) return {{(*it)[0], resolve((*it)[0]), nullptr}};
  std::vector<Resolved> each;
  for (const auto& ref : *it) {
    try {
      each.push_back({ref, resolve(ref), nullptr});
    } catch (const RpcError& e) {
      each.push_back({ref, nullptr, failure(ref, e.code(), e.what())});
    }
  }
  return each;
}

asio::awaitable<json> Service::kill(Params p) {
  auto each = resolve_each(p);
  const std::optional<int> sig = signal_param(p);
  auto grace = duration_ms(p, "grace_ms");
  json result = json::array();
  if (sig && !grace) {
    // One signal, as kill(1) sends it.
    for (const auto& r : each) {
      if (!r.task) {
        result.push_back(r.error);
        continue;
      }
      const bool ended = r.task->finished();
      const bool sent = !ended && sup_.kill(r.task, *sig);
      result.push_back({{"id", r.task->id()},
                        {"signal_sent", sent},
                        {"already_ended", ended},
                        {"state", to_string(r.task->state())}});
    }
    co_return json{{"tasks", result}};
  }
  // Which tasks had ended is read on the engine's thread, in the same step
  // as the stop is asked for: no front end checks and then acts.
  std::vector<TaskPtr> tasks;
  std::vector<bool> ended;
  for (const auto& r : each) {
    ended.push_back(r.task && r.task->finished());
    if (r.task) tasks.push_back(r.task);
  }
  auto ladder = StopLadder::with_signal(sig.value_or(SIGTERM), grace.value_or(Duration(5000)));
  for (const auto& t : tasks) sup_.stop(t, ladder);
  co_await sup_.async_wait_all(tasks, std::nullopt);
  for (std::size_t i = 0; i < each.size(); ++i) {
    if (!each[i].task) {
      result.push_back(each[i].error);
      continue;
    }
    json task = task_json(each[i].task);
    task["already_ended"] = static_cast<bool>(ended[i]);
    result.push_back(std::move(task));
  }
  co_return json{{"tasks", result}};
}

json Service::remove(Params p) {
  auto each = resolve_each(p);
  json removed = json::array();
  json result = json::array();
  for (const auto& r : each) {
    const TaskPtr& t = r.task;
    if (!t) {
      result.push_back(r.error);
    } else if (!sup_.find(t->id())) {
      result.push_back(failure(r.ref, error_code::no_such_task, fmt::format("no task {}", t->id())));  // named twice
    } else if (!t->finished() && t->state() != TaskState::queued) {
      result.push_back(failure(r.ref, error_code::task_error,
                               fmt::format("task {} is {}; stop it first (tend kill {})", t->id(),
                                           to_string(t->state()), t->id())));
    } else {
      // A queued task has not run: it goes, and the tasks after it fail.
      forget(t);
      removed.push_back(t->id());
      result.push_back({{"id", t->id()}, {"removed", true}});
    }
  }
  if (!removed.empty()) give_freed_memory_back();
  return {{"removed", removed}, {"tasks", result}};
}

json Service::clean(Params p) {
  const bool successful_only = optional<bool>(p, "successful_only").value_or(false);
  auto group = optional<std::string>(p, "group");
  if (group) check_group_known(*group);
  json removed = json::array();
  for (const auto& t : sup_.tasks()) {
    if (!t->finished()) continue;
    if (successful_only && t->state() != TaskState::succeeded) continue;
    if (group && t->spec().group != *group) continue;
    forget(t);
    removed.push_back(t->id());
  }
  give_freed_memory_back();
  return {{"removed", removed}};
}

void Service::forget(const TaskPtr& task) {
  sup_.discard(task);
  if (store_) store_->remove(task->id());
}

}  // namespace tend::rpc
