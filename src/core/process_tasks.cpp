// A process task's life: launching it, its attempts (one, or more with
// restarts), and how it ends. Its output is read in process_output.cpp (or
// followed in direct_files.cpp), its clocks and pausing are in
// process_clocks.cpp, its input in process_input.cpp.

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"
#include "tend/process/orphan_reaper.hpp"
#include "tend/process/process_table.hpp"
#include "tend/process/signals.hpp"

namespace tend {

std::optional<unsigned short> find_free_port();  // readiness.cpp

namespace {

std::string describe_exit(const process::ExitStatus& exit) {
  if (exit.exited()) return fmt::format("exited with code {}", exit.code);
  return fmt::format("terminated by {}{}", process::signal_name(exit.code), exit.core_dumped ? " (core dumped)" : "");
}

std::string describe_end(const ProcessAttempt& at) {
  if (at.start_failure) return fmt::format("could not start: {}", *at.start_failure);
  return describe_exit(*at.exit);
}

std::optional<Pattern> compile_pattern(const std::optional<std::string>& pattern, const char* what) {
  if (!pattern) return std::nullopt;
  try {
    return Pattern(*pattern);
  } catch (const PatternError& e) {
    throw TaskError(fmt::format("invalid {}: {}", what, e.what()));
  }
}

// What the spec asked for (zero: none); else the policy's, if it applies.
Limit limit_of(const std::optional<Duration>& asked, const std::optional<Duration>& by_policy, bool policy_on) {
  if (asked) return {asked->count() > 0 ? asked : std::nullopt, LimitSource::given};
  if (policy_on) return {by_policy, LimitSource::policy};
  return {std::nullopt, LimitSource::none};
}

}  // namespace

TaskLimits Engine::limits_for(const TaskSpec& s) const {
  TimeoutDefaults defaults;
  if (s.command_policy) defaults = options_.policy.defaults_for(s.command_line());
  return {limit_of(s.timeout, defaults.wall, s.command_policy), limit_of(s.idle_timeout, defaults.idle, s.command_policy)};
}

void Engine::fail_to_start(const TaskPtr& task, const process::SpawnError& error) {
  TaskControl::update(*task, [&](TaskStatus& st) { st.start_failure = error.what(); });
  complete(task, TaskState::failed, error.shell_exit_code(), std::nullopt, fmt::format("could not start: {}", error.what()));
}

TaskPtr Engine::run(TaskSpec spec) {
  if (spec.kind == TaskKind::coroutine) throw TaskError("a coroutine task is started with spawn(), not run()");
  TaskPtr task = register_task(std::move(spec));
  launch(task);  // throws: nothing is registered yet
  std::lock_guard lock(tasks_mutex_);
  tasks_.emplace(task->id(), task);
  return task;
}

void Engine::launch(const TaskPtr& task) {
  const TaskSpec& s = task->spec();
  auto rt = std::make_shared<ProcessRuntime>(executor_, task);
  rt->marker = marker_for(task->id());
  TaskControl::update(*task, [&](TaskStatus& st) { st.marker = rt->marker; });
  rt->ladder = s.stop.value_or(options_.stop_ladder);
  const TaskLimits limits = limits_for(s);  // again: a task queued by an older tend has none recorded
  TaskControl::update(*task, [&](TaskStatus& st) { st.limits = limits; });
  rt->timeout = limits.wall.value;
  rt->idle_timeout = limits.idle.value.value_or(Duration(0));
  task->progress().set_timeout(rt->idle_timeout);
  rt->progress_pattern = compile_pattern(s.progress_pattern, "progress pattern");
  rt->ready_pattern = compile_pattern(s.ready.pattern, "ready pattern");
  rt->next_delay = s.restart.initial_delay;
  if (s.allocate_port) {
    rt->port = find_free_port();
    if (!rt->port) throw TaskError("no free localhost port to hand out in $PORT");
    TaskControl::update(*task, [&](TaskStatus& st) { st.port = rt->port; });
  }

  try {
    start_attempt(rt);  // throws SpawnError
  } catch (...) {
    unfollow_files(rt);  // nothing else knows of this runtime yet
    throw;
  }
  runtimes_.emplace(task->id(), rt);
  if (rt->timeout) arm_timeout(rt, *rt->timeout);
  arm_idle(rt);
}

void Engine::start_attempt(const RuntimePtr& rt) {
  process::SpawnedChild child = process::spawn(spawn_options_for(rt));  // throws SpawnError
  auto at = std::make_shared<ProcessAttempt>(executor_);
  at->number = rt->task->status().attempts + 1;
  at->pgid = child.pid;
  at->started_at = Clock::now();
  at->pidfd = std::move(child.pidfd);
  at->exec = std::move(child.exec);
  at->exit_watch.assign(at->pidfd.fd());
  take_child_streams(rt, *at, child);
  rt->current = at;
  rt->live_attempts.push_back(at);
  rt->recent_starts.push_back(std::chrono::steady_clock::now());
  // Its identity (pid and start time) lets a later Supervisor take it up
  // again; only a task writing its own log files outlives us to be taken up,
  // and reading /proc costs as much as a quarter of a short task's spawn.
  std::uint64_t start_time = 0;
  if (rt->file_capture) {
    auto info = process::read_process_info(child.pid);
    start_time = info ? info->start_time : 0;
  }
  TaskControl::mark_running(*rt->task, child.pid, start_time);
  rt->task->progress().record_activity();

  if (has_subscribers()) emit(Event{Event::Kind::started, rt->task, Stream::stdout_stream, {}, rt->task->status()});
  watch_exit(rt, at);
  if (at->open_streams >= 1) watch_stream(rt, at, Stream::stdout_stream);
  if (at->open_streams == 2) watch_stream(rt, at, Stream::stderr_stream);
}

void Engine::add_worker_environment(process::SpawnOptions& so, TaskId id, const std::string& group) const {
  // Ours, not the caller's: a task started from inside a task brings that
  // one's values in its environment.
  const std::array<std::string, 3> names = {"TEND_TASK_ID", "TEND_GROUP", "TEND_WORKER_SLOT"};
  std::erase_if(so.set_env, [&](const auto& kv) { return std::find(names.begin(), names.end(), kv.first) != names.end(); });
  so.set_env.emplace_back(names[0], std::to_string(id));
  so.set_env.emplace_back(names[1], group);
  // The slot within its group's limit, while the queue started it; run()
  // starts a task outside any limit.
  if (auto slot = worker_slots_.find(id); slot != worker_slots_.end()) {
    so.set_env.emplace_back(names[2], std::to_string(slot->second));
  } else {
    so.unset_env.push_back(names[2]);
  }
}

process::SpawnOptions Engine::spawn_options_for(const RuntimePtr& rt) {
  const TaskSpec& s = rt->task->spec();
  process::SpawnOptions so;
  so.argv = s.argv;
  so.shell_command = s.shell_command;
  so.cwd = s.cwd;
  so.inherit_env = s.inherit_env;
  so.set_env = s.env;
  so.unset_env = s.unset_env;
  auto eq = rt->marker.find('=');
  so.set_env.emplace_back(rt->marker.substr(0, eq), rt->marker.substr(eq + 1));
  if (rt->port) so.set_env.emplace_back("PORT", std::to_string(*rt->port));
  add_worker_environment(so, rt->task->id(), s.group);
  so.stdin_mode = s.stdin_mode;
  so.stdin_file = s.stdin_file;
  so.merge_stderr = s.merge_stderr;
  if (s.kind == TaskKind::terminal && s.use_pty) so.terminal = s.terminal;
  // The loop goes on while the child makes its way to its exec; a failure
  // there is this attempt's end, told at its exit.
  so.wait_for_exec = false;
  rt->file_capture = options_.direct_output_files && !options_.log_dir.empty() && !so.terminal;
  if (rt->file_capture) {
    // The descriptors we follow the files with are the ones the task writes
    // to: one open per stream instead of two.
    if (!rt->tail_fds[0]) follow_files(rt);
    so.stdout_to = rt->tail_fds[0].get();
    so.stderr_to = rt->tail_fds[1].get();
    if (so.stdout_to < 0) so.stdout_file = rt->task->output(Stream::stdout_stream).file();
    if (so.stderr_to < 0 && !s.merge_stderr) so.stderr_file = rt->task->output(Stream::stderr_stream).file();
  }
  return so;
}

void Engine::take_child_streams(const RuntimePtr& rt, ProcessAttempt& at, process::SpawnedChild& child) {
  if (rt->file_capture) {
    at.open_streams = 0;  // nothing to read from: the task writes the files itself
  } else if (child.pty_master) {
    at.pty = true;
    process::set_nonblocking(child.pty_master.get());
    at.out.assign(child.pty_master.release());
    at.open_streams = 1;
  } else {
    process::set_nonblocking(child.stdout_fd.get());
    at.out.assign(child.stdout_fd.release());
    at.open_streams = 1;
    if (child.stderr_fd) {
      process::set_nonblocking(child.stderr_fd.get());
      at.err.assign(child.stderr_fd.release());
      at.open_streams = 2;
    }
  }
  // Whoever reads the output, an open stdin is ours to write (tend send).
  if (child.stdin_fd) {
    boost::system::error_code ignored;
    rt->input.close(ignored);
    process::set_nonblocking(child.stdin_fd.get());
    rt->input.assign(child.stdin_fd.release());
    rt->pending_input.clear();
    rt->close_input_after_write = false;
  }
}

void Engine::watch_exit(const RuntimePtr& rt, const AttemptPtr& at) {
  at->exit_watch.async_wait(asio::posix::descriptor_base::wait_read,
                            [self = shared_from_this(), rt, at](boost::system::error_code ec) {
                              if (ec || self->closed_) return;
                              self->on_exit(rt, at);
                            });
}

void Engine::on_exit(const RuntimePtr& rt, const AttemptPtr& at) {
  std::optional<process::ExitStatus> status;
  if (at->adopted) {
    // Not our child: it has exited (the pidfd says so) but waitid cannot tell how.
    at->exit_unknown = true;
    status = process::ExitStatus::from_exit(0);
  } else {
    status = at->pidfd.try_reap();
    if (!status) return watch_exit(rt, at);  // readable but not yet reapable: look again
  }
  at->exit = *status;
  if (auto failure = at->exec.failure()) {
    at->start_failure = failure->what();
    TaskControl::update(*rt->task, [&](TaskStatus& st) { st.start_failure = failure->what(); });
  }
  at->exit_watch.release();  // the Pidfd still owns the descriptor
  if (rt->file_capture) {
    catch_up(rt);  // everything it wrote, before it is declared ended
    check_disk_space(rt);
  }
  auto callbacks = std::move(at->on_leader_exit);
  for (auto& callback : callbacks) callback();
  if (at->open_streams == 0) return end_attempt(rt, at);
  // A descendant may still hold the pipes: give the output a moment, then
  // end without it (what arrives later is still logged).
  at->drain_timer.expires_after(options_.drain_grace);
  at->drain_timer.async_wait([self = shared_from_this(), rt, at](boost::system::error_code ec) {
    if (!ec && !self->closed_) self->end_attempt(rt, at);
  });
}

void Engine::end_attempt(const RuntimePtr& rt, const AttemptPtr& at) {
  if (at->ended) return;
  at->ended = true;
  at->drain_timer.cancel();
  const process::ExitStatus& exit = *at->exit;
  if (at->exit_unknown) {
    TaskControl::add_attempt(*rt->task, Task::Attempt{at->number, at->pgid, at->started_at, Clock::now(),
                                                      std::nullopt, std::nullopt, "ended; exit status unknown"});
  } else {
    TaskControl::add_attempt(*rt->task, Task::Attempt{at->number, at->pgid, at->started_at, Clock::now(),
                                                      exit.exited() ? std::optional<int>(exit.code) : std::nullopt,
                                                      exit.signaled() ? std::optional<int>(exit.code) : std::nullopt,
                                                      describe_end(*at)});
  }
  if (!closed_ && (at->open_streams > 0 || leftovers_exist(rt, at))) {
    at->cleanup_running = true;
    asio::co_spawn(executor_, stop_processes(rt, at, rt->ladder),
                   [self = shared_from_this(), rt, at](std::exception_ptr) {
                     at->cleanup_running = false;
                     self->release_attempt(rt, at);
                   });
  }
  if (rt->current == at && !rt->finalized) {
    // A program that could not be started will not start on a retry either
    // (ENOEXEC, a missing interpreter): no restarts, its reason as it is.
    if (!at->exit_unknown && !at->start_failure && should_restart(rt, exit)) {
      Duration delay = rt->next_delay;
      rt->next_delay = std::min(rt->task->spec().restart.max_delay, rt->next_delay * 2);
      rt->restart_pending = true;
      std::string reason = fmt::format("{}; restarting in {} (attempt {})", describe_end(*at),
                                       format_duration(delay), at->number + 1);
      TaskControl::update(*rt->task, [&](TaskStatus& st) { st.reason = reason; });
      if (has_subscribers()) {
        emit(Event{Event::Kind::restarting, rt->task, Stream::stdout_stream, {}, rt->task->status()});
      }
      rt->restart_timer.expires_after(delay);
      rt->restart_timer.async_wait([self = shared_from_this(), rt](boost::system::error_code ec) {
        if (ec || self->closed_ || !rt->restart_pending) return;
        rt->restart_pending = false;
        try {
          self->start_attempt(rt);
        } catch (const std::exception& e) {
          rt->finalized = true;
          self->complete(rt->task, TaskState::failed, std::nullopt, std::nullopt,
                         fmt::format("could not restart: {}", e.what()));
          self->release_if_done(rt);
        }
      });
    } else {
      finalize(rt, at);
    }
  }
  release_attempt(rt, at);
}

bool Engine::should_restart(const RuntimePtr& rt, const process::ExitStatus& exit) {
  const RestartOptions& r = rt->task->spec().restart;
  if (closed_ || rt->stop_cause || r.policy == RestartPolicy::no) return false;
  if (r.policy == RestartPolicy::on_failure && exit.success()) return false;
  auto now = std::chrono::steady_clock::now();
  std::erase_if(rt->recent_starts, [&](auto t) { return now - t > r.interval; });
  return static_cast<int>(rt->recent_starts.size()) < r.burst;
}

void Engine::finalize(const RuntimePtr& rt, const AttemptPtr& at) {
  if (rt->finalized) return;
  rt->finalized = true;
  rt->restart_pending = false;
  rt->timeout_timer.cancel();
  rt->idle_timer.cancel();
  rt->restart_timer.cancel();
  const process::ExitStatus& exit = *at->exit;
  std::string how = describe_end(*at);
  const RestartOptions& restart = rt->task->spec().restart;
  if (restart.policy != RestartPolicy::no && !rt->stop_cause && !closed_ && !at->start_failure &&
      !(restart.policy == RestartPolicy::on_failure && exit.success())) {
    how += fmt::format("; gave up after {} starts within {} (crash loop)", rt->recent_starts.size(),
                       format_duration(restart.interval));
  }
  TaskState state;
  std::string reason;
  if (at->exit_unknown) {
    // Re-adopted after a restart: we saw it end, but not how.
    how = "exit status unknown: it was re-adopted after a restart and is not tend's child";
    state = rt->stop_cause ? (rt->stop_cause == StopCause::timeout ? TaskState::timed_out : TaskState::killed)
                           : TaskState::lost;
    reason = rt->stop_cause ? fmt::format("stopped ({})", how) : fmt::format("ended ({})", how);
    TaskControl::update(*rt->task, [](TaskStatus& st) { st.paused = false; });
    complete(rt->task, state, std::nullopt, std::nullopt, std::move(reason));
    release_if_done(rt);
    return;
  }
  if (rt->stop_cause == StopCause::timeout) {
    state = TaskState::timed_out;
    reason = fmt::format("timed out after {}; stopped ({})", format_duration(*rt->timeout), how);
  } else if (rt->stop_cause == StopCause::wait_timeout) {
    state = TaskState::timed_out;
    reason = fmt::format("stopped when a wait timed out ({})", how);
  } else if (rt->stop_cause == StopCause::stalled) {
    state = TaskState::stalled;
    reason = fmt::format("{} for {}; stopped ({})", rt->progress_pattern ? "no progress" : "no output",
                         format_duration(rt->idle_timeout), how);
  } else if (rt->stop_cause == StopCause::shutdown) {
    state = TaskState::killed;
    reason = fmt::format("stopped at shutdown ({})", how);
  } else if (rt->stop_cause == StopCause::request) {
    state = TaskState::killed;
    reason = fmt::format("stopped by request ({})", how);
  } else if (rt->requested_signal && exit.signaled() && exit.code == *rt->requested_signal) {
    state = TaskState::killed;
    reason = fmt::format("killed by request ({})", how);
  } else if (exit.success()) {
    state = TaskState::succeeded;
    reason = how;
  } else {
    state = TaskState::failed;
    reason = rt->requested_signal
                 ? fmt::format("{} after {} was sent by request", how, process::signal_name(*rt->requested_signal))
                 : how;
  }
  TaskControl::update(*rt->task, [](TaskStatus& st) { st.paused = false; });
  complete(rt->task, state, exit.exited() ? std::optional<int>(exit.code) : std::nullopt,
           exit.signaled() ? std::optional<int>(exit.code) : std::nullopt, std::move(reason));
  if (!rt->writing) {
    boost::system::error_code ignored;
    rt->input.close(ignored);
  }
  release_if_done(rt);
}

void Engine::release_attempt(const RuntimePtr& rt, const AttemptPtr& at) {
  if (at->released || !at->ended || at->open_streams > 0 || at->cleanup_running || at->stopping) return;
  at->released = true;
  std::erase(rt->live_attempts, at);
  release_if_done(rt);
}

void Engine::release_if_done(const RuntimePtr& rt) {
  if (!rt->finalized || !rt->live_attempts.empty() || rt->writing) return;
  if (rt->file_capture) {
    catch_up(rt);
    unfollow_files(rt);
  }
  runtimes_.erase(rt->task->id());
  wake_idle_waiters();
}

bool Engine::leftovers_exist(const RuntimePtr& rt, const AttemptPtr& at) const {
  if (at->pidfd.send_signal_to_group(0)) return true;
  // Escapees reparented to us: only worth a look when the last orphan scan
  // saw any; one that arrives unseen is caught by the next scan (at most
  // 50 ms after this exit's SIGCHLD), which stops it as this task's leftover.
  if (!options_.adopt_orphans || !unknown_children_seen_) return false;
  // Escapees that outlived their parents were reparented to us.
  for (pid_t pid : process::list_children()) {
    if (!process::SpawnedChildren::contains(pid) && process::environ_contains(pid, rt->marker)) return true;
  }
  return false;
}

}  // namespace tend
