// Stopping tasks: the ladder, single signals, shutdown.

#include <signal.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine.hpp"
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
      bool parent_known = false;
      for (const auto& p : pinned) parent_known = parent_known || p.pid() == info->ppid;
      if (!parent_known && info->ppid != pgid) continue;
    }
    pinned.push_back(std::move(*fd));
  }
  return pinned;
}

}  // namespace

void Engine::stop(const TaskPtr& task, std::optional<StopLadder> ladder, StopCause cause) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end()) return;
  RuntimePtr rt = it->second;
  if (rt->exit) return;  // already gone; leftovers have their own cleanup
  if (!rt->stop_cause) rt->stop_cause = cause;
  if (rt->stopping) return;
  rt->stopping = true;
  asio::co_spawn(executor_, stop_processes(rt, ladder.value_or(rt->ladder)),
                 [self = shared_from_this(), rt](std::exception_ptr error) {
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       spdlog::error("tend: task {}: stopping failed: {}", rt->task->id(), e.what());
                     }
                   }
                   rt->stopping = false;
                   self->release_if_done(rt);
                 });
}

asio::awaitable<void> Engine::stop_processes(RuntimePtr rt, StopLadder ladder) {
  auto self = shared_from_this();
  for (const auto& step : ladder.steps) {
    if (closed_) co_return;
    const bool leader_alive = !rt->exit;
    bool anyone = false;
    if (leader_alive) anyone = rt->pidfd.send_signal_to_group(step.signal);
    // Everything that belongs to the task, including escapees outside the group.
    std::vector<pid_t> pids = process::find_task_processes(rt->pgid, scan_marker(rt));
    std::vector<process::Pidfd> members = pin_members(pids, rt->pgid, rt->marker);
    for (auto& m : members) {
      if (m.pid() == rt->pgid) continue;  // the leader: signalled with its group
      auto info = process::read_process_info(m.pid());
      // Group members already got the signal through the group.
      if (leader_alive && info && info->pgid == rt->pgid) continue;
      anyone = m.send_signal(step.signal) || anyone;
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
      if (m.pid() == rt->pgid || m.has_exited()) continue;
      auto watch = std::make_unique<asio::posix::stream_descriptor>(executor_, m.fd());
      ++gate->remaining;
      watch->async_wait(asio::posix::descriptor_base::wait_read, [gate](boost::system::error_code ec) {
        if (!ec) gate->arrive();
      });
      watches.push_back(std::move(watch));
    }
    if (!rt->exit) {
      ++gate->remaining;
      rt->on_leader_exit.push_back([gate] { gate->arrive(); });
    }
    if (gate->remaining > 0) {
      gate->timer.expires_after(step.wait);
      co_await gate->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    for (auto& watch : watches) {
      watch->cancel();
      watch->release();  // the Pidfd owns the descriptor
    }
    if (rt->exit && gate->remaining == 0) {
      // Everyone we knew of is gone; one more look for stragglers next step.
      if (process::find_task_processes(rt->pgid, scan_marker(rt)).empty()) co_return;
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
  if (it == runtimes_.end() || it->second->exit) return false;
  RuntimePtr rt = it->second;
  rt->requested_signal = signal;
  bool sent = rt->pidfd.send_signal_to_group(signal);
  // Escapees outside the group get it too.
  auto members = pin_members(process::find_task_processes(rt->pgid, scan_marker(rt)), rt->pgid, rt->marker);
  for (auto& m : members) {
    auto info = process::read_process_info(m.pid());
    if (info && info->pgid != rt->pgid) sent = m.send_signal(signal) || sent;
  }
  return sent;
}

asio::awaitable<void> Engine::shutdown() {
  auto self = shared_from_this();
  std::vector<RuntimePtr> live;
  for (const auto& [id, rt] : runtimes_) live.push_back(rt);
  for (const auto& rt : live) stop(rt->task, std::nullopt, StopCause::shutdown);
  if (!runtimes_.empty()) {
    asio::steady_timer idle(executor_, asio::steady_timer::time_point::max());
    idle_waiters_.push_back(&idle);
    co_await idle.async_wait(asio::as_tuple(asio::use_awaitable));
    std::erase(idle_waiters_, &idle);
  }
  closed_ = true;
  child_signals_.reset();
}

void Engine::close_now() {
  if (closed_ && runtimes_.empty()) return;
  closed_ = true;
  std::vector<RuntimePtr> live;
  for (const auto& [id, rt] : runtimes_) live.push_back(rt);
  std::vector<process::Pidfd*> leaders;
  std::vector<RuntimePtr> leader_rts;
  std::vector<process::Pidfd> escaped;
  for (const auto& rt : live) {
    if (!rt->exit) {
      leaders.push_back(&rt->pidfd);
      leader_rts.push_back(rt);
    }
    for (auto& m : pin_members(process::find_task_processes(rt->pgid, rt->marker), rt->pgid, rt->marker)) {
      auto info = process::read_process_info(m.pid());
      if (info && info->pgid != rt->pgid) escaped.push_back(std::move(m));
    }
  }
  std::vector<process::Pidfd*> escaped_ptrs;
  for (auto& e : escaped) escaped_ptrs.push_back(&e);
  StopLadder ladder = options_.stop_ladder;
  auto statuses = process::stop_groups_blocking(leaders, escaped_ptrs, ladder);
  for (std::size_t i = 0; i < leader_rts.size(); ++i) {
    if (statuses[i]) leader_rts[i]->exit = statuses[i];
  }
  for (const auto& rt : live) {
    if (!rt->stop_cause) rt->stop_cause = StopCause::shutdown;
    // Take what output is left, then close everything.
    for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
      auto& d = s == Stream::stdout_stream ? rt->out : rt->err;
      if (!d.is_open()) continue;
      while (true) {
        ssize_t n = ::read(d.native_handle(), read_buffer_.data(), read_buffer_.size());
        if (n <= 0) break;
        try {
          rt->task->output(s).append(std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
        } catch (const std::exception&) {
        }
      }
      rt->task->output(s).close();
      boost::system::error_code ignored;
      d.close(ignored);
    }
    rt->open_streams = 0;
    rt->timeout_timer.cancel();
    rt->drain_timer.cancel();
    if (rt->exit_watch.is_open()) rt->exit_watch.release();
    if (!rt->finalized) {
      if (!rt->exit) {
        rt->finalized = true;
        TaskControl::mark_finished(*rt->task, TaskState::lost, std::nullopt, std::nullopt,
                                   "outlived SIGKILL at shutdown; left unreaped", ++finish_seq_);
      } else {
        finalize(rt);
      }
    }
  }
  runtimes_.clear();
  for (auto& [id, timers] : waiters_) {
    for (auto* t : timers) t->cancel();
  }
  waiters_.clear();
  for (auto* t : idle_waiters_) t->cancel();
  process::reap_orphans();
  child_signals_.reset();
  stop_signals_.reset();
}

}  // namespace tend
