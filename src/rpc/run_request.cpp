// task.run's params, step by step: the command and its name, its environment,
// its limits, its terminal, its place in the queue, readiness and progress,
// restarts and stopping, its port and streams.

#include "run_request.hpp"

#include <signal.h>

#include <fmt/format.h>

#include "params.hpp"
#include "tend/core/pattern.hpp"
#include "tend/core/task_name.hpp"
#include "tend/process/signals.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::rpc {

using namespace params;

namespace {

// Compiled here to refuse a bad pattern with the parameter's name; the
// engine compiles a task's patterns again when it starts it.
void check_pattern(const std::optional<std::string>& pattern, const char* name) {
  if (!pattern) return;
  try {
    Pattern checked(*pattern);
  } catch (const PatternError& e) {
    throw RpcError(error_code::invalid_params, fmt::format("invalid params: \"{}\": {}", name, e.what()));
  }
}

void decode_command(const json& p, RunRequest& r) {
  TaskSpec& spec = r.spec;
  auto argv = optional<std::vector<std::string>>(p, "argv");
  auto shell = optional<std::string>(p, "shell");
  if (!argv && !shell) bad("argv", "given (a list of strings), or \"shell\" (a command line)");
  if (argv && shell) bad("argv", "given alone: not together with \"shell\"");
  if (argv && argv->empty()) bad("argv", "a non-empty list");
  if (argv) spec.argv = *argv;
  spec.shell_command = shell;
  if (auto name = optional<std::string>(p, "name")) {
    if (auto problem = task_name_problem(*name)) {
      throw RpcError(error_code::invalid_params,
                     fmt::format("invalid params: \"name\" {}: a name is 1 to {} bytes of UTF-8 without control "
                                 "characters or \"/\", and not all digits",
                                 *problem, kMaxTaskNameBytes));
    }
    spec.name = *name;
  }
  r.replace = optional<bool>(p, "replace").value_or(false);
}

void decode_environment(const json& p, TaskSpec& spec) {
  spec.cwd = optional<std::string>(p, "cwd").value_or("");
  if (auto it = p.find("env"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) bad("env", "an object of string values");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) bad("env", "an object of string values");
      spec.env.emplace_back(k, v.get<std::string>());
    }
  }
  spec.inherit_env = optional<bool>(p, "inherit_env").value_or(true);
}

void decode_limits(const json& p, TaskSpec& spec) {
  spec.timeout = duration_ms(p, "timeout_ms");
  spec.idle_timeout = duration_ms(p, "idle_timeout_ms");
  spec.command_policy = optional<bool>(p, "command_policy").value_or(true);
  if (auto policy = optional<std::string>(p, "idle_policy")) {
    if (*policy != "warn" && *policy != "stop") bad("idle_policy", "\"warn\" or \"stop\"");
    spec.idle_policy = *policy == "stop" ? IdlePolicy::stop : IdlePolicy::warn;
  }
}

void decode_terminal(const json& p, TaskSpec& spec) {
  if (optional<bool>(p, "terminal").value_or(false)) spec.kind = TaskKind::terminal;
  spec.terminal.rows = static_cast<unsigned short>(non_negative(p, "rows", 24));
  spec.terminal.cols = static_cast<unsigned short>(non_negative(p, "cols", 80));
}

void decode_queueing(const json& p, TaskSpec& spec, const std::function<TaskId(const json&)>& resolve) {
  spec.group = optional<std::string>(p, "group").value_or("default");
  if (auto it = p.find("after"); it != p.end() && !it->is_null()) {
    if (!it->is_array()) bad("after", "a list of task ids or names");
    for (const auto& ref : *it) spec.after.push_back(resolve(ref));
  }
  spec.priority = static_cast<int>(optional<std::int64_t>(p, "priority").value_or(0));
}

void decode_readiness_and_progress(const json& p, TaskSpec& spec) {
  spec.ready.pattern = optional<std::string>(p, "ready_pattern");
  check_pattern(spec.ready.pattern, "ready_pattern");
  if (auto port = optional<std::int64_t>(p, "ready_port")) {
    if (*port < 0 || *port > 65535) bad("ready_port", "a port number (0 for the allocated $PORT)");
    spec.ready.port = static_cast<unsigned short>(*port);
  }
  spec.ready.probe = optional<std::string>(p, "ready_probe");
  spec.progress_pattern = optional<std::string>(p, "progress_pattern");
  check_pattern(spec.progress_pattern, "progress_pattern");
}

void decode_restart_and_stop(const json& p, TaskSpec& spec) {
  if (auto restart = optional<std::string>(p, "restart")) {
    auto policy = parse_restart_policy(*restart);
    if (!policy) bad("restart", "\"no\", \"on-failure\" or \"always\"");
    spec.restart.policy = *policy;
  }
  if (auto termseq = optional<std::string>(p, "stop")) {
    spec.stop = StopLadder::parse(*termseq);
    if (!spec.stop) bad("stop", "a stop sequence such as \"TERM,5000,KILL\"");
  } else if (p.contains("stop_signal") || p.contains("grace_ms")) {
    int sig = SIGTERM;
    if (auto name = optional<std::string>(p, "stop_signal")) {
      auto parsed = process::parse_signal(*name);
      if (!parsed) bad("stop_signal", "a signal name such as \"TERM\" or \"INT\"");
      sig = *parsed;
    }
    spec.stop = StopLadder::with_signal(sig, duration_ms(p, "grace_ms").value_or(Duration(5000)));
  }
}

void decode_port_and_streams(const json& p, TaskSpec& spec) {
  spec.allocate_port = optional<bool>(p, "allocate_port").value_or(false);
  if (auto mode = optional<std::string>(p, "stdin")) {
    if (*mode != "null" && *mode != "pipe") bad("stdin", "\"null\" or \"pipe\"");
    spec.stdin_mode = *mode == "pipe" ? process::StdinMode::pipe : process::StdinMode::null;
  }
  spec.merge_stderr = optional<bool>(p, "merge_stderr").value_or(false);
  if (p.contains("log_limit") && !p["log_limit"].is_null()) {
    spec.log_limit = static_cast<std::uint64_t>(non_negative(p, "log_limit", 0));
  }
  if (p.contains("log_tail") && !p["log_tail"].is_null()) {
    spec.log_tail = static_cast<std::uint64_t>(non_negative(p, "log_tail", 0));
    if (spec.log_limit.value_or(TaskSpec::kDefaultLogLimit) != 0 &&
        *spec.log_tail > spec.log_limit.value_or(TaskSpec::kDefaultLogLimit)) {
      bad("log_tail", "at most \"log_limit\"");
    }
  }
}

}  // namespace

std::optional<Clock::time_point> decode_start_time(const json& p) {
  auto delay = duration_ms(p, "delay_ms");
  auto at = optional<std::string>(p, "start_at");
  if (delay && at) bad("delay_ms", "given alone: not together with \"start_at\"");
  if (delay) return Clock::now() + *delay;
  if (!at) return std::nullopt;
  // Only the form format_time writes, read back to itself: sscanf and timegm
  // alone would take "2026-13-45T99:00:00.000Z" as some day in 2027.
  auto parsed = store::parse_time(*at);
  if (!parsed || store::format_time(*parsed) != *at) {
    bad("start_at", "a UTC time such as \"2026-12-02T14:30:00.000Z\"");
  }
  return parsed;
}

RunRequest decode_run_request(const json& p, const std::function<TaskId(const json&)>& resolve) {
  RunRequest r;
  decode_command(p, r);
  decode_environment(p, r.spec);
  decode_limits(p, r.spec);
  decode_terminal(p, r.spec);
  decode_queueing(p, r.spec, resolve);
  decode_readiness_and_progress(p, r.spec);
  decode_restart_and_stop(p, r.spec);
  decode_port_and_streams(p, r.spec);
  r.wait_ready = !r.spec.ready.empty() && optional<bool>(p, "wait_ready").value_or(true);
  r.ready_timeout = duration_ms(p, "ready_timeout_ms").value_or(Duration(std::chrono::seconds(60)));
  r.hold.start_at = decode_start_time(p);
  r.hold.stashed = optional<bool>(p, "stashed").value_or(false);
  return r;
}

}  // namespace tend::rpc
