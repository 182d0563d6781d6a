// A worker's life, on its own thread task, in steps: a slot (take_slot), a
// workspace (open_workspace), setup (run_setup), the agent (start_agent), then
// its leftovers committed and its result recorded (collect_result).

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>
#include <stop_token>

#include "manager_entry.hpp"
#include "tend/agents/secrets.hpp"

namespace tend::agents {

namespace fs = std::filesystem;

namespace {

// A worker that ends without its agent having run to an end of its own.
class WorkerStopped : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last `lines` lines of the task's output (stdout, then stderr).
std::string output_tail(const Task& task, std::size_t lines = 20) {
  std::string text = task.output(Stream::stdout_stream).tail(8192);
  std::string err = task.output(Stream::stderr_stream).tail(4096);
  if (!err.empty()) text += (text.empty() || text.back() == '\n' ? "" : "\n") + err;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  std::size_t pos = text.size();
  for (std::size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? text : text.substr(pos + 1);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Where a worker's ticket is written for the agent, and where the agent may
// write its result.
struct TicketFiles {
  fs::path ticket;
  fs::path result;
};

TicketFiles ticket_files(const fs::path& work_dir, const std::string& id) {
  const fs::path dir = work_dir / "tickets" / id;
  return {dir / "ticket.md", dir / "result.md"};
}

// The environment a worker's tasks get: the spec's variables, without
// secrets when asked (also removing those this process would pass on).
void apply_env(const WorkerSpec& worker, TaskSpec& task) {
  task.env.insert(task.env.end(), worker.env.begin(), worker.env.end());
  if (!worker.scrub_secrets) return;
  scrub_secrets(task.env, worker.keep_env);
  for (auto& name : secret_names_in_environment(worker.keep_env)) task.unset_env.push_back(std::move(name));
}

// Runs a task to its end, stopping it (with its ladder) if the worker is asked to stop.
TaskStatus run_to_end(Supervisor& sup, const TaskPtr& task, const std::stop_token& stop) {
  std::stop_callback on_stop(stop, [&sup, task] { sup.stop(task); });
  return *sup.wait(task);
}

}  // namespace

void Manager::run_worker(const std::shared_ptr<Entry>& e, TaskContext& ctx) {
  const auto started = std::chrono::steady_clock::now();
  WorkerResult result;
  result.ticket_id = e->ticket.id;
  std::optional<WorkerOutcome> outcome;  // a coroutine worker's own word, kept past its task
  bool holds_slot = false;
  try {
    take_slot(ctx);
    holds_slot = true;
    Workspace ws = open_workspace(e, result);
    run_setup(e, ws, ctx);
    TaskPtr agent = start_agent(e, ws, outcome);
    TaskStatus status = run_to_end(sup_, agent, ctx.stop_token());
    collect_result(e, ws, *agent, status, outcome, ctx.stop_requested(), result);
  } catch (const WorkerStopped& err) {
    result.status = TicketStatus::cancelled;
    result.summary = err.what();
    result.reason = err.what();
  } catch (const std::exception& err) {
    result.status = ctx.stop_requested() ? TicketStatus::cancelled : TicketStatus::failed;
    result.summary = err.what();
    result.reason = ctx.stop_requested() ? "cancelled" : first_line(err.what());
  }
  if (holds_slot) {
    std::lock_guard lock(mutex_);
    --running_;
  }
  slot_freed_.notify_all();
  result.duration = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started);
  finish(e, result);
  // The worker's task ends as its ticket did: cancelled, failed or succeeded.
  if (result.status == TicketStatus::cancelled) throw WorkerStopped("cancelled");
  if (!result.success) throw std::runtime_error(first_line(result.summary));
}

void Manager::take_slot(TaskContext& ctx) {
  std::unique_lock lock(mutex_);
  if (options_.max_running > 0) {
    slot_freed_.wait(lock, ctx.stop_token(), [this] { return running_ < options_.max_running; });
  }
  if (ctx.stop_requested()) throw WorkerStopped("cancelled before it started");
  ++running_;
}

Workspace Manager::open_workspace(const std::shared_ptr<Entry>& e, WorkerResult& result) {
  Workspace ws = e->git->create(e->ticket.id, e->spec.base);
  {
    std::lock_guard lock(mutex_);
    e->workspace = ws;
  }
  result.branch = ws.branch;
  result.worktree = ws.path;
  e->git->copy_files(ws, e->spec.copy_files);
  set_status(e, TicketStatus::in_progress);
  return ws;
}

void Manager::run_setup(const std::shared_ptr<Entry>& e, const Workspace& ws, TaskContext& ctx) {
  if (!e->spec.setup) return;
  const std::string& id = e->ticket.id;
  TaskSpec setup = TaskSpec::shell(*e->spec.setup);
  setup.name = "setup-" + id;
  setup.owner = "ticket " + id;
  setup.internal = true;
  setup.cwd = ws.path;
  apply_env(e->spec, setup);
  setup.timeout = e->spec.setup_timeout.value_or(options_.setup_timeout);
  TaskPtr task = sup_.run(std::move(setup));
  TaskStatus status = run_to_end(sup_, task, ctx.stop_token());
  if (ctx.stop_requested()) throw WorkerStopped("cancelled during setup");
  if (status.state != TaskState::succeeded) {
    throw std::runtime_error(fmt::format("setup command `{}` {}: {}", *e->spec.setup, status.reason,
                                         output_tail(*task, 5)));
  }
}

TaskPtr Manager::start_agent(const std::shared_ptr<Entry>& e, const Workspace& ws,
                             std::optional<WorkerOutcome>& outcome) {
  const std::string& id = e->ticket.id;
  const TicketFiles files = ticket_files(options_.work_dir, id);
  fs::create_directories(files.ticket.parent_path());
  std::ofstream(files.ticket, std::ios::binary | std::ios::trunc) << e->ticket.to_prompt();
  fs::remove(files.result);

  const Duration timeout = e->spec.timeout.value_or(options_.agent_timeout);
  TaskPtr agent;
  if (!e->spec.command.empty()) {
    TaskSpec spec = TaskSpec::exec(e->spec.command);
    spec.name = "agent-" + id;
    spec.owner = "ticket " + id;
    spec.cwd = ws.path;
    apply_env(e->spec, spec);
    spec.env.insert(spec.env.end(), {{"TEND_TICKET_ID", id},
                                     {"TEND_TICKET_FILE", files.ticket.string()},
                                     {"TEND_RESULT_FILE", files.result.string()},
                                     {"TEND_WORKTREE", ws.path.string()},
                                     {"TEND_BRANCH", ws.branch}});
    spec.timeout = timeout;
    spec.idle_timeout = e->spec.idle_timeout.value_or(options_.agent_idle_timeout);
    spec.idle_policy = IdlePolicy::stop;
    agent = sup_.run(std::move(spec));
  } else {
    auto body = [e, path = ws.path, &outcome](TaskContext& c) -> asio::awaitable<void> {
      WorkerOutcome o = co_await e->spec.coroutine(e->ticket, path, c);
      outcome = o;
      if (!o.success) throw std::runtime_error(o.summary.empty() ? "the worker reported failure" : o.summary);
    };
    agent = sup_.spawn("agent-" + id, body,
                       Supervisor::InProcessOptions{.timeout = timeout, .owner = "ticket " + id, .internal = false});
  }
  {
    std::lock_guard lock(mutex_);
    e->agent = agent;
  }
  return agent;
}

void Manager::collect_result(const std::shared_ptr<Entry>& e, const Workspace& ws, const Task& agent,
                             const TaskStatus& status, const std::optional<WorkerOutcome>& outcome, bool stopped,
                             WorkerResult& result) {
  const std::string& id = e->ticket.id;
  result.agent_task = agent.id();
  result.agent_state = status.state;
  result.exit_code = status.exit_code;

  // What the agent left uncommitted is its work too: keep it on the branch.
  try {
    e->git->commit(ws, fmt::format("tend: ticket {}: {}", id, first_line(e->ticket.spec.task)));
  } catch (const ShadowGitError& err) {
    if (err.kind() != ShadowGitError::Kind::nothing_to_commit) throw;
  }
  result.commit = e->git->head(ws);

  std::error_code ec;
  const fs::path result_file = ticket_files(options_.work_dir, id).result;
  std::string written = fs::exists(result_file, ec) ? read_file(result_file) : "";
  if (!written.empty()) {
    result.summary = written;
  } else if (outcome && !outcome->summary.empty()) {
    result.summary = outcome->summary;
  } else {
    result.summary = output_tail(agent);
    if (status.state != TaskState::succeeded) {
      result.summary = fmt::format("{}{}{}", status.reason, result.summary.empty() ? "" : "\n", result.summary);
    }
  }
  result.success = status.state == TaskState::succeeded && !stopped;
  result.status = stopped          ? TicketStatus::cancelled
                  : result.success ? TicketStatus::completed
                                   : TicketStatus::failed;
  result.reason = stopped                ? "cancelled while the agent ran"
                  : status.reason.empty() ? "the agent finished"
                                          : "the agent " + first_line(status.reason);
}

void Manager::finish(const std::shared_ptr<Entry>& e, WorkerResult result) {
  OnComplete callback;
  {
    std::lock_guard lock(mutex_);
    e->result = result;
    e->ticket.status = result.status;
    e->ticket.updated_at = WallClock::now();
    e->ticket.ended_at = e->ticket.updated_at;
    callback = e->on_complete;
  }
  if (!callback) return;
  try {
    callback(result);
  } catch (const std::exception& err) {
    spdlog::error("on-complete callback of ticket {} threw: {}", result.ticket_id, err.what());
  } catch (...) {
    spdlog::error("on-complete callback of ticket {} threw a non-standard exception", result.ticket_id);
  }
}

}  // namespace tend::agents
