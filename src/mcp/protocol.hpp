#pragma once
// MCP's messages over JSON-RPC 2.0: initialize and version negotiation,
// ping, tools/list, logging/setLevel, and the parsing of tools/call. Pure:
// it reads lines and says what to answer; running tools is the server's.

#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "log_level.hpp"
#include "tool.hpp"

namespace tend::mcp {

/// The protocol versions tend speaks, newest first.
const std::vector<std::string>& supported_versions();

/// The version to answer `initialize` with: the client's when tend speaks
/// it, else the newest tend speaks (the client then decides).
std::string negotiate_version(const std::string& requested);

/// A tools/call to run; its answer goes back with tool_response().
struct ToolCall {
  json id;
  const Tool* tool = nullptr;
  json arguments;  ///< as the client sent them (an object)
};

/// What one line from the client asks for.
struct Action {
  std::optional<std::string> reply;  ///< a line to send back now
  std::optional<ToolCall> call;      ///< a tool to run
  std::optional<json> cancel;        ///< the id of a request the client gave up on
};

class Protocol {
 public:
  Action handle_line(std::string_view line);

  /// Logging messages below this level are not sent (logging/setLevel).
  LogLevel log_level() const { return level_.load(); }
  /// The version agreed at initialize (empty before).
  std::string version() const;

 private:
  std::string handle_request(const json& id, const std::string& method, const json& params, Action& action);

  std::atomic<LogLevel> level_{LogLevel::info};
  mutable std::mutex mutex_;
  std::string version_;
};

/// The answer to a tools/call.
std::string tool_response(const json& id, const ToolResult& result);

}  // namespace tend::mcp
