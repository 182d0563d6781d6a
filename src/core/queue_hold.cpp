// What holds a queued task back beyond its dependencies and its group's room,
// as pueue has it: a start time (`--delay`, `--at`), a stash (`--stashed`,
// until released), and the way past both and the group's limit (`tend start`).
// Both live in the task's status (TaskStatus::start_at, ::stashed), so they
// are kept with it and a restored task is held as before.
//
// A delayed task whose dependencies are met waits in `delayed_`, soonest
// first, under one timer armed for the soonest: nothing polls, and the ready
// queue holds only what may start now.

#include <fmt/format.h>

#include "engine.hpp"
#include "task_control.hpp"

namespace tend {

void Engine::make_ready(const TaskPtr& task) {
  const auto start_at = task->status().start_at;
  if (start_at && *start_at > Clock::now()) {
    delayed_.insert(std::make_pair(*start_at, task->id()));
    TaskControl::update(*task, [](TaskStatus& st) { st.reason = "delayed: waits for its start time"; });
    arm_delay_timer();
    return;
  }
  TaskControl::update(*task, [](TaskStatus& st) { st.reason = "queued"; });
  ready_queue_.insert({task->spec().priority, task->id()});
}

bool Engine::take_out_of_queue(const TaskPtr& task, const TaskStatus& status) {
  bool found = ready_queue_.erase({task->spec().priority, task->id()}) != 0;
  if (status.start_at) found = delayed_.erase(std::make_pair(*status.start_at, task->id())) != 0 || found;
  return found;
}

void Engine::arm_delay_timer() {
  if (delayed_.empty() || closed_ || closed_queue_) return;
  const Clock::time_point soonest = delayed_.begin()->first;
  if (delay_timer_at_ == soonest) return;
  if (!delay_timer_) delay_timer_.emplace(executor_);
  delay_timer_at_ = soonest;
  delay_timer_->expires_at(soonest);  // a wait for a later time ends, aborted
  delay_timer_->async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    self->on_delay_timer();
  });
}

void Engine::on_delay_timer() {
  delay_timer_at_.reset();
  const auto now = Clock::now();
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    const TaskId id = delayed_.begin()->second;
    delayed_.erase(delayed_.begin());
    TaskPtr task = find(id);
    if (!task || task->state() != TaskState::queued) continue;
    TaskControl::update(*task, [](TaskStatus& st) { st.reason = "queued"; });
    ready_queue_.insert({task->spec().priority, id});
  }
  arm_delay_timer();
  schedule();
}

void Engine::release(const TaskPtr& task, std::optional<Clock::time_point> start_at) {
  if (task->state() != TaskState::queued) {
    throw TaskError(fmt::format("task {} is {}: only a queued task can be enqueued", task->id(),
                                to_string(task->state())));
  }
  const TaskStatus before = task->status();
  TaskControl::update(*task, [&](TaskStatus& st) {
    st.stashed = false;
    st.start_at = start_at;
  });
  if (before.stashed) {
    enqueue(task);  // its dependencies are looked at now
    return;
  }
  // In the queue already: to its place under the new start time. A task
  // still waiting for dependencies takes it when they are met.
  if (take_out_of_queue(task, before)) make_ready(task);
  schedule();
}

void Engine::start_now(const TaskPtr& task) {
  if (task->state() != TaskState::queued) {
    throw TaskError(fmt::format("task {} is {}: only a queued task can be started", task->id(),
                                to_string(task->state())));
  }
  if (closed_ || closed_queue_) throw TaskError("tend is shutting down: nothing new starts");
  for (TaskId dep : task->spec().after) {
    TaskPtr d = find(dep);
    if (d && !d->finished()) {
      throw TaskError(fmt::format("task {} waits for task {} (--after), which is {}; it starts once that succeeds",
                                  task->id(), dep, to_string(d->state())));
    }
  }
  const TaskStatus before = task->status();
  TaskControl::update(*task, [](TaskStatus& st) {
    st.stashed = false;
    st.start_at.reset();
  });
  // A stashed task's dependencies are looked at now: one that did not
  // succeed fails it here; with room in its group it starts here.
  if (before.stashed) enqueue(task);
  if (task->state() != TaskState::queued) return;
  take_out_of_queue(task, before);
  start_queued(task);
}

}  // namespace tend
