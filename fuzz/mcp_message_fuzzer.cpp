// `tend mcp`'s handling of what a client sends, as run_server does it (the
// line splitter, Protocol::handle_line, and tools/call through call_tool),
// with no daemon: the DaemonLink is closed, so a tool that gets past its
// argument checks fails to connect instead of starting one. Invariants:
// - every request (an object with "jsonrpc": "2.0", a number or string id
//   and a string method) gets exactly one answer, with its id, and nothing
//   else gets more than one;
// - every answer is one line of JSON-RPC 2.0 with exactly one of result
//   and error;
// - a tool answers with a result or its own error, never "internal error"
//   (an exception it did not expect);
// - afterwards the server still answers a ping.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/daemon_link.hpp"
#include "mcp/event_relay.hpp"
#include "mcp/protocol.hpp"
#include "mcp/tool_call.hpp"
#include "mcp/tool_context.hpp"
#include "tend/rpc/json_rpc.hpp"

using namespace tend;
using namespace tend::mcp;

namespace {

// A well-formed answer, checked; returns its id.
json check_answer(const std::string& line) {
  if (line.find('\n') != std::string::npos) __builtin_trap();
  json answer = json::parse(line);  // throws (and so crashes the fuzzer) when not JSON
  if (!answer.is_object() || answer.value("jsonrpc", json()) != "2.0") __builtin_trap();
  if (answer.contains("result") == answer.contains("error")) __builtin_trap();
  if (!answer.contains("id")) __builtin_trap();
  if (answer.contains("error") && !answer["error"]["message"].is_string()) __builtin_trap();
  return answer["id"];
}

// What handle_line must treat as a request needing one answer.
std::optional<json> request_id(const std::string& line) {
  json m = json::parse(line, nullptr, false);
  if (m.is_discarded() || !m.is_object() || !m.contains("id")) return std::nullopt;
  const json& id = m["id"];
  if (!id.is_number_integer() && !id.is_string()) return std::nullopt;
  if (m.value("jsonrpc", json()) != "2.0" || !m.contains("method") || !m["method"].is_string()) return std::nullopt;
  return id;
}

struct Server {
  Protocol protocol;
  DaemonLink link;
  EventRelay relay{link, [](LogLevel, const json&) {}};
  rpc::LineReader reader{4096};

  Server() {
    link.close();
    relay.stop();
  }

  // One line, as run_server handles it; returns how many answers it gave.
  int serve(const rpc::LineReader::Line& line) {
    if (line.too_long) return 1;  // run_server answers with a fixed error
    if (line.text.find_first_not_of(" \t\r") == std::string::npos) return 0;
    Action action = protocol.handle_line(line.text);
    if (action.reply && action.call) __builtin_trap();
    auto expected = request_id(line.text);
    int answers = 0;
    if (action.reply) {
      json id = check_answer(*action.reply);
      if (expected && id != *expected) __builtin_trap();
      ++answers;
    }
    if (action.call) {
      if (!expected || action.call->id != *expected || !action.call->tool) __builtin_trap();
      ToolResult result;
      {
        ToolContext context(link, relay, action.call->id.dump());
        result = call_tool(*action.call->tool, context, action.call->arguments);
      }
      // A tool's own bug (an exception it did not expect) shows as this.
      if (result.text.rfind("internal error", 0) == 0) __builtin_trap();
      if (check_answer(tool_response(action.call->id, result)) != *expected) __builtin_trap();
      ++answers;
    }
    if (action.cancel) link.cancel(action.cancel->dump());
    if (expected && answers != 1) __builtin_trap();
    return answers;
  }

  void feed(std::string_view bytes) {
    reader.feed(bytes);
    while (auto line = reader.next()) serve(*line);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Server server;
  // In uneven chunks, as a pipe delivers them.
  std::size_t chunk = size % 13 + 1;
  for (std::size_t at = 0; at < bytes.size(); at += chunk) server.feed(bytes.substr(at, chunk));
  // It goes on: a ping after whatever came before is answered.
  server.feed("\n");
  Action action = server.protocol.handle_line(R"({"jsonrpc":"2.0","id":"after","method":"ping"})");
  if (!action.reply || check_answer(*action.reply) != "after") __builtin_trap();
  return 0;
}
