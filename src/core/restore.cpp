// Taking tasks up again after a restart: finished ones as they were, queued
// ones queued again, running ones re-adopted when their process still lives.

#include <algorithm>

#include <fmt/format.h>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"
#include "tend/core/pattern.hpp"
#include "tend/process/process_table.hpp"

namespace tend {
namespace {

// A pattern an older tend accepted and this one refuses (a backreference,
// from before patterns were RE2): the task goes on without it, and says so.
void drop_refused_patterns(TaskSpec& spec, TaskStatus& status) {
  auto check = [&](std::optional<std::string>& pattern, const char* what) {
    if (!pattern) return;
    try {
      Pattern compiled(*pattern);
    } catch (const PatternError& e) {
      std::string warning = fmt::format("{} dropped when tend took the task up again: {}", what, e.what());
      if (std::find(status.warnings.begin(), status.warnings.end(), warning) == status.warnings.end()) {
        status.warnings.push_back(std::move(warning));
      }
      pattern.reset();
    }
  };
  check(spec.ready.pattern, "ready pattern");
  check(spec.progress_pattern, "progress pattern");
}

}  // namespace

TaskPtr Engine::restore(TaskSpec spec, TaskStatus recorded) {
  if (closed_) throw std::logic_error("tend: the Supervisor is shut down; no new tasks");
  const TaskId id = recorded.id;
  {
    std::lock_guard lock(tasks_mutex_);
    if (tasks_.count(id)) throw TaskError(fmt::format("task {} exists already", id));
    next_id_ = std::max(next_id_, id + 1);
  }
  const TaskState was = recorded.state;
  if (!is_final(was)) drop_refused_patterns(spec, recorded);
  OutputLog::Options out = log_options(id, Stream::stdout_stream, spec),
                     err = log_options(id, Stream::stderr_stream, spec);
  auto task = std::make_shared<Task>(std::move(recorded), std::move(spec), std::move(out), std::move(err));
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.emplace(id, task);
  }
  if (is_final(was)) {
    // Keeps its recorded state, reason and times; it only takes its place in
    // the order of finishing (for wait_any over restored tasks).
    TaskControl::set_finish_seq(*task, ++finish_seq_);
    return task;
  }
  if (was == TaskState::queued) {
    enqueue(task);
    return task;
  }
  adopt(task);
  return task;
}

void Engine::adopt(const TaskPtr& task) {
  const TaskStatus st = task->status();
  auto info = process::read_process_info(st.pid);
  std::optional<process::Pidfd> pidfd;
  if (st.pid > 0 && info && info->state != 'Z' && info->start_time == st.pid_start_time) {
    pidfd = process::Pidfd::open(st.pid);
  }
  if (!pidfd) {
    complete(task, TaskState::lost, std::nullopt, std::nullopt,
             fmt::format("its process (pid {}) was gone when tend took it up again; how it ended is unknown", st.pid));
    return;
  }
  auto rt = std::make_shared<ProcessRuntime>(executor_, task);
  // Its processes carry the marker of the Supervisor that started it.
  rt->marker = st.marker.empty() ? marker_for(task->id()) : st.marker;
  adopted_any_ = true;
  const TaskSpec& s = task->spec();
  rt->ladder = s.stop.value_or(options_.stop_ladder);
  // Its patterns go on being matched in what it writes from now on (restore
  // dropped any this tend refuses).
  if (s.progress_pattern) rt->progress_pattern.emplace(*s.progress_pattern);
  if (s.ready.pattern) rt->ready_pattern.emplace(*s.ready.pattern);
  rt->ready_pattern_seen = st.ready;
  auto at = std::make_shared<ProcessAttempt>(executor_);
  at->number = st.attempts;
  at->pgid = st.pid;
  at->adopted = true;
  at->started_at = st.started_at.value_or(Clock::now());
  at->pidfd = std::move(*pidfd);
  at->exit_watch.assign(at->pidfd.fd());
  rt->current = at;
  rt->live_attempts.push_back(at);
  // A terminal's PTY died with the old daemon; a piped task's files are still there.
  rt->file_capture = !options_.log_dir.empty() && !(s.kind == TaskKind::terminal && s.use_pty);
  if (rt->file_capture) {
    follow_files(rt);
    catch_up(rt);
  }
  runtimes_.emplace(task->id(), rt);
  TaskControl::update(*task, [](TaskStatus& status) { status.reason = "running (re-adopted after a restart)"; });
  watch_exit(rt, at);
}

}  // namespace tend
