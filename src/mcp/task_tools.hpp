#pragma once
// The mapping functions: each turns one tool's arguments into calls of the
// daemon's RPC methods and their answers into a result. Arguments arrive
// checked against the tool's schema (arguments.hpp).

#include "tool.hpp"

namespace tend::mcp {

// Starting work (start_tools.cpp).
ToolResult shell_run(ToolContext& context, const json& arguments);
ToolResult terminal_start(ToolContext& context, const json& arguments);

// Looking after it (task_tools.cpp).
ToolResult task_output(ToolContext& context, const json& arguments);
ToolResult task_wait(ToolContext& context, const json& arguments);
ToolResult task_kill(ToolContext& context, const json& arguments);
ToolResult task_send(ToolContext& context, const json& arguments);
ToolResult task_list(ToolContext& context, const json& arguments);
ToolResult task_status(ToolContext& context, const json& arguments);

// Running again and changing before the start (restart_tools.cpp).
ToolResult task_restart(ToolContext& context, const json& arguments);
ToolResult task_edit(ToolContext& context, const json& arguments);

// Agents on their own branches (agent_tools.cpp).
ToolResult agent_spawn(ToolContext& context, const json& arguments);
ToolResult agent_status(ToolContext& context, const json& arguments);
ToolResult agent_wait(ToolContext& context, const json& arguments);
ToolResult agent_diff(ToolContext& context, const json& arguments);
ToolResult agent_merge(ToolContext& context, const json& arguments);
ToolResult agent_cancel(ToolContext& context, const json& arguments);

}  // namespace tend::mcp
