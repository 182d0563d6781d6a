#include "engine.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "process_runtime.hpp"
#include "task_control.hpp"
#include "tend/process/orphan_reaper.hpp"
#include "tend/process/process_table.hpp"
#include "tend/process/signals.hpp"

namespace tend {
namespace {

// Each task can hold four descriptors; the soft limit (often 1024) would cap
// a Supervisor at a few hundred tasks for no reason.
void raise_fd_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string describe_exit(const process::ExitStatus& exit) {
  if (exit.exited()) return fmt::format("exited with code {}", exit.code);
  return fmt::format("terminated by {}{}", process::signal_name(exit.code), exit.core_dumped ? " (core dumped)" : "");
}

}  // namespace

Engine::Engine(asio::any_io_executor executor, SupervisorOptions options)
    : executor_(std::move(executor)), options_(std::move(options)), next_id_(options_.first_id) {
  std::random_device rd;
  marker_prefix_ = fmt::format("TEND_TASK={}-{:08x}/", ::getpid(), rd());
}

Engine::~Engine() = default;

void Engine::start() {
  raise_fd_limit();
  if (options_.adopt_orphans) {
    process::become_subreaper();
    child_signals_.emplace(executor_, SIGCHLD);
    auto self = weak_from_this();
    auto on_child = std::make_shared<std::function<void(boost::system::error_code)>>();
    *on_child = [self, on_child](boost::system::error_code ec) {
      auto engine = self.lock();
      if (ec || !engine || engine->closed_) return;
      process::reap_orphans();
      engine->child_signals_->async_wait([on_child](boost::system::error_code e, int) { (*on_child)(e); });
    };
    child_signals_->async_wait([on_child](boost::system::error_code e, int) { (*on_child)(e); });
  }
  if (options_.handle_signals) {
    stop_signals_.emplace(executor_, SIGINT, SIGTERM);
    stop_signals_->async_wait([self = shared_from_this()](boost::system::error_code ec, int sig) {
      if (ec) return;
      spdlog::info("tend: {} received, stopping every task", process::signal_name(sig));
      asio::co_spawn(self->executor_, self->shutdown(), [self, sig](std::exception_ptr) {
        // Let the signal take its default course, as if we had not been here.
        self->stop_signals_.reset();
        ::signal(sig, SIG_DFL);
        ::raise(sig);
      });
    });
  }
}

bool Engine::on_executor_thread() const {
  return executor_.target<asio::io_context::executor_type>() &&
         executor_.target<asio::io_context::executor_type>()->running_in_this_thread();
}

std::string Engine::marker_for(TaskId id) const { return fmt::format("{}{}", marker_prefix_, id); }

TaskPtr Engine::find(TaskId id) const {
  std::lock_guard lock(tasks_mutex_);
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : it->second;
}

std::vector<TaskPtr> Engine::tasks() const {
  std::vector<TaskPtr> result;
  {
    std::lock_guard lock(tasks_mutex_);
    result.reserve(tasks_.size());
    for (const auto& [id, task] : tasks_) result.push_back(task);
  }
  std::sort(result.begin(), result.end(), [](const TaskPtr& a, const TaskPtr& b) { return a->id() < b->id(); });
  return result;
}

TaskPtr Engine::run(TaskSpec spec) {
  if (closed_) throw std::logic_error("tend: the Supervisor is shut down; no new tasks");
  TaskId id;
  {
    std::lock_guard lock(tasks_mutex_);
    id = next_id_++;
  }
  std::string command = spec.command_line();
  TimeoutDefaults defaults = options_.policy.defaults_for(command);
  std::optional<Duration> timeout = spec.timeout ? (spec.timeout->count() > 0 ? spec.timeout : std::nullopt)
                                                 : defaults.wall;
  auto log_options = [&](Stream s) {
    OutputLog::Options o;
    o.ring_capacity = options_.ring_capacity;
    if (!options_.log_dir.empty()) o.file = options_.log_dir / fmt::format("{}.{}", id, to_string(s));
    return o;
  };
  auto task = std::make_shared<Task>(id, std::move(spec), log_options(Stream::stdout_stream),
                                     log_options(Stream::stderr_stream));
  const TaskSpec& s = task->spec();

  process::SpawnOptions so;
  so.argv = s.argv;
  so.shell_command = s.shell_command;
  so.cwd = s.cwd;
  so.inherit_env = s.inherit_env;
  so.set_env = s.env;
  so.unset_env = s.unset_env;
  std::string marker = marker_for(id);
  auto eq = marker.find('=');
  so.set_env.emplace_back(marker.substr(0, eq), marker.substr(eq + 1));
  so.stdin_mode = s.stdin_mode;
  so.stdin_file = s.stdin_file;
  so.merge_stderr = s.merge_stderr;
  process::SpawnedChild child = process::spawn(so);  // throws SpawnError: nothing is registered yet

  auto rt = std::make_shared<ProcessRuntime>(executor_, task);
  rt->marker = std::move(marker);
  rt->pgid = child.pid;
  rt->pidfd = std::move(child.pidfd);
  rt->stdin_fd = std::move(child.stdin_fd);
  rt->ladder = s.stop.value_or(options_.stop_ladder);
  rt->exit_watch.assign(rt->pidfd.fd());
  process::set_nonblocking(child.stdout_fd.get());
  rt->out.assign(child.stdout_fd.release());
  rt->open_streams = 1;
  if (child.stderr_fd) {
    process::set_nonblocking(child.stderr_fd.get());
    rt->err.assign(child.stderr_fd.release());
    rt->open_streams = 2;
  } else {
    task->output(Stream::stderr_stream).close();
  }
  TaskControl::mark_running(*task, child.pid);
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.emplace(id, task);
  }
  runtimes_.emplace(id, rt);

  if (has_subscribers()) emit(Event{Event::Kind::started, task, Stream::stdout_stream, {}, task->status()});
  watch_exit(rt);
  watch_stream(rt, Stream::stdout_stream);
  if (rt->open_streams == 2) watch_stream(rt, Stream::stderr_stream);
  if (timeout) arm_timeout(rt, *timeout);
  return task;
}

void Engine::watch_exit(const RuntimePtr& rt) {
  rt->exit_watch.async_wait(asio::posix::descriptor_base::wait_read,
                            [self = shared_from_this(), rt](boost::system::error_code ec) {
                              if (ec || self->closed_) return;
                              self->on_exit(rt);
                            });
}

void Engine::on_exit(const RuntimePtr& rt) {
  auto status = rt->pidfd.try_reap();
  if (!status) return watch_exit(rt);  // readable but not yet reapable: look again
  rt->exit = *status;
  rt->exit_watch.release();  // the Pidfd still owns the descriptor
  auto callbacks = std::move(rt->on_leader_exit);
  for (auto& callback : callbacks) callback();
  if (rt->open_streams == 0) return finalize(rt);
  // A descendant may still hold the pipes: give the output a moment, then
  // finish without it (what arrives later is still logged).
  rt->drain_timer.expires_after(options_.drain_grace);
  rt->drain_timer.async_wait([self = shared_from_this(), rt](boost::system::error_code ec) {
    if (!ec && !self->closed_) self->finalize(rt);
  });
}

void Engine::watch_stream(const RuntimePtr& rt, Stream stream) {
  auto& d = stream == Stream::stdout_stream ? rt->out : rt->err;
  d.async_wait(asio::posix::descriptor_base::wait_read,
               [self = shared_from_this(), rt, stream](boost::system::error_code ec) {
                 if (ec || self->closed_) return;
                 self->on_readable(rt, stream);
               });
}

void Engine::on_readable(const RuntimePtr& rt, Stream stream) {
  auto& d = stream == Stream::stdout_stream ? rt->out : rt->err;
  OutputLog& log = rt->task->output(stream);
  // Read what is there, but not forever: other tasks deserve their turn.
  for (int round = 0; round < 16; ++round) {
    ssize_t n = ::read(d.native_handle(), read_buffer_.data(), read_buffer_.size());
    if (n > 0) {
      std::string_view bytes(read_buffer_.data(), static_cast<std::size_t>(n));
      try {
        log.append(bytes);
      } catch (const std::exception& e) {
        // The bytes are still in memory; say once that the file is failing.
        if (!rt->log_error_reported) spdlog::error("tend: task {}: {}", rt->task->id(), e.what());
        rt->log_error_reported = true;
      }
      if (has_subscribers()) emit(Event{Event::Kind::output, rt->task, stream, bytes, {}});
      if (static_cast<std::size_t>(n) < read_buffer_.size()) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // EOF, or an error that ends the stream all the same.
    log.close();
    d.close();
    on_stream_closed(rt);
    return;
  }
  watch_stream(rt, stream);
}

void Engine::on_stream_closed(const RuntimePtr& rt) {
  if (--rt->open_streams > 0) return;
  if (rt->exit && !rt->finalized) {
    rt->drain_timer.cancel();
    return finalize(rt);
  }
  release_if_done(rt);
}

void Engine::arm_timeout(const RuntimePtr& rt, Duration timeout) {
  rt->timeout = timeout;
  rt->timeout_timer.expires_after(timeout);
  rt->timeout_timer.async_wait([self = shared_from_this(), rt](boost::system::error_code ec) {
    if (ec || self->closed_ || rt->exit) return;
    self->stop(rt->task, std::nullopt, StopCause::timeout);
  });
}

void Engine::finalize(const RuntimePtr& rt) {
  if (rt->finalized) return;
  rt->finalized = true;
  rt->timeout_timer.cancel();
  rt->drain_timer.cancel();
  const process::ExitStatus& exit = *rt->exit;
  std::string how = describe_exit(exit);
  TaskState state;
  std::string reason;
  if (rt->stop_cause == StopCause::timeout) {
    state = TaskState::timed_out;
    reason = fmt::format("timed out after {}; stopped ({})", format_duration(rt->timeout), how);
  } else if (rt->stop_cause == StopCause::wait_timeout) {
    state = TaskState::timed_out;
    reason = fmt::format("stopped when a wait timed out ({})", how);
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
    reason = rt->requested_signal ? fmt::format("{} after {} was sent by request", how,
                                                process::signal_name(*rt->requested_signal))
                                  : how;
  }
  std::optional<int> code = exit.exited() ? std::optional<int>(exit.code) : std::nullopt;
  std::optional<int> sig = exit.signaled() ? std::optional<int>(exit.code) : std::nullopt;
  TaskControl::mark_finished(*rt->task, state, code, sig, std::move(reason), ++finish_seq_);
  if (has_subscribers()) emit(Event{Event::Kind::exited, rt->task, Stream::stdout_stream, {}, rt->task->status()});
  wake_waiters(rt->task->id());

  if (closed_) return;
  if (rt->open_streams > 0 || leftovers_exist(rt)) {
    rt->cleanup_running = true;
    asio::co_spawn(executor_, run_cleanup(rt, rt->ladder), asio::detached);
    return;
  }
  release_if_done(rt);
}

bool Engine::leftovers_exist(const RuntimePtr& rt) const {
  if (rt->pidfd.send_signal_to_group(0)) return true;
  if (!options_.adopt_orphans) return false;
  // Escapees that outlived their parents were reparented to us.
  for (pid_t pid : process::list_children()) {
    if (!process::SpawnedChildren::contains(pid) && process::environ_contains(pid, rt->marker)) return true;
  }
  return false;
}

std::string Engine::scan_marker(const RuntimePtr& rt) const {
  // Without adopted orphans, every escapee is still a descendant of a group
  // member and the tree walk finds it; the environment scan is the slow part.
  if (!options_.adopt_orphans) return rt->marker;
  for (pid_t pid : process::list_children()) {
    if (!process::SpawnedChildren::contains(pid)) return rt->marker;
  }
  return {};
}

asio::awaitable<void> Engine::run_cleanup(RuntimePtr rt, StopLadder ladder) {
  auto self = shared_from_this();
  try {
    co_await stop_processes(rt, std::move(ladder));
  } catch (const std::exception& e) {
    spdlog::error("tend: task {}: cleanup failed: {}", rt->task->id(), e.what());
  }
  rt->cleanup_running = false;
  release_if_done(rt);
}

void Engine::release_if_done(const RuntimePtr& rt) {
  if (!rt->finalized || rt->open_streams > 0 || rt->cleanup_running || rt->stopping) return;
  runtimes_.erase(rt->task->id());
  if (runtimes_.empty()) {
    for (auto* timer : idle_waiters_) timer->cancel();
  }
}

void Engine::wake_waiters(TaskId id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  auto timers = std::move(it->second);
  waiters_.erase(it);
  for (auto* timer : timers) timer->cancel();
}

Subscription Engine::subscribe(EventCallback callback) {
  std::uint64_t id;
  {
    std::lock_guard lock(subscribers_mutex_);
    id = next_subscriber_++;
    subscribers_.emplace_back(id, std::make_shared<EventCallback>(std::move(callback)));
    subscriber_count_.store(subscribers_.size());
  }
  std::weak_ptr<Engine> weak = weak_from_this();
  return Subscription([weak, id] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->subscribers_mutex_);
    std::erase_if(self->subscribers_, [id](const auto& s) { return s.first == id; });
    self->subscriber_count_.store(self->subscribers_.size());
  });
}

void Engine::emit(const Event& event) {
  std::vector<std::shared_ptr<EventCallback>> callbacks;
  {
    std::lock_guard lock(subscribers_mutex_);
    callbacks.reserve(subscribers_.size());
    for (const auto& [id, cb] : subscribers_) callbacks.push_back(cb);
  }
  for (const auto& cb : callbacks) {
    try {
      (*cb)(event);
    } catch (const std::exception& e) {
      spdlog::error("tend: an event subscriber threw on {} of task {}: {}", to_string(event.kind), event.task->id(),
                    e.what());
    } catch (...) {
      spdlog::error("tend: an event subscriber threw on {} of task {}", to_string(event.kind), event.task->id());
    }
  }
}

std::string_view to_string(Event::Kind kind) {
  switch (kind) {
    case Event::Kind::started: return "started";
    case Event::Kind::output: return "output";
    case Event::Kind::exited: return "exited";
  }
  return "event";
}

}  // namespace tend
