// task_restart and task_edit: run an ended task again as a new task, or
// change a queued one before it starts, through task.restart and task.edit.

#include <filesystem>

#include <fmt/format.h>

#include "arguments.hpp"
#include "task_text.hpp"
#include "task_tools.hpp"
#include "tool_context.hpp"

namespace tend::mcp {
namespace {

// The change params both daemon methods take, from the tool's arguments.
json spec_change_params(const json& a) {
  json params = json::object();
  if (a.contains("command")) params["shell"] = a["command"];
  if (a.contains("cwd")) params["cwd"] = std::filesystem::absolute(a["cwd"].get<std::string>()).lexically_normal().string();
  for (const char* key : {"env", "unset_env", "priority", "name"}) {
    if (a.contains(key)) params[key] = a[key];
  }
  return params;
}

}  // namespace

ToolResult task_restart(ToolContext& ctx, const json& a) {
  const json id = task_ref(a["id"]);
  json params = spec_change_params(a);
  params["ids"] = json::array({id});
  json r = ctx.call("task.restart", params);
  const json& entry = r["tasks"].at(0);
  if (entry.contains("error")) throw ToolError(entry["error"]["message"].get<std::string>());
  const json& task = entry["task"];
  const auto new_id = entry["new_id"].get<std::int64_t>();
  ctx.watch(new_id);
  ToolResult result;
  result.text = fmt::format("Task {} runs again as task {}: {}. Follow it with task_output or task_wait {}.",
                            entry["id"].dump(), new_id, describe_task(task), new_id);
  result.structured = {{"id", entry["id"]}, {"new_id", new_id}, {"task", task_facts(task)}};
  return result;
}

ToolResult task_edit(ToolContext& ctx, const json& a) {
  json params = spec_change_params(a);
  params["id"] = task_ref(a["id"]);
  if (params.size() == 1) throw ToolError("nothing to change: give command, cwd, env, unset_env, priority or name");
  json task = ctx.call("task.edit", params);
  ToolResult result;
  result.text = fmt::format("Changed before it started: {}", describe_task(task));
  result.structured = {{"task", task_facts(task)}};
  return result;
}

}  // namespace tend::mcp
