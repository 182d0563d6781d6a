#include "task_text.hpp"

#include <fmt/format.h>

namespace tend::mcp {
namespace {

std::string text_field(const json& task, const char* name) {
  auto it = task.find(name);
  return it != task.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string command_of(const json& task) {
  std::string command = text_field(task, "command");
  if (command.size() > 80) command = command.substr(0, 77) + "...";
  std::string name = text_field(task, "name");
  return name.empty() ? fmt::format("\"{}\"", command) : fmt::format("\"{}\" ({})", name, command);
}

}  // namespace

std::string format_seconds(std::int64_t ms) {
  if (ms < 1000) return fmt::format("{} ms", ms);
  if (ms < 60'000) return fmt::format("{:.2f} s", static_cast<double>(ms) / 1000.0);
  if (ms < 3'600'000) return fmt::format("{} min {} s", ms / 60'000, ms % 60'000 / 1000);
  return fmt::format("{} h {} min", ms / 3'600'000, ms % 3'600'000 / 60'000);
}

bool is_finished(const json& task) {
  const std::string state = text_field(task, "state");
  return !state.empty() && state != "queued" && state != "running";
}

std::string describe_task(const json& task) {
  const std::string state = text_field(task, "state");
  const std::string head = fmt::format("task {} {}", task.value("id", std::int64_t{0}), command_of(task));
  const std::int64_t ms = task.value("duration_ms", std::int64_t{0});
  if (state == "queued") return fmt::format("{} is queued (waiting for a free slot or a dependency)", head);
  if (state == "running") {
    std::string extra;
    if (task.value("ready", false)) {
      extra = task.contains("port") && task["port"].is_number()
                  ? fmt::format(", ready on port {}", task["port"].get<int>())
                  : std::string(", ready");
    }
    if (task.value("stalled", false)) extra += ", stalled: no output for a while";
    if (task.value("paused", false)) extra += ", paused";
    return fmt::format("{} is running ({} so far{})", head, format_seconds(ms), extra);
  }
  // The daemon's reason says how it ended ("exited with code 2", "timed out
  // after 5s; stopped (terminated by SIGTERM)"); exit code and signal are
  // also named on their own so they are never missed.
  std::string text = fmt::format("{} {} after {}", head, state, format_seconds(ms));
  std::string reason = text_field(task, "reason");
  if (!reason.empty() && reason != state) text += ": " + reason;
  if (task.contains("exit_code") && task["exit_code"].is_number()) {
    text += fmt::format(" [exit code {}]", task["exit_code"].get<int>());
  } else if (task.contains("signal") && task["signal"].is_string()) {
    text += fmt::format(" [signal {}]", task["signal"].get<std::string>());
  }
  return text;
}

json task_facts(const json& task) {
  json facts = json::object();
  for (const char* key : {"id", "name", "kind", "state", "reason", "exit_code", "signal", "duration_ms", "command",
                          "cwd", "started_at", "ended_at", "pid", "ready", "port", "stalled", "paused", "warnings", "limits",
                          "start_failure"}) {
    if (auto it = task.find(key); it != task.end()) facts[key] = *it;
  }
  if (facts.contains("warnings") && facts["warnings"].empty()) facts.erase("warnings");
  if (facts.contains("start_failure") && facts["start_failure"].is_null()) facts.erase("start_failure");
  return facts;
}

}  // namespace tend::mcp
