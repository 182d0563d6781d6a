#include "tend/core/task.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "task_control.hpp"
#include "tend/core/byte_size.hpp"

namespace tend {
namespace {

constexpr std::array<std::pair<TaskState, std::string_view>, 9> kStates{{
    {TaskState::queued, "queued"},
    {TaskState::running, "running"},
    {TaskState::succeeded, "succeeded"},
    {TaskState::failed, "failed"},
    {TaskState::timed_out, "timed_out"},
    {TaskState::killed, "killed"},
    {TaskState::stalled, "stalled"},
    {TaskState::cancelled, "cancelled"},
    {TaskState::lost, "lost"},
}};

// Quotes an argument for display the way a POSIX shell would read it back.
std::string shell_quote(const std::string& arg) {
  if (!arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("@%+=:,./-_").find(c) != std::string_view::npos;
      })) {
    return arg;
  }
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

}  // namespace

std::string_view to_string(TaskKind kind) {
  switch (kind) {
    case TaskKind::shell: return "shell";
    case TaskKind::terminal: return "terminal";
    case TaskKind::coroutine: return "coroutine";
  }
  return "shell";
}

std::optional<TaskKind> parse_task_kind(std::string_view text) {
  for (auto k : {TaskKind::shell, TaskKind::terminal, TaskKind::coroutine}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

std::string_view to_string(TaskState state) {
  for (auto [s, name] : kStates) {
    if (s == state) return name;
  }
  return "lost";
}

std::optional<TaskState> parse_task_state(std::string_view text) {
  for (auto [s, name] : kStates) {
    if (name == text) return s;
  }
  return std::nullopt;
}

bool is_final(TaskState state) { return state != TaskState::queued && state != TaskState::running; }

std::string_view to_string(Stream s) { return s == Stream::stdout_stream ? "stdout" : "stderr"; }

TaskSpec TaskSpec::shell(std::string command) {
  TaskSpec spec;
  spec.shell_command = std::move(command);
  return spec;
}

TaskSpec TaskSpec::terminal_shell(std::string command) {
  TaskSpec spec;
  spec.kind = TaskKind::terminal;
  spec.shell_command = std::move(command);
  return spec;
}

std::string_view to_string(IdlePolicy p) { return p == IdlePolicy::warn ? "warn" : "stop"; }

std::string_view to_string(LimitSource source) {
  switch (source) {
    case LimitSource::given: return "given";
    case LimitSource::policy: return "policy";
    case LimitSource::none: return "none";
  }
  return "none";
}

std::optional<LimitSource> parse_limit_source(std::string_view text) {
  for (auto s : {LimitSource::given, LimitSource::policy, LimitSource::none}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::string_view to_string(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::no: return "no";
    case RestartPolicy::on_failure: return "on-failure";
    case RestartPolicy::always: return "always";
  }
  return "no";
}

std::optional<RestartPolicy> parse_restart_policy(std::string_view text) {
  for (auto p : {RestartPolicy::no, RestartPolicy::on_failure, RestartPolicy::always}) {
    if (text == to_string(p)) return p;
  }
  return std::nullopt;
}

TaskSpec TaskSpec::exec(std::vector<std::string> argv) {
  TaskSpec spec;
  spec.argv = std::move(argv);
  return spec;
}

std::string TaskSpec::command_line() const {
  if (shell_command) return *shell_command;
  std::string out;
  for (const auto& arg : argv) {
    if (!out.empty()) out += ' ';
    out += shell_quote(arg);
  }
  return out;
}

namespace {

// The order of a task's streams is kept beside its logs: `<id>.order`.
std::filesystem::path order_file(const OutputLog& out, bool fresh) {
  if (out.file().empty()) return {};
  auto path = std::filesystem::path(out.file()).replace_extension(".order");
  if (fresh) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);  // left by an earlier task of this id
  }
  return path;
}

}  // namespace

std::pair<std::uint64_t, std::uint64_t> TaskSpec::effective_log_limit() const {
  const std::uint64_t limit = log_limit.value_or(kDefaultLogLimit);
  if (limit == 0) return {0, 0};
  return {limit, std::min(log_tail.value_or(std::min(kDefaultLogTail, limit / 2)), limit)};
}

std::string TaskStatus::output_note() const {
  std::string note;
  for (auto [name, d] : {std::pair{"stdout", stdout_dropped}, std::pair{"stderr", stderr_dropped}}) {
    if (d.empty()) continue;
    if (!note.empty()) note += "; ";
    note += fmt::format("{} of {} dropped by its log limit (cursors {} to {})", format_byte_size(d.size()), name, d.from, d.to);
  }
  if (disk_full_at) {
    if (!note.empty()) note += "; ";
    auto t = Clock::to_time_t(*disk_full_at);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    note += fmt::format("output may be incomplete: disk full at {:%Y-%m-%dT%H:%M:%SZ}", tm);
  }
  return note;
}

Task::Task(TaskId id, TaskSpec spec, OutputLog::Options stdout_log, OutputLog::Options stderr_log)
    : id_(id),
      spec_(std::move(spec)),
      stdout_(std::move(stdout_log)),
      stderr_(std::move(stderr_log)),
      order_(order_file(stdout_, true), 0, 0) {
  status_.id = id_;
  status_.name = spec_.name;
  status_.kind = spec_.kind;
  status_.state = TaskState::queued;
  status_.reason = "queued";
}

Task::Task(TaskStatus recorded, TaskSpec spec, OutputLog::Options stdout_log, OutputLog::Options stderr_log)
    : id_(recorded.id),
      spec_(std::move(spec)),
      stdout_(std::move(stdout_log)),
      stderr_(std::move(stderr_log)),
      order_(order_file(stdout_, false), stdout_.size(), stderr_.size()) {
  status_ = std::move(recorded);
  auto now_steady = std::chrono::steady_clock::now();
  auto now = Clock::now();
  if (status_.started_at) started_steady_ = now_steady - (now - *status_.started_at);
  if (status_.ended_at) ended_steady_ = now_steady - (now - *status_.ended_at);
  if (is_final(status_.state)) {
    stdout_.close();
    stderr_.close();
    order_.close();
  }
}

std::string Task::display_name() const { return spec_.name.empty() ? spec_.command_line() : spec_.name; }

TaskStatus Task::status() const {
  std::lock_guard lock(mutex_);
  TaskStatus s = status_;
  if (s.state == TaskState::running) {
    s.duration = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - started_steady_);
  } else if (s.ended_at && s.started_at) {
    s.duration = std::chrono::duration_cast<Duration>(ended_steady_ - started_steady_);
  }
  s.stdout_dropped = stdout_.dropped();
  s.stderr_dropped = stderr_.dropped();
  return s;
}

TaskState Task::state() const {
  std::lock_guard lock(mutex_);
  return status_.state;
}

void TaskControl::mark_running(Task& task, pid_t pid, std::uint64_t pid_start_time) {
  std::lock_guard lock(task.mutex_);
  task.status_.state = TaskState::running;
  task.status_.pid = pid;
  task.status_.pid_start_time = pid_start_time;
  task.status_.reason = "running";
  task.status_.attempts += 1;
  if (!task.status_.started_at) {
    task.status_.started_at = Clock::now();
    task.started_steady_ = std::chrono::steady_clock::now();
  }
}

void TaskControl::replace_spec(Task& task, TaskSpec spec) {
  std::lock_guard lock(task.mutex_);
  task.status_.name = spec.name;
  task.spec_ = std::move(spec);
}

void TaskControl::add_attempt(Task& task, Task::Attempt attempt) {
  std::lock_guard lock(task.mutex_);
  task.history_.push_back(std::move(attempt));
}

std::vector<Task::Attempt> Task::history() const {
  std::lock_guard lock(mutex_);
  return history_;
}

void TaskControl::mark_finished(Task& task, TaskState state, std::optional<int> exit_code, std::optional<int> signal,
                                std::string reason, std::uint64_t finish_seq) {
  std::lock_guard lock(task.mutex_);
  task.finish_seq_ = finish_seq;
  task.status_.state = state;
  task.status_.exit_code = exit_code;
  task.status_.signal = signal;
  task.status_.reason = std::move(reason);
  task.status_.ended_at = Clock::now();
  task.ended_steady_ = std::chrono::steady_clock::now();
  if (!task.status_.started_at) {
    task.status_.started_at = task.status_.ended_at;
    task.started_steady_ = task.ended_steady_;
  }
}

}  // namespace tend

namespace tend {

void TaskControl::set_finish_seq(Task& task, std::uint64_t finish_seq) {
  std::lock_guard lock(task.mutex_);
  task.finish_seq_ = finish_seq;
}

std::uint64_t TaskControl::finish_seq(const Task& task) {
  std::lock_guard lock(task.mutex_);
  return task.finish_seq_;
}

}  // namespace tend
