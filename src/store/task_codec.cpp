#include "tend/store/task_codec.hpp"

#include <ctime>

#include <fmt/format.h>

#include "tend/process/signals.hpp"

namespace tend::store {

using nlohmann::json;

namespace {

template <typename T>
T field(const json& j, const char* name, T fallback) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    throw CodecError(fmt::format("field \"{}\" has the wrong type", name));
  }
}

std::optional<Duration> duration_field(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw CodecError(fmt::format("field \"{}\" must be whole milliseconds", name));
  return Duration(it->get<std::int64_t>());
}

TaskKind kind_field(const json& j) {
  auto text = field<std::string>(j, "kind", "shell");
  auto kind = parse_task_kind(text);
  if (!kind) throw CodecError(fmt::format("field \"kind\": expected shell, terminal or coroutine, not \"{}\"", text));
  return *kind;
}

json duration_json(const std::optional<Duration>& d) { return d ? json(d->count()) : json(nullptr); }

// What the size cap left out, per stream: null for a stream it left alone.
json limit_json(const Limit& limit) { return {{"ms", duration_json(limit.value)}, {"from", to_string(limit.source)}}; }

Limit limit_field(const json& limits, const char* name) {
  Limit limit;
  auto it = limits.find(name);
  if (it == limits.end() || !it->is_object()) return limit;
  limit.value = duration_field(*it, "ms");
  limit.source = parse_limit_source(field<std::string>(*it, "from", "none")).value_or(LimitSource::none);
  return limit;
}

// {"timeout": {"ms": 120000, "from": "policy"}, "idle_timeout": {"ms": null, "from": "none"}}
json limits_json(const TaskLimits& l) { return {{"timeout", limit_json(l.wall)}, {"idle_timeout", limit_json(l.idle)}}; }

json dropped_json(const TaskStatus& st) {
  auto one = [](const DroppedRange& d) {
    return d.empty() ? json(nullptr) : json{{"from", d.from}, {"to", d.to}, {"bytes", d.size()}};
  };
  return {{"stdout", one(st.stdout_dropped)}, {"stderr", one(st.stderr_dropped)}};
}

}  // namespace

std::string format_time(Clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::optional<Clock::time_point> parse_time(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = ::timegm(&tm);
  return Clock::time_point(std::chrono::seconds(secs) + std::chrono::milliseconds(millis));
}

json spec_to_json(const TaskSpec& s) {
  json env = json::array();
  for (const auto& [k, v] : s.env) env.push_back({k, v});
  json j = {
      {"name", s.name},
      {"kind", to_string(s.kind)},
      {"owner", s.owner},
      {"internal", s.internal},
      {"argv", s.argv},
      {"shell", s.shell_command ? json(*s.shell_command) : json(nullptr)},
      {"cwd", s.cwd.string()},
      {"env", env},
      {"unset_env", s.unset_env},
      {"inherit_env", s.inherit_env},
      {"stdin", s.stdin_mode == process::StdinMode::pipe ? "pipe"
                : s.stdin_mode == process::StdinMode::file ? "file"
                                                           : "null"},
      {"stdin_file", s.stdin_file.string()},
      {"merge_stderr", s.merge_stderr},
      {"timeout_ms", duration_json(s.timeout)},
      {"stop", s.stop ? json(s.stop->to_string()) : json(nullptr)},
      {"idle_timeout_ms", duration_json(s.idle_timeout)},
      {"command_policy", s.command_policy},
      {"idle_policy", to_string(s.idle_policy)},
      {"progress_pattern", s.progress_pattern ? json(*s.progress_pattern) : json(nullptr)},
      {"use_pty", s.use_pty},
      {"rows", s.terminal.rows},
      {"cols", s.terminal.cols},
      {"restart", to_string(s.restart.policy)},
      {"restart_delay_ms", s.restart.initial_delay.count()},
      {"restart_max_delay_ms", s.restart.max_delay.count()},
      {"restart_burst", s.restart.burst},
      {"restart_interval_ms", s.restart.interval.count()},
      {"ready_pattern", s.ready.pattern ? json(*s.ready.pattern) : json(nullptr)},
      {"ready_port", s.ready.port ? json(*s.ready.port) : json(nullptr)},
      {"ready_probe", s.ready.probe ? json(*s.ready.probe) : json(nullptr)},
      {"allocate_port", s.allocate_port},
      {"group", s.group},
      {"after", s.after},
      {"priority", s.priority},
      {"log_limit", s.log_limit ? json(*s.log_limit) : json(nullptr)},
      {"log_tail", s.log_tail ? json(*s.log_tail) : json(nullptr)},
  };
  return j;
}

TaskSpec spec_from_json(const json& j) {
  if (!j.is_object()) throw CodecError("a task spec must be a JSON object");
  TaskSpec s;
  s.name = field<std::string>(j, "name", "");
  s.kind = kind_field(j);
  s.owner = field<std::string>(j, "owner", "");
  s.internal = field<bool>(j, "internal", false);
  s.argv = field<std::vector<std::string>>(j, "argv", {});
  if (j.contains("shell") && !j["shell"].is_null()) s.shell_command = field<std::string>(j, "shell", "");
  s.cwd = field<std::string>(j, "cwd", "");
  for (const auto& pair : field<json>(j, "env", json::array())) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      throw CodecError("field \"env\" must hold [name, value] pairs");
    }
    s.env.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  s.unset_env = field<std::vector<std::string>>(j, "unset_env", {});
  s.inherit_env = field<bool>(j, "inherit_env", true);
  auto stdin_mode = field<std::string>(j, "stdin", "null");
  s.stdin_mode = stdin_mode == "pipe"   ? process::StdinMode::pipe
                 : stdin_mode == "file" ? process::StdinMode::file
                                        : process::StdinMode::null;
  s.stdin_file = field<std::string>(j, "stdin_file", "");
  s.merge_stderr = field<bool>(j, "merge_stderr", false);
  s.timeout = duration_field(j, "timeout_ms");
  if (auto stop = field<std::string>(j, "stop", ""); !stop.empty()) {
    s.stop = StopLadder::parse(stop);
    if (!s.stop) throw CodecError(fmt::format("field \"stop\": invalid stop ladder \"{}\"", stop));
  }
  s.idle_timeout = duration_field(j, "idle_timeout_ms");
  s.command_policy = field<bool>(j, "command_policy", true);  // older records: the policy applied
  s.idle_policy = field<std::string>(j, "idle_policy", "warn") == "stop" ? IdlePolicy::stop : IdlePolicy::warn;
  if (j.contains("progress_pattern") && !j["progress_pattern"].is_null()) {
    s.progress_pattern = field<std::string>(j, "progress_pattern", "");
  }
  s.use_pty = field<bool>(j, "use_pty", true);
  s.terminal.rows = field<unsigned short>(j, "rows", 24);
  s.terminal.cols = field<unsigned short>(j, "cols", 80);
  auto restart = field<std::string>(j, "restart", "no");
  auto policy = parse_restart_policy(restart);
  if (!policy) throw CodecError(fmt::format("field \"restart\": expected no, on-failure or always, not \"{}\"", restart));
  s.restart.policy = *policy;
  s.restart.initial_delay = Duration(field<std::int64_t>(j, "restart_delay_ms", s.restart.initial_delay.count()));
  s.restart.max_delay = Duration(field<std::int64_t>(j, "restart_max_delay_ms", s.restart.max_delay.count()));
  s.restart.burst = field<int>(j, "restart_burst", s.restart.burst);
  s.restart.interval = Duration(field<std::int64_t>(j, "restart_interval_ms", s.restart.interval.count()));
  if (j.contains("ready_pattern") && !j["ready_pattern"].is_null()) {
    s.ready.pattern = field<std::string>(j, "ready_pattern", "");
  }
  if (j.contains("ready_port") && !j["ready_port"].is_null()) s.ready.port = field<unsigned short>(j, "ready_port", 0);
  if (j.contains("ready_probe") && !j["ready_probe"].is_null()) s.ready.probe = field<std::string>(j, "ready_probe", "");
  s.allocate_port = field<bool>(j, "allocate_port", false);
  s.group = field<std::string>(j, "group", "default");
  s.after = field<std::vector<TaskId>>(j, "after", {});
  s.priority = field<int>(j, "priority", 0);
  if (j.contains("log_limit") && !j["log_limit"].is_null()) s.log_limit = field<std::uint64_t>(j, "log_limit", 0);
  if (j.contains("log_tail") && !j["log_tail"].is_null()) s.log_tail = field<std::uint64_t>(j, "log_tail", 0);
  return s;
}

json status_to_json(const TaskStatus& st, const TaskSpec& spec) {
  auto opt_int = [](const std::optional<int>& v) { return v ? json(*v) : json(nullptr); };
  auto opt_time = [](const std::optional<Clock::time_point>& t) { return t ? json(format_time(*t)) : json(nullptr); };
  json j = {
      {"id", st.id},
      {"name", st.name},
      {"kind", to_string(st.kind)},
      {"state", to_string(st.state)},
      {"exit_code", opt_int(st.exit_code)},
      {"signal", st.signal ? json(process::signal_name(*st.signal)) : json(nullptr)},
      {"signal_number", opt_int(st.signal)},
      {"reason", st.reason},
      {"command", spec.command_line()},
      {"owner", spec.owner.empty() ? json(nullptr) : json(spec.owner)},
      {"internal", spec.internal},
      {"cwd", spec.cwd.string()},
      {"started_at", opt_time(st.started_at)},
      {"ended_at", opt_time(st.ended_at)},
      {"duration_ms", st.duration.count()},
      {"pid", st.pid},
      {"pid_start_time", st.pid_start_time},
      {"marker", st.marker},
      {"attempts", st.attempts},
      {"paused", st.paused},
      {"ready", st.ready},
      {"stalled", st.stalled},
      {"port", st.port ? json(*st.port) : json(nullptr)},
      {"limits", limits_json(st.limits)},
      {"start_failure", st.start_failure ? json(*st.start_failure) : json(nullptr)},
      {"group", spec.group},
      {"priority", spec.priority},
      {"after", spec.after},
      {"warnings", st.warnings},
      {"log_limit", spec.effective_log_limit().first},
      {"output_dropped", dropped_json(st)},
      {"disk_full_at", opt_time(st.disk_full_at)},
      {"output_note", st.output_note()},
      {"stashed", st.stashed},
      {"start_at", opt_time(st.start_at)},
  };
  return j;
}

TaskStatus status_from_json(const json& j) {
  if (!j.is_object()) throw CodecError("a task status must be a JSON object");
  TaskStatus st;
  st.id = field<TaskId>(j, "id", 0);
  st.name = field<std::string>(j, "name", "");
  st.kind = kind_field(j);
  auto state = parse_task_state(field<std::string>(j, "state", "lost"));
  st.state = state.value_or(TaskState::lost);
  if (j.contains("exit_code") && !j["exit_code"].is_null()) st.exit_code = field<int>(j, "exit_code", 0);
  if (j.contains("signal_number") && !j["signal_number"].is_null()) st.signal = field<int>(j, "signal_number", 0);
  st.reason = field<std::string>(j, "reason", "");
  st.pid = field<pid_t>(j, "pid", 0);
  st.pid_start_time = field<std::uint64_t>(j, "pid_start_time", 0);
  st.marker = field<std::string>(j, "marker", "");
  if (auto t = field<std::string>(j, "started_at", ""); !t.empty()) st.started_at = parse_time(t);
  if (auto t = field<std::string>(j, "ended_at", ""); !t.empty()) st.ended_at = parse_time(t);
  st.duration = Duration(field<std::int64_t>(j, "duration_ms", 0));
  st.attempts = field<int>(j, "attempts", 0);
  st.paused = field<bool>(j, "paused", false);
  st.ready = field<bool>(j, "ready", false);
  st.stalled = field<bool>(j, "stalled", false);
  if (j.contains("port") && !j["port"].is_null()) st.port = field<unsigned short>(j, "port", 0);
  st.warnings = field<std::vector<std::string>>(j, "warnings", {});
  if (auto it = j.find("limits"); it != j.end() && it->is_object()) {
    st.limits = {limit_field(*it, "timeout"), limit_field(*it, "idle_timeout")};
  }
  if (auto failure = field<std::string>(j, "start_failure", ""); !failure.empty()) st.start_failure = failure;
  if (auto t = field<std::string>(j, "disk_full_at", ""); !t.empty()) st.disk_full_at = parse_time(t);
  st.stashed = field<bool>(j, "stashed", false);
  if (auto t = field<std::string>(j, "start_at", ""); !t.empty()) st.start_at = parse_time(t);
  return st;
}

}  // namespace tend::store
