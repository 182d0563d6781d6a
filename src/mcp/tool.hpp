#pragma once
// A tool as the model sees it (name, description, input schema) and the
// function that maps a call onto the daemon's RPC methods.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace tend::mcp {

using nlohmann::json;

class ToolContext;

/// What a tool call answers: text written for the model, the same facts as
/// JSON (`structuredContent`), and whether the call failed (`isError`).
struct ToolResult {
  std::string text;
  json structured = json::object();
  bool is_error = false;

  /// The MCP `CallToolResult`.
  json to_json() const;
};

/// A failure the model can act on (a bad argument, an unknown task): the
/// call answers with `isError` and this message.
class ToolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Tool {
  std::string name;
  std::string title;
  std::string description;  ///< for the model: what it does, when to use it, what comes back
  json input_schema;        ///< a JSON Schema object; arguments are checked against its top level
  ToolResult (*call)(ToolContext& context, const json& arguments);

  /// The entry of `tools/list`.
  json to_json() const;
};

/// Every tool tend offers, in the order tools/list shows them.
const std::vector<Tool>& tool_table();

/// The tool of that name, or nullptr.
const Tool* find_tool(const std::string& name);

}  // namespace tend::mcp
