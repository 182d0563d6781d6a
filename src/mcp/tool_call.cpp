#include "tool_call.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "arguments.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/rpc/client.hpp"
#include "tool_context.hpp"

namespace tend::mcp {
namespace {

ToolResult failure(std::string message, json structured = json::object()) {
  ToolResult r;
  r.is_error = true;
  r.text = std::move(message);
  structured["error"] = r.text;
  r.structured = std::move(structured);
  return r;
}

// The daemon's error, with what to do next where that is not obvious.
ToolResult daemon_failure(const Tool& tool, const rpc::RpcError& e) {
  namespace code = rpc::error_code;
  std::string message = e.what();
  json structured = {{"code", e.code()}};
  switch (e.code()) {
    case code::no_such_task:
      message += tool.name.rfind("agent_", 0) == 0 ? ". An agent is named by the id agent_spawn returned."
                                                    : ". task_list shows the tasks there are.";
      break;
    case code::invalid_params:
      message += fmt::format(". See the input schema of {}.", tool.name);
      break;
    case code::spawn_failed:
      if (e.data().contains("subject")) structured["subject"] = e.data()["subject"];
      break;
    case code::not_ready:
      if (e.data().contains("id")) structured["id"] = e.data()["id"];
      if (e.data().contains("output_tail")) {
        std::string tail = strip_ansi(e.data()["output_tail"].get<std::string>());
        structured["output_tail"] = tail;
        message += "\nIts last output:\n" + tail;
      }
      break;
    default:
      break;
  }
  return failure(std::move(message), std::move(structured));
}

}  // namespace

ToolResult call_tool(const Tool& tool, ToolContext& context, const json& arguments) {
  try {
    json checked = check_arguments(tool.input_schema, arguments);
    return tool.call(context, checked);
  } catch (const ToolError& e) {
    return failure(fmt::format("{}: {}", tool.name, e.what()));
  } catch (const rpc::RpcError& e) {
    return daemon_failure(tool, e);
  } catch (const rpc::ClientError& e) {
    return failure(
        fmt::format("cannot reach the tend daemon: {}. Nothing was done; try again, or check `tend daemon "
                    "status` and the daemon's log.",
                    e.what()));
  } catch (const std::exception& e) {
    spdlog::error("tend mcp: {} failed: {}", tool.name, e.what());
    return failure(fmt::format("internal error in tend mcp ({}): {}. Please report it.", tool.name, e.what()));
  }
}

}  // namespace tend::mcp
