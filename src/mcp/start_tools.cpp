// shell_run and terminal_start: starting work through task.run.

#include <filesystem>

#include <fmt/format.h>

#include "arguments.hpp"
#include "output_view.hpp"
#include "task_text.hpp"
#include "task_tools.hpp"
#include "tend/rpc/json_rpc.hpp"
#include "tool_context.hpp"

extern char** environ;

namespace tend::mcp {
namespace {

constexpr std::int64_t kInlineWaitMs = 15'000;
constexpr std::int64_t kReadyTimeoutMs = 30'000;
constexpr std::size_t kFinishedOutput = 16 * 1024;
constexpr std::size_t kRunningOutput = 4 * 1024;

// What every start shares: the command, where and with what environment. As
// with the tend command, the task gets the environment of the MCP server
// (that is, of the client that started it) plus `env`, and runs where the
// server runs unless told otherwise.
json start_params(const json& a) {
  json env = json::object();
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  const json extra = a.value("env", json::object());  // named: items() must not outlive it
  for (const auto& [k, v] : extra.items()) env[k] = v;
  std::string cwd = a.contains("cwd") ? std::filesystem::absolute(a["cwd"].get<std::string>()).string()
                                      : std::filesystem::current_path().string();
  json params = {{"shell", a["command"]}, {"cwd", cwd}, {"env", env}, {"inherit_env", false}};
  if (a.contains("log_limit")) params["log_limit"] = a["log_limit"];
  return params;
}

std::int64_t id_of(const json& task) { return task.value("id", std::int64_t{0}); }

ToolResult finished_result(ToolContext& ctx, const json& id) {
  OutputView out = read_output_tail(ctx, id, kFinishedOutput);
  ToolResult r;
  r.text = describe_task(out.task) + "\n" + out.render(id);
  r.structured = {{"task", task_facts(out.task)}, {"background", false}, {"output", out.to_json()}};
  return r;
}

}  // namespace

ToolResult shell_run(ToolContext& ctx, const json& a) {
  json params = start_params(a);
  params["merge_stderr"] = true;
  // A command an agent runs is bounded unless it asks otherwise: the command
  // policy's limits (2 min for a quick command, none for a known server).
  params["command_policy"] = true;
  if (auto ms = seconds_arg(a, "timeout_s")) params["timeout_ms"] = *ms;
  if (auto ms = seconds_arg(a, "idle_timeout_s")) params["idle_timeout_ms"] = *ms;
  if (auto ms = seconds_arg(a, "idle_timeout_s"); ms && *ms > 0) params["idle_policy"] = "stop";
  json task = ctx.call("task.run", params);
  const json id = task["id"];

  std::string why = "you asked for the background";
  if (!a.value("background", false)) {
    const std::int64_t wait_ms = seconds_arg(a, "wait_s").value_or(kInlineWaitMs);
    json w = ctx.call("task.wait", {{"ids", json::array({id})}, {"timeout_ms", wait_ms}});
    if (!w["finished"].empty()) return finished_result(ctx, id);
    why = fmt::format("it was still running after {}", format_seconds(wait_ms));
  }
  ctx.watch(id_of(task));
  OutputView out = read_output_tail(ctx, id, kRunningOutput);
  if (is_finished(out.task)) return finished_result(ctx, id);  // it ended just now
  ToolResult r;
  r.text = fmt::format(
      "{}\nIt runs in the background because {}. Follow it with task_output {{\"id\": {}, \"since\": {}}}, wait with "
      "task_wait {{\"ids\": [{}]}}, stop it with task_kill {{\"id\": {}}}; a notification comes when it ends.\n{}",
      describe_task(out.task), why, id.dump(), out.next_cursor, id.dump(), id.dump(), out.render(id));
  r.structured = {{"task", task_facts(out.task)}, {"background", true}, {"output", out.to_json()}};
  return r;
}

ToolResult terminal_start(ToolContext& ctx, const json& a) {
  json params = start_params(a);
  params["terminal"] = true;
  const bool readiness = a.contains("ready_pattern") || a.contains("ready_port");
  if (a.contains("ready_pattern")) params["ready_pattern"] = a["ready_pattern"];
  if (a.contains("ready_port")) {
    params["ready_port"] = a["ready_port"];
    if (a["ready_port"] == 0) params["allocate_port"] = true;
  }
  params["ready_timeout_ms"] = seconds_arg(a, "ready_timeout_s").value_or(kReadyTimeoutMs);

  json id;
  try {
    id = ctx.call("task.run", params)["id"];
  } catch (const rpc::RpcError& e) {
    if (e.code() != rpc::error_code::not_ready || !e.data().contains("id")) throw;
    // It started but did not become ready: say what it is doing and what it wrote.
    id = e.data()["id"];
    ctx.watch(id.get<std::int64_t>());
    OutputView out = read_output_tail(ctx, id, kRunningOutput);
    ToolResult r;
    r.is_error = true;
    std::string next = is_finished(out.task)
                           ? "It has ended; its output below says why. Fix the command and start it again."
                           : fmt::format(
                                 "It is still running: read on with task_output {{\"id\": {}, \"since\": {}}}, "
                                 "or stop it with task_kill {{\"id\": {}}}.",
                                 id.dump(), out.next_cursor, id.dump());
    // The daemon's message carries the output tail too; the view below shows it once.
    const std::string why = std::string(e.what()).substr(0, std::string(e.what()).find('\n'));
    r.text = fmt::format("Not ready: {}\n{}\n{}\n{}", why, describe_task(out.task), next, out.render(id));
    r.structured = {{"task", task_facts(out.task)}, {"ready", false}, {"error", why}, {"output", out.to_json()}};
    return r;
  }
  ctx.watch(id.get<std::int64_t>());
  if (!readiness) {
    // Nothing to wait for: give it a moment to say something (or fail).
    ctx.call("task.output", {{"id", id}, {"max_bytes", 1}, {"wait_ms", 1000}});
  }
  OutputView out = read_output_tail(ctx, id, kRunningOutput);
  const bool ready = out.task.value("ready", false);
  std::string readiness_text = readiness
                                   ? (ready ? "It is ready." : "It is not ready.")
                                   : "No readiness condition was given (ready_pattern or ready_port); it has started.";
  if (ready && out.task.contains("port") && out.task["port"].is_number()) {
    readiness_text = fmt::format("It is ready on port {}.", out.task["port"].get<int>());
  }
  ToolResult r;
  r.text = fmt::format(
      "{}\n{} Read on with task_output {{\"id\": {}, \"since\": {}}}, type into it with task_send, stop it with "
      "task_kill {{\"id\": {}}}.\n{}",
      describe_task(out.task), readiness_text, id.dump(), out.next_cursor, id.dump(), out.render(id));
  r.structured = {{"task", task_facts(out.task)}, {"ready", ready}, {"output", out.to_json()}};
  return r;
}

}  // namespace tend::mcp
