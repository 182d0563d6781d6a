#include "engine.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "inprocess_runtime.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"
#include "tend/process/process_table.hpp"
#include "tend/process/orphan_reaper.hpp"
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

}  // namespace

Engine::Engine(asio::any_io_executor executor, SupervisorOptions options)
    : executor_(std::move(executor)),
      options_(std::move(options)),
      next_id_(options_.first_id),
      orphan_scan_timer_(std::in_place, executor_) {
  if (!options_.log_dir.empty()) spare_logs_.emplace(options_.log_dir);
  std::random_device rd;
  marker_prefix_ = fmt::format("TEND_TASK={}-{:08x}/", ::getpid(), rd());
}

Engine::~Engine() = default;

void Engine::start() {
  raise_fd_limit();
  // Writing to a task's stdin after it closed it must be an EPIPE, not the
  // death of the whole program; writing a log past the file size limit an
  // EFBIG, not a SIGXFSZ. (Children get default dispositions back.)
  for (int sig : {SIGPIPE, SIGXFSZ}) {
    struct sigaction current {};
    if (::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) ::signal(sig, SIG_IGN);
  }
  if (options_.adopt_orphans) {
    process::become_subreaper();
    child_signals_.emplace(executor_, SIGCHLD);
    auto self = weak_from_this();
    auto on_child = std::make_shared<std::function<void(boost::system::error_code)>>();
    *on_child = [self, weak_handler = std::weak_ptr(on_child)](boost::system::error_code ec) {
      auto engine = self.lock();
      auto handler = weak_handler.lock();
      if (ec || !engine || !handler || engine->closed_ || !engine->child_signals_) return;
      // Most SIGCHLDs are our own tasks' exits, handled through their pidfds.
      // Orphan zombies can wait a moment: scan at most every 50 ms, however
      // many children exit (signals meanwhile are kept by the signal_set).
      engine->orphan_scan_timer_->expires_after(std::chrono::milliseconds(50));
      engine->orphan_scan_timer_->async_wait([self, handler](boost::system::error_code tec) {
        auto e = self.lock();
        if (tec || !e || e->closed_ || !e->child_signals_) return;
        e->scan_orphans();
        e->child_signals_->async_wait([handler](boost::system::error_code err, int) { (*handler)(err); });
      });
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

void Engine::scan_orphans() {
  process::reap_orphans();
  bool any = false;
  for (pid_t pid : process::list_children()) {
    if (process::SpawnedChildren::contains(pid)) continue;
    auto info = process::read_process_info(pid);
    if (!info || info->state == 'Z') continue;
    any = true;
    // An escapee whose task has ended is that task's leftover: it goes too.
    for (const auto& [id, rt] : runtimes_) {
      if (!rt->finalized || !process::environ_contains(pid, rt->marker)) continue;
      if (auto pidfd = process::Pidfd::open(pid)) {
        pidfd->send_signal(SIGTERM);
        auto timer = std::make_shared<asio::steady_timer>(executor_, rt->ladder.steps.front().wait);
        auto pinned = std::make_shared<process::Pidfd>(std::move(*pidfd));
        timer->async_wait([timer, pinned](boost::system::error_code ec) {
          if (!ec) pinned->send_signal(SIGKILL);
        });
      }
    }
  }
  unknown_children_seen_ = any;
}

bool Engine::on_executor_thread() const {
  auto* io = executor_.target<asio::io_context::executor_type>();
  return io && io->running_in_this_thread();
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

void Engine::forget(const TaskPtr& task) {
  if (!task->finished()) throw TaskError(fmt::format("task {} is {}; stop it first", task->id(), to_string(task->state())));
  std::lock_guard lock(tasks_mutex_);
  tasks_.erase(task->id());
}

void Engine::discard(const TaskPtr& task) {
  if (task->state() == TaskState::queued) {
    // It never ran: nothing of it is lost. Its dependents are told why it
    // will not run (release_dependents).
    removed_from_queue_.insert(task->id());
    complete(task, TaskState::killed, std::nullopt, std::nullopt, "removed from the queue before it started");
  }
  forget(task);
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    // A log file exists only with a log_dir, and so with spare_logs_.
    const auto& file = task->output(s).file();
    if (!file.empty()) spare_logs_->retire(file);
  }
  if (!task->order().file().empty()) {
    std::error_code ignored;
    std::filesystem::remove(task->order().file(), ignored);
  }
}

TaskPtr Engine::register_task(TaskSpec spec) {
  if (closed_) throw std::logic_error("tend: the Supervisor is shut down; no new tasks");
  TaskId id;
  {
    std::lock_guard lock(tasks_mutex_);
    id = next_id_++;
  }
  OutputLog::Options out = log_options(id, Stream::stdout_stream, spec),
                     err = log_options(id, Stream::stderr_stream, spec);
  if (spare_logs_) {
    spare_logs_->reuse(out.file);  // an emptied file of a discarded task, if there is one
    spare_logs_->reuse(err.file);
  }
  const TaskLimits limits = spec.kind == TaskKind::coroutine ? TaskLimits{} : limits_for(spec);
  auto task = std::make_shared<Task>(id, std::move(spec), std::move(out), std::move(err));
  TaskControl::update(*task, [&](TaskStatus& st) { st.limits = limits; });
  return task;
}

OutputLog::Options Engine::log_options(TaskId id, Stream stream, const TaskSpec& spec) const {
  OutputLog::Options o;
  o.ring_capacity = options_.ring_capacity;
  if (!options_.log_dir.empty()) {
    o.file = options_.log_dir / fmt::format("{}.{}", id, to_string(stream));
    std::tie(o.limit, o.tail) = spec.effective_log_limit();
  }
  return o;
}

void Engine::complete(const TaskPtr& task, TaskState state, std::optional<int> exit_code, std::optional<int> signal,
                      std::string reason) {
  TaskControl::mark_finished(*task, state, exit_code, signal, std::move(reason), ++finish_seq_);
  task->output(Stream::stdout_stream).close();
  task->output(Stream::stderr_stream).close();
  task->order().close();
  if (has_subscribers()) emit(Event{Event::Kind::exited, task, Stream::stdout_stream, {}, task->status()});
  wake_waiters(task->id());
  on_queued_task_done(task);
}

void Engine::wake_waiters(TaskId id) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  auto timers = std::move(it->second);
  waiters_.erase(it);
  for (auto* timer : timers) timer->cancel();
}

void Engine::wake_idle_waiters() {
  if (!idle()) return;
  for (auto* timer : idle_waiters_) timer->cancel();
}

Subscription Engine::subscribe(EventCallback callback, bool with_output) {
  std::uint64_t id;
  {
    std::lock_guard lock(subscribers_mutex_);
    id = next_subscriber_++;
    subscribers_.push_back({id, std::make_shared<EventCallback>(std::move(callback)), with_output});
    count_subscribers_locked();
  }
  std::weak_ptr<Engine> weak = weak_from_this();
  return Subscription([weak, id] {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->subscribers_mutex_);
    std::erase_if(self->subscribers_, [id](const auto& s) { return s.id == id; });
    self->count_subscribers_locked();
  });
}

void Engine::count_subscribers_locked() {
  subscriber_count_.store(subscribers_.size());
  auto wants_output = [](const Subscriber& s) { return s.with_output; };
  output_subscriber_count_.store(
      static_cast<std::size_t>(std::count_if(subscribers_.begin(), subscribers_.end(), wants_output)));
}

void Engine::emit(const Event& event) {
  std::vector<std::shared_ptr<EventCallback>> callbacks;
  {
    std::lock_guard lock(subscribers_mutex_);
    callbacks.reserve(subscribers_.size());
    const bool output = event.kind == Event::Kind::output;
    for (const auto& s : subscribers_) {
      if (s.with_output || !output) callbacks.push_back(s.callback);
    }
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
    case Event::Kind::stalled: return "stalled";
    case Event::Kind::restarting: return "restarting";
    case Event::Kind::ready: return "ready";
    case Event::Kind::paused: return "paused";
    case Event::Kind::resumed: return "resumed";
  }
  return "event";
}

}  // namespace tend
