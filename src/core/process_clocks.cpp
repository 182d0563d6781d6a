// A process task's clocks: the wall-clock timeout and the idle (no output,
// no progress) timeout, and pausing, which stops both and the task with them.

#include <signal.h>

#include <fmt/format.h>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"

namespace tend {

void Engine::arm_timeout(const RuntimePtr& rt, Duration left) {
  rt->deadline = std::chrono::steady_clock::now() + left;
  rt->timeout_timer.expires_at(rt->deadline);
  rt->timeout_timer.async_wait([self = shared_from_this(), rt](boost::system::error_code ec) {
    if (ec || self->closed_ || rt->finalized || rt->paused) return;
    self->stop(rt->task, std::nullopt, StopCause::timeout);
  });
}

void Engine::arm_idle(const RuntimePtr& rt) {
  if (rt->idle_timeout.count() <= 0 || rt->finalized || rt->paused || rt->stall_reported) return;
  rt->idle_timer.expires_at(rt->task->progress().last_activity() + rt->idle_timeout);
  rt->idle_timer.async_wait([self = shared_from_this(), rt](boost::system::error_code ec) {
    if (ec || self->closed_ || rt->finalized || rt->paused) return;
    Duration quiet = rt->task->progress().idle_for();
    if (quiet < rt->idle_timeout) return self->arm_idle(rt);  // there was activity since
    rt->stall_reported = true;
    std::string reason = fmt::format("{} for {}", rt->progress_pattern ? "no progress" : "no output",
                                     format_duration(quiet));
    TaskControl::update(*rt->task, [&](TaskStatus& st) { st.stalled = true; });
    if (self->has_subscribers()) {
      TaskStatus status = rt->task->status();
      status.reason = reason;
      self->emit(Event{Event::Kind::stalled, rt->task, Stream::stdout_stream, {}, status});
    }
    if (rt->task->spec().idle_policy == IdlePolicy::stop) self->stop(rt->task, std::nullopt, StopCause::stalled);
  });
}

void Engine::record_activity(const TaskPtr& task) {
  task->progress().record_activity();
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end()) return;
  RuntimePtr rt = it->second;
  if (rt->stall_reported && !rt->stop_cause) {
    rt->stall_reported = false;
    TaskControl::update(*task, [](TaskStatus& st) { st.stalled = false; });
    arm_idle(rt);
  }
}

bool Engine::pause(const TaskPtr& task) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end()) return false;
  RuntimePtr rt = it->second;
  if (rt->finalized || rt->paused || !rt->current || rt->current->exit) return false;
  signal_members(rt, rt->current, SIGSTOP);
  rt->paused = true;
  rt->paused_at = std::chrono::steady_clock::now();
  if (rt->timeout) {
    rt->remaining_at_pause = std::chrono::duration_cast<Duration>(rt->deadline - rt->paused_at);
    rt->timeout_timer.cancel();
  }
  rt->idle_timer.cancel();
  TaskControl::update(*task, [](TaskStatus& st) {
    st.paused = true;
    st.reason = "paused";
  });
  if (has_subscribers()) emit(Event{Event::Kind::paused, task, Stream::stdout_stream, {}, task->status()});
  return true;
}

bool Engine::resume(const TaskPtr& task) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end()) return false;
  RuntimePtr rt = it->second;
  if (rt->finalized || !rt->paused || !rt->current) return false;
  signal_members(rt, rt->current, SIGCONT);
  rt->paused = false;
  auto now = std::chrono::steady_clock::now();
  task->progress().shift(std::chrono::duration_cast<Duration>(now - rt->paused_at));
  if (rt->timeout) arm_timeout(rt, rt->remaining_at_pause);  // what was left of it
  arm_idle(rt);
  TaskControl::update(*task, [](TaskStatus& st) {
    st.paused = false;
    st.reason = "running";
  });
  if (has_subscribers()) emit(Event{Event::Kind::resumed, task, Stream::stdout_stream, {}, task->status()});
  return true;
}

}  // namespace tend
