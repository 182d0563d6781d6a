// Stopping tasks: the ladder, single signals, shutdown.

#include <signal.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine.hpp"
#include "inprocess_runtime.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"
#include "tend/process/orphan_reaper.hpp"
#include "tend/process/process_table.hpp"

namespace tend {
namespace {

// Opens pidfds for `pids`, keeping only processes that still belong to the
// task once the pidfd pins them (a PID may have been reused since the scan).
std::vector<process::Pidfd> pin_members(const std::vector<pid_t>& pids, pid_t pgid, const std::string& marker) {
  std::vector<process::Pidfd> pinned;
  for (pid_t pid : pids) {
    std::optional<process::Pidfd> fd;
    try {
      fd = process::Pidfd::open(pid);
    } catch (const std::exception&) {
      continue;
    }
    if (!fd) continue;
    auto info = process::read_process_info(pid);
    if (!info || info->state == 'Z') continue;
    if (info->pgid != pgid && !process::environ_contains(pid, marker)) {
      // A descendant with a scrubbed environment: accept it if its parent is pinned.
      bool parent_known = info->ppid == pgid;
      for (const auto& p : pinned) parent_known = parent_known || p.pid() == info->ppid;
      if (!parent_known) continue;
    }
    pinned.push_back(std::move(*fd));
  }
  return pinned;
}

bool in_group(pid_t pid, pid_t pgid) {
  auto info = process::read_process_info(pid);
  return info && info->pgid == pgid;
}

// The variable that carries every task's marker ("TEND_TASK=...").
std::string_view marker_variable(const std::string& marker) {
  return std::string_view(marker).substr(0, marker.find('='));
}

}  // namespace

std::shared_ptr<process::ProcessSnapshot> Engine::take_process_snapshot() const {
  auto snapshot = std::make_shared<process::ProcessSnapshot>(process::ProcessSnapshot::take());
  // As subreaper, an escapee is either a descendant of a group member (the
  // tree walk finds it) or reparented to us: the environment scan, the slow
  // part, is needed only when we have live children we did not spawn.
  bool escapees_possible = !options_.adopt_orphans || adopted_any_;
  for (pid_t child : snapshot->children_of(::getpid())) {
    escapees_possible = escapees_possible || !process::SpawnedChildren::contains(child);
  }
  if (escapees_possible) snapshot->read_environment_entries(marker_variable(marker_prefix_));
  return snapshot;
}

std::shared_ptr<const process::ProcessSnapshot> Engine::process_snapshot() {
  if (snapshot_) return snapshot_;
  snapshot_ = take_process_snapshot();
  // Handlers queued from now on may react to events after this reading.
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto self = weak.lock()) self->snapshot_.reset();
  });
  return snapshot_;
}

std::vector<pid_t> Engine::members_in(const process::ProcessSnapshot& snapshot, const RuntimePtr& rt,
                                      const AttemptPtr& at) const {
  return snapshot.task_processes(at->pgid, snapshot.environment_variable() ? std::string_view(rt->marker) : "");
}

void Engine::signal_members(const RuntimePtr& rt, const AttemptPtr& at, int signal) {
  const bool leader_alive = !at->exit;
  if (leader_alive) at->pidfd.send_signal_to_group(signal);
  for (auto& m : pin_members(members_in(*process_snapshot(), rt, at), at->pgid, rt->marker)) {
    // Group members already got it through the group.
    if (m.pid() == at->pgid || (leader_alive && in_group(m.pid(), at->pgid))) continue;
    m.send_signal(signal);
  }
}

void Engine::stop(const TaskPtr& task, std::optional<StopLadder> ladder, StopCause cause) {
  if (auto ip = in_process_.find(task->id()); ip != in_process_.end()) {
    ip->second->cancel(cause);
    return;
  }
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end()) {
    if (task->state() == TaskState::queued) {
      complete(task, TaskState::killed, std::nullopt, std::nullopt,
               cause == StopCause::shutdown ? "never started: shut down first" : "removed from the queue by request");
    }
    return;
  }
  RuntimePtr rt = it->second;
  if (rt->finalized) return;
  if (!rt->stop_cause) rt->stop_cause = cause;
  if (rt->restart_pending) {
    // Between attempts: nothing runs, so the stop is immediate.
    rt->restart_timer.cancel();
    return finalize(rt, rt->current);
  }
  AttemptPtr at = rt->current;
  if (!at || at->exit || at->stopping) return;  // gone already, or a ladder is climbing
  at->stopping = true;
  asio::co_spawn(executor_, stop_processes(rt, at, ladder.value_or(rt->ladder)),
                 [self = shared_from_this(), rt, at](std::exception_ptr error) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       spdlog::error("tend: task {}: stopping failed: {}", rt->task->id(), e.what());
                     }
                   }
                   at->stopping = false;
                   self->release_attempt(rt, at);
                 });
}

asio::awaitable<void> Engine::stop_processes(RuntimePtr rt, AttemptPtr at, StopLadder ladder) {
  auto self = shared_from_this();
  for (const auto& step : ladder.steps) {
    if (closed_) co_return;
    const bool leader_alive = !at->exit;
    bool anyone = false;
    if (leader_alive) anyone = at->pidfd.send_signal_to_group(step.signal);
    // Everything that belongs to the task, including escapees outside the group.
    std::vector<process::Pidfd> members = pin_members(members_in(*process_snapshot(), rt, at), at->pgid, rt->marker);
    for (auto& m : members) {
      if (m.pid() == at->pgid || (leader_alive && in_group(m.pid(), at->pgid))) continue;
      anyone = m.send_signal(step.signal) || anyone;
    }
    // A stopped (paused) process only acts on its signal once continued.
    if (rt->paused && step.signal != SIGKILL) {
      if (leader_alive) at->pidfd.send_signal_to_group(SIGCONT);
      for (auto& m : members) m.send_signal(SIGCONT);
    }
    if (!anyone && !leader_alive && members.empty()) co_return;

    // Wait until the leader and every member have exited, or the step's time is up.
    struct Gate {
      explicit Gate(const asio::any_io_executor& ex) : timer(ex) {}
      asio::steady_timer timer;
      std::size_t remaining = 0;
      void arrive() {
        if (remaining > 0 && --remaining == 0) timer.cancel();
      }
    };
    auto gate = std::make_shared<Gate>(executor_);
    std::vector<std::unique_ptr<asio::posix::stream_descriptor>> watches;
    for (auto& m : members) {
      if (m.pid() == at->pgid || m.has_exited()) continue;
      auto watch = std::make_unique<asio::posix::stream_descriptor>(executor_, m.fd());
      ++gate->remaining;
      watch->async_wait(asio::posix::descriptor_base::wait_read, [gate](boost::system::error_code ec) {
        if (!ec) gate->arrive();
      });
      watches.push_back(std::move(watch));
    }
    if (!at->exit) {
      ++gate->remaining;
      at->on_leader_exit.push_back([gate] { gate->arrive(); });
    }
    if (gate->remaining > 0) {
      gate->timer.expires_after(step.wait);
      co_await gate->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    for (auto& watch : watches) {
      watch->cancel();
      watch->release();  // the Pidfd owns the descriptor
    }
    if (at->exit && gate->remaining == 0 && members_in(*process_snapshot(), rt, at).empty()) {
      co_return;  // everyone is gone
    }
  }
}

asio::awaitable<TaskStatus> Engine::stop_and_wait(TaskPtr task, std::optional<StopLadder> ladder, StopCause cause) {
  auto self = shared_from_this();
  stop(task, std::move(ladder), cause);
  auto status = co_await wait(task, std::nullopt, OnTimeout::keep_running);
  co_return status.value_or(task->status());
}

bool Engine::kill(const TaskPtr& task, int signal) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end() || it->second->finalized || !it->second->current || it->second->current->exit) {
    return false;
  }
  RuntimePtr rt = it->second;
  rt->requested_signal = signal;
  signal_members(rt, rt->current, signal);
  return true;
}

asio::awaitable<void> Engine::shutdown() {
  auto self = shared_from_this();
  std::vector<TaskPtr> live;
  for (const auto& [id, rt] : runtimes_) live.push_back(rt->task);
  for (const auto& [id, ip] : in_process_) live.push_back(ip->task);
  for (const auto& task : tasks()) {
    if (task->state() == TaskState::queued) live.push_back(task);
  }
  closed_queue_ = true;  // nothing new starts while we stop
  if (delay_timer_) delay_timer_->cancel();
  for (const auto& task : live) stop(task, std::nullopt, StopCause::shutdown);
  if (!idle()) {
    asio::steady_timer idle_timer(executor_, asio::steady_timer::time_point::max());
    idle_waiters_.push_back(&idle_timer);
    co_await idle_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(idle_waiters_, &idle_timer);
  }
  closed_ = true;
  child_signals_.reset();
}

void Engine::close_now() {
  if (closed_ && idle()) return;
  closed_ = true;
  std::vector<RuntimePtr> live;
  for (const auto& [id, rt] : runtimes_) live.push_back(rt);
  stop_process_trees_blocking(live);
  for (const auto& rt : live) close_runtime_now(rt);
  runtimes_.clear();
  end_queued_tasks_at_close();
  cancel_in_process_tasks_at_close();
  wake_every_waiter();
  reap_orphans_at_close();
  release_io_objects();
}

void Engine::stop_process_trees_blocking(const std::vector<RuntimePtr>& live) {
  std::vector<process::Pidfd*> leaders;
  std::vector<AttemptPtr> leader_attempts;
  std::vector<process::Pidfd> escaped;
  // One reading for every task; close_now() may run without the event loop,
  // so not the loop's shared one. Every marker is looked for, as before.
  std::optional<process::ProcessSnapshot> snapshot;
  if (!live.empty()) {
    snapshot = process::ProcessSnapshot::take();
    snapshot->read_environment_entries(marker_variable(marker_prefix_));
  }
  for (const auto& rt : live) {
    for (const auto& at : rt->live_attempts) {
      // A re-adopted leader is not our child: it is signalled, not reaped.
      if (!at->exit && !at->adopted) {
        leaders.push_back(&at->pidfd);
        leader_attempts.push_back(at);
      }
      for (auto& m : pin_members(snapshot->task_processes(at->pgid, rt->marker), at->pgid, rt->marker)) {
        if (at->adopted || !in_group(m.pid(), at->pgid)) escaped.push_back(std::move(m));
      }
    }
  }
  std::vector<process::Pidfd*> escaped_ptrs;
  for (auto& e : escaped) escaped_ptrs.push_back(&e);
  auto statuses = process::stop_groups_blocking(leaders, escaped_ptrs, options_.stop_ladder);
  for (std::size_t i = 0; i < leader_attempts.size(); ++i) {
    if (statuses[i]) leader_attempts[i]->exit = statuses[i];
  }
}

void Engine::close_runtime_now(const RuntimePtr& rt) {
  if (!rt->stop_cause) rt->stop_cause = StopCause::shutdown;
  for (const auto& at : rt->live_attempts) drain_and_close_attempt(rt, at);
  rt->timeout_timer.cancel();
  rt->idle_timer.cancel();
  rt->restart_timer.cancel();
  boost::system::error_code ignored;
  rt->input.close(ignored);
  if (rt->file_capture) {
    catch_up(rt);
    unfollow_files(rt);
  }
  if (rt->finalized) return;
  if (rt->current && rt->current->adopted && !rt->current->exit) {
    rt->current->exit = process::ExitStatus::from_exit(0);
    rt->current->exit_unknown = true;
  }
  if (rt->current && rt->current->exit) {
    finalize(rt, rt->current);
  } else {
    rt->finalized = true;
    complete(rt->task, TaskState::lost, std::nullopt, std::nullopt, "outlived SIGKILL at shutdown; left unreaped");
  }
}

void Engine::drain_and_close_attempt(const RuntimePtr& rt, const AttemptPtr& at) {
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    auto& d = s == Stream::stdout_stream ? at->out : at->err;
    if (!d.is_open()) continue;
    while (true) {
      ssize_t n = ::read(d.native_handle(), read_buffer_.data(), read_buffer_.size());
      if (n <= 0) break;
      try {
        rt->task->output(s).append(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
      } catch (const std::exception&) {
      }
    }
    boost::system::error_code ignored;
    d.close(ignored);
  }
  at->open_streams = 0;
  at->drain_timer.cancel();
  if (at->exit_watch.is_open()) at->exit_watch.release();
}

void Engine::end_queued_tasks_at_close() {
  for (const auto& task : tasks()) {
    if (task->state() == TaskState::queued) {
      complete(task, TaskState::killed, std::nullopt, std::nullopt, "never started: shut down first");
    }
  }
}

void Engine::cancel_in_process_tasks_at_close() {
  // Ask them to stop; a thread is joined by its runtime.
  auto in_process = std::move(in_process_);
  in_process_.clear();
  for (auto& [id, ip] : in_process) {
    ip->abandon(*this);
    if (!ip->task->finished()) {
      complete(ip->task, TaskState::cancelled, std::nullopt, std::nullopt, "cancelled at shutdown");
    }
  }
}

void Engine::wake_every_waiter() {
  for (auto& [id, timers] : waiters_) {
    for (auto* t : timers) t->cancel();
  }
  waiters_.clear();
  for (auto* t : idle_waiters_) t->cancel();
}

void Engine::reap_orphans_at_close() {
  // Escapees KILLed by the last stops may still be dying: reap them too, as
  // subreaper only. Without adopting, every child we did not spawn is the
  // host's own (an escapee goes to init): not ours to wait for, or we would
  // take its exit status from the host (subprocess.run in a Python host).
  if (options_.adopt_orphans) process::reap_orphans_within(std::chrono::milliseconds(1000));
}

void Engine::release_io_objects() {
  // No I/O object may outlive close_now(): the io_context may go right after.
  orphan_scan_timer_.reset();
  delay_timer_.reset();
  child_signals_.reset();
  stop_signals_.reset();
  followed_.clear();
  inotify_.reset();
}

}  // namespace tend
