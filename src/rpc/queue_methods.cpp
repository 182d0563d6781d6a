// Steering the queue: its groups (group.list, group.remove) and what holds a
// queued task back (task.enqueue releases a stashed task or moves its start
// time, task.start starts one now).

#include <map>

#include <fmt/format.h>

#include "params.hpp"
#include "run_request.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/rpc/service.hpp"
#include "task_json.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::rpc {

using namespace params;

namespace {

const std::string kParallelPrefix = "parallel:";

struct GroupCounts {
  bool added = false;     ///< has a limit of its own (group.add, or default)
  bool internal = true;   ///< every task in it is tend's own (until one is not)
  std::size_t running = 0, queued = 0, paused = 0, stashed = 0, delayed = 0;
};

void count_task(GroupCounts& g, const TaskPtr& t) {
  const TaskStatus st = t->status();
  g.running += st.state == TaskState::running;
  g.queued += st.state == TaskState::queued;
  g.paused += st.state == TaskState::running && st.paused;
  g.stashed += st.state == TaskState::queued && st.stashed;
  g.delayed += st.state == TaskState::queued && !st.stashed && st.start_at && *st.start_at > Clock::now();
}


// One answer per reference: `act` on each task found, then `keep` it (the
// store), or why not.
template <class Resolved, class Act, class Keep>
json each_queued(const std::vector<Resolved>& each, Act act, Keep keep) {
  json result = json::array();
  for (const auto& r : each) {
    if (!r.task) {
      result.push_back(r.error);
      continue;
    }
    try {
      act(r.task);
      keep(r.task);
      result.push_back(task_json(r.task));
    } catch (const TaskError& e) {
      result.push_back({{"ref", r.ref}, {"id", r.task->id()}, {"error", {{"code", error_code::task_error}, {"message", e.what()}}}});
    }
  }
  return result;
}

}  // namespace

void Service::check_group_known(const std::string& group) const {
  for (const auto& t : sup_.tasks()) {
    if (t->spec().group == group) return;
  }
  check_group_exists(group);
}

json Service::group_list(Params p) {
  const bool internal = optional<bool>(p, "internal").value_or(false);
  std::map<std::string, GroupCounts> groups;
  groups["default"].added = true;
  if (store_) {
    for (const auto& [key, value] : store_->settings_with_prefix(kParallelPrefix)) {
      std::string name = key.substr(kParallelPrefix.size());
      if (!name.empty()) groups[name].added = true;  // "" is the limit over all groups
    }
  }
  for (const auto& t : sup_.tasks()) {
    if (t->spec().internal && !internal) continue;
    // A finished task of a removed group does not bring it back.
    if (t->finished() && !groups.count(t->spec().group)) continue;
    GroupCounts& g = groups[t->spec().group];
    g.internal = g.internal && t->spec().internal;
    count_task(g, t);
  }
  json list = json::array();
  for (const auto& [name, g] : groups) {
    const bool is_internal = !g.added && g.internal;
    if (is_internal && !internal) continue;
    list.push_back({{"name", name},
                    {"parallel", sup_.parallel(name)},
                    {"running", g.running},
                    {"queued", g.queued},
                    {"paused", g.paused},
                    {"stashed", g.stashed},
                    {"delayed", g.delayed},
                    {"internal", is_internal}});
  }
  return {{"groups", list}, {"parallel", sup_.parallel("")}};
}

json Service::group_remove(Params p) {
  auto name = optional<std::string>(p, "name");
  if (!name || name->empty()) bad("name", "a group name");
  if (*name == "default") {
    throw RpcError(error_code::invalid_params, "the group \"default\" cannot be removed (its limit: tend parallel N)");
  }
  if (!store_ || !store_->setting(kParallelPrefix + *name)) {
    throw RpcError(error_code::invalid_params,
                   fmt::format("no group \"{}\" (tend group ls lists them)", escape_controls(*name)));
  }
  std::vector<TaskId> active;
  for (const auto& t : sup_.tasks()) {
    if (t->spec().group == *name && !t->finished()) active.push_back(t->id());
  }
  if (!active.empty()) {
    throw RpcError(error_code::task_error,
                   fmt::format("the group \"{}\" has {} unfinished task{} ({}): kill or remove them first",
                               escape_controls(*name), active.size(), active.size() == 1 ? "" : "s",
                               fmt::join(active, ", ")));
  }
  store_->remove_setting(kParallelPrefix + *name);
  sup_.set_parallel(*name, 0);
  return {{"removed", *name}};
}

json Service::enqueue(Params p) {
  const auto start_at = decode_start_time(p);
  return {{"tasks", each_queued(resolve_each(p), [&](const TaskPtr& task) { sup_.release(task, start_at); },
                                  [&](const TaskPtr& task) { persist(task); })}};
}

json Service::start(Params p) {
  return {{"tasks", each_queued(resolve_each(p), [&](const TaskPtr& task) { sup_.start_now(task); },
                                  [&](const TaskPtr& task) { persist(task); })}};
}

}  // namespace tend::rpc
