#pragma once
// Running one tool call: checking its arguments, calling its mapping
// function, and turning every failure into a result the model can act on.

#include "tool.hpp"

namespace tend::mcp {

/// Never throws: a bad argument, a daemon error or an unreachable daemon
/// come back as a result with is_error set and a message that says what to do.
ToolResult call_tool(const Tool& tool, ToolContext& context, const json& arguments);

}  // namespace tend::mcp
