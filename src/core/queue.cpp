// The queue: concurrency limits (global and per group), dependencies and
// priority, as pueue has them, with costs that do not grow with the queue:
// enqueueing is a set insertion; a task waiting for dependencies sits in an
// index keyed by what it waits for, not in the queue scanned at each start.
// A started task holds a worker slot of its group (TEND_WORKER_SLOT) until it ends.

#include <algorithm>

#include <fmt/format.h>

#include "engine.hpp"
#include "task_control.hpp"

namespace tend {

namespace {
const std::string kGlobal;  // the global limit's key
}

TaskPtr Engine::submit(TaskSpec spec) { return submit(std::move(spec), {}); }

TaskPtr Engine::submit(TaskSpec spec, Supervisor::Hold hold) {
  if (spec.kind == TaskKind::coroutine) throw TaskError("a coroutine task is started with spawn(), not submit()");
  for (TaskId dep : spec.after) {
    if (!find(dep)) throw TaskError(fmt::format("no task {} to wait for", dep));
  }
  TaskPtr task = register_task(std::move(spec));
  TaskControl::update(*task, [&](TaskStatus& st) {
    st.stashed = hold.stashed;
    st.start_at = hold.start_at;
  });
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.emplace(task->id(), task);
  }
  enqueue(task);
  return task;
}

void Engine::enqueue(const TaskPtr& task) {
  if (task->status().stashed) {
    // Held out of the queue, its dependencies unlooked at, until released.
    TaskControl::update(*task, [](TaskStatus& st) { st.reason = "stashed: starts once enqueued (tend enqueue)"; });
    return;
  }
  std::size_t unmet = 0;
  for (TaskId dep : task->spec().after) {
    TaskPtr d = find(dep);
    if (!d) {
      complete(task, TaskState::failed, std::nullopt, std::nullopt, fmt::format("dependency {} is unknown", dep));
      return;
    }
    if (!d->finished()) {
      dependents_[dep].push_back(task->id());
      ++unmet;
    } else if (d->state() != TaskState::succeeded) {
      complete(task, TaskState::failed, std::nullopt, std::nullopt,
               fmt::format("dependency {} did not succeed ({})", dep, to_string(d->state())));
      return;
    }
  }
  if (unmet > 0) {
    unmet_dependencies_[task->id()] = unmet;
    TaskControl::update(*task, [&](TaskStatus& st) { st.reason = fmt::format("waiting for {} dependencies", unmet); });
  } else {
    make_ready(task);
  }
  schedule();
}

void Engine::edit(const TaskPtr& task, TaskSpec spec) {
  // queue_running_ says started even before the state does (launch is under way).
  if (task->state() != TaskState::queued || queue_running_.count(task->id()) != 0) {
    throw TaskError(fmt::format("task {} is {}: only a queued task that has not started can be edited", task->id(),
                                to_string(task->state())));
  }
  const TaskSpec& old = task->spec();
  spec.kind = old.kind;
  spec.group = old.group;
  spec.after = old.after;
  const bool in_ready_queue = ready_queue_.erase({old.priority, task->id()}) != 0;
  const int priority = spec.priority;
  TaskControl::replace_spec(*task, std::move(spec));
  if (in_ready_queue) {
    ready_queue_.insert({priority, task->id()});
    schedule();
  }
}

void Engine::set_parallel(const std::string& group, std::size_t limit) {
  groups_[group].limit = limit;
  schedule();
}

std::size_t Engine::parallel(const std::string& group) const {
  auto it = groups_.find(group);
  return it == groups_.end() ? 0 : it->second.limit;
}

void Engine::schedule() {
  if (closed_ || closed_queue_) return;
  GroupState& global = groups_[kGlobal];
  for (auto it = ready_queue_.begin(); it != ready_queue_.end();) {
    if (global.limit != 0 && global.running >= global.limit) return;
    TaskPtr task = find(it->id);
    GroupState& group = groups_[task->spec().group];
    if (group.limit != 0 && group.running >= group.limit) {
      ++it;  // its group is full; a task of another group may still start
      continue;
    }
    it = ready_queue_.erase(it);
    start_queued(task);
  }
}

void Engine::start_queued(const TaskPtr& task) {
  ++groups_[kGlobal].running;
  ++groups_[task->spec().group].running;
  queue_running_.insert(task->id());
  take_worker_slot(task->spec().group, task->id());
  try {
    launch(task);
  } catch (const process::SpawnError& e) {
    fail_to_start(task, e);
  } catch (const std::exception& e) {
    // Started later than asked for, a spawn error is the task's end, not the caller's.
    complete(task, TaskState::failed, std::nullopt, std::nullopt, fmt::format("could not start: {}", e.what()));
  }
}

void Engine::on_queued_task_done(const TaskPtr& task) {
  ends_to_pass_on_.push_back(task);
  if (passing_on_ends_) return;  // the loop below, further up the stack, takes it
  passing_on_ends_ = true;
  struct Reset {
    bool& flag;
    ~Reset() { flag = false; }
  } reset{passing_on_ends_};
  // Scheduling may end tasks too (a queued task that cannot start): theirs
  // join the list, and are passed on before the loop ends.
  do {
    while (!ends_to_pass_on_.empty()) {
      TaskPtr next = std::move(ends_to_pass_on_.front());
      ends_to_pass_on_.pop_front();
      release_dependents(next);
    }
    schedule();
  } while (!ends_to_pass_on_.empty());
}

void Engine::take_worker_slot(const std::string& group, TaskId id) {
  auto& taken = groups_[group].slot_taken;
  auto gap = std::find(taken.begin(), taken.end(), false);
  const std::size_t slot = static_cast<std::size_t>(gap - taken.begin());
  if (gap == taken.end()) {
    taken.push_back(true);
  } else {
    *gap = true;
  }
  worker_slots_[id] = slot;
}

void Engine::free_worker_slot(const std::string& group, TaskId id) {
  auto it = worker_slots_.find(id);
  if (it == worker_slots_.end()) return;
  auto& taken = groups_[group].slot_taken;
  if (it->second < taken.size()) taken[it->second] = false;
  worker_slots_.erase(it);
}

void Engine::release_dependents(const TaskPtr& task) {
  const bool removed = removed_from_queue_.erase(task->id()) != 0;
  if (queue_running_.erase(task->id()) != 0) {
    --groups_[kGlobal].running;
    --groups_[task->spec().group].running;
    free_worker_slot(task->spec().group, task->id());
  } else {
    // Never started: drop it from the queue if it was there.
    take_out_of_queue(task, task->status());
    unmet_dependencies_.erase(task->id());
  }
  auto it = dependents_.find(task->id());
  if (it != dependents_.end()) {
    auto waiting = std::move(it->second);
    dependents_.erase(it);
    const bool ok = task->state() == TaskState::succeeded;
    for (TaskId id : waiting) {
      TaskPtr dependent = find(id);
      if (!dependent || dependent->finished()) continue;
      if (!ok) {
        complete(dependent, TaskState::failed, std::nullopt, std::nullopt,
                 removed ? fmt::format("dependency {} was removed", task->id())
                         : fmt::format("dependency {} did not succeed ({})", task->id(), to_string(task->state())));
        continue;
      }
      if (--unmet_dependencies_[id] == 0) {
        unmet_dependencies_.erase(id);
        make_ready(dependent);
      }
    }
  }
}

}  // namespace tend
