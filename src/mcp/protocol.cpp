#include "protocol.hpp"

#include <mutex>

#include <fmt/format.h>

#include "tend/rpc/json_rpc.hpp"
#include "tend/store/json_limits.hpp"
#include "tend/version.hpp"

namespace tend::mcp {
namespace {

namespace code = rpc::error_code;

constexpr const char* kInstructions =
    "tend runs and looks after commands for you. shell_run runs a command and answers with its output and exit "
    "status; long ones continue in the background with a task id. terminal_start starts servers and watchers and "
    "can wait until they are ready. Follow any task with task_output (by cursor), task_wait, task_status, and stop "
    "it with task_kill. Tasks outlive this conversation until killed; a notification tells you when one ends.";

json server_info() { return {{"name", "tend"}, {"title", "tend"}, {"version", kVersion}}; }

// A JSON-RPC error raised while handling one request.
struct ProtocolError {
  int code;
  std::string message;
};

}  // namespace

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> versions = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  return versions;
}

std::string negotiate_version(const std::string& requested) {
  for (const auto& v : supported_versions()) {
    if (v == requested) return v;
  }
  return supported_versions().front();
}

std::string Protocol::version() const {
  std::lock_guard lock(mutex_);
  return version_;
}

Action Protocol::handle_line(std::string_view line) {
  Action action;
  json message;
  try {
    message = store::parse_json(line);
  } catch (const store::JsonTooDeep& e) {
    action.reply = rpc::make_error(nullptr, code::invalid_request, fmt::format("invalid request: {}", e.what()));
    return action;
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double (1E400) is an out_of_range.
    action.reply =
        rpc::make_error(nullptr, code::parse_error, fmt::format("parse error: not valid JSON ({})", e.what()));
    return action;
  }
  if (!message.is_object()) {
    action.reply =
        rpc::make_error(nullptr, code::invalid_request,
                        message.is_array() ? "invalid request: batches are not supported; send one message per line"
                                           : "invalid request: expected a JSON object");
    return action;
  }
  json id = message.contains("id") ? message["id"] : json(nullptr);
  const bool has_id = message.contains("id");
  if (has_id && !id.is_number_integer() && !id.is_string()) {
    action.reply =
        rpc::make_error(nullptr, code::invalid_request, "invalid request: \"id\" must be a number or a string");
    return action;
  }
  if (message.value("jsonrpc", json()) != "2.0") {
    if (has_id)
      action.reply = rpc::make_error(id, code::invalid_request, "invalid request: \"jsonrpc\" must be \"2.0\"");
    return action;
  }
  if (!message.contains("method")) {
    // A response (we send no requests) or nonsense: nothing to answer.
    if (has_id && !message.contains("result") && !message.contains("error")) {
      action.reply = rpc::make_error(id, code::invalid_request, "invalid request: \"method\" is missing");
    }
    return action;
  }
  if (!message["method"].is_string()) {
    if (has_id)
      action.reply = rpc::make_error(id, code::invalid_request, "invalid request: \"method\" must be a string");
    return action;
  }
  const std::string method = message["method"].get<std::string>();
  json params = message.contains("params") ? message["params"] : json::object();
  if (params.is_null()) params = json::object();

  if (!has_id) {
    // Notifications: never answered.
    if (method == "notifications/cancelled" && params.is_object() && params.contains("requestId")) {
      action.cancel = params["requestId"];
    }
    return action;
  }
  if (!params.is_object()) {
    action.reply = rpc::make_error(id, code::invalid_params, "invalid params: \"params\" must be an object");
    return action;
  }
  try {
    std::string reply = handle_request(id, method, params, action);
    if (!action.call) action.reply = std::move(reply);
  } catch (const ProtocolError& e) {
    action.call.reset();
    action.reply = rpc::make_error(id, e.code, e.message);
  }
  return action;
}

std::string Protocol::handle_request(const json& id, const std::string& method, const json& params, Action& action) {
  if (method == "initialize") {
    auto it = params.find("protocolVersion");
    if (it == params.end() || !it->is_string()) {
      throw ProtocolError{code::invalid_params, "invalid params: \"protocolVersion\" must be a string"};
    }
    std::string version = negotiate_version(it->get<std::string>());
    {
      std::lock_guard lock(mutex_);
      version_ = version;
    }
    return rpc::make_result(id, {{"protocolVersion", version},
                                 {"capabilities", {{"tools", json::object()}, {"logging", json::object()}}},
                                 {"serverInfo", server_info()},
                                 {"instructions", kInstructions}});
  }
  if (method == "ping") return rpc::make_result(id, json::object());
  if (method == "tools/list") {
    json tools = json::array();
    for (const auto& tool : tool_table()) tools.push_back(tool.to_json());
    return rpc::make_result(id, {{"tools", tools}});
  }
  if (method == "tools/call") {
    auto name = params.find("name");
    if (name == params.end() || !name->is_string()) {
      throw ProtocolError{code::invalid_params, "invalid params: \"name\" must be the name of a tool"};
    }
    const Tool* tool = find_tool(name->get<std::string>());
    if (!tool) {
      std::string names;
      for (const auto& t : tool_table()) names += (names.empty() ? "" : ", ") + t.name;
      throw ProtocolError{code::invalid_params,
                          fmt::format("unknown tool \"{}\"; the tools are: {}", name->get<std::string>(), names)};
    }
    json arguments = params.contains("arguments") ? params["arguments"] : json::object();
    if (arguments.is_null()) arguments = json::object();
    if (!arguments.is_object()) {
      throw ProtocolError{code::invalid_params, "invalid params: \"arguments\" must be an object"};
    }
    action.call = ToolCall{id, tool, std::move(arguments)};
    return {};
  }
  if (method == "logging/setLevel") {
    auto level = params.find("level");
    auto parsed =
        level != params.end() && level->is_string() ? parse_log_level(level->get<std::string>()) : std::nullopt;
    if (!parsed) {
      throw ProtocolError{code::invalid_params,
                          "invalid params: \"level\" must be one of debug, info, notice, warning, error, critical, "
                          "alert, emergency"};
    }
    level_.store(*parsed);
    return rpc::make_result(id, json::object());
  }
  throw ProtocolError{code::method_not_found, fmt::format("method not found: \"{}\"", method)};
}

std::string tool_response(const json& id, const ToolResult& result) { return rpc::make_result(id, result.to_json()); }

}  // namespace tend::mcp
