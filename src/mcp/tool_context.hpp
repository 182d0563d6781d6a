#pragma once
// What a tool's mapping function works with: the daemon (a connection of the
// call's own, opened on first use) and the relay that reports task ends.

#include <cstdint>
#include <optional>
#include <string>

#include "daemon_link.hpp"
#include "event_relay.hpp"

namespace tend::mcp {

class ToolContext {
 public:
  /// `key` names the MCP request, so it can be cancelled.
  ToolContext(DaemonLink& link, EventRelay& relay, std::string key);
  ~ToolContext();
  ToolContext(const ToolContext&) = delete;
  ToolContext& operator=(const ToolContext&) = delete;

  /// Calls a daemon method (connecting, and starting the daemon, on first
  /// use). Throws rpc::RpcError for the daemon's errors, rpc::ClientError
  /// when it cannot be reached.
  json call(const std::string& method, json params);

  /// Reports the end of task `id` to the client as a log message.
  void watch(std::int64_t id);

 private:
  DaemonLink& link_;
  EventRelay& relay_;
  std::string key_;
  std::optional<rpc::Client> client_;
};

}  // namespace tend::mcp
