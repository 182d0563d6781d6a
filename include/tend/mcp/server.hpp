#pragma once
// `tend mcp`: tend as a Model Context Protocol server over stdio.
//
// The server is a thin front end. Each MCP tool maps onto the daemon's
// JSON-RPC methods (docs/protocol.md); the daemon is started on first use and
// may be shared by any number of MCP servers and CLIs. Messages are JSON-RPC
// 2.0, one per line, on the given descriptors. Tool calls run concurrently,
// each on its own connection to the daemon, so a long `task_wait` never holds
// up a `ping`. Tasks this server started report their end as
// `notifications/message` (see docs/mcp.md).

#include <chrono>

namespace tend::mcp {

/// The descriptors the MCP server talks on (stdin and stdout by default).
struct ServerOptions {
  int input_fd = 0;   ///< where requests come from
  int output_fd = 1;  ///< where answers and notifications go (nothing else is written there)
};

/// Serves MCP until the input ends; returns the process exit code.
int run_server(const ServerOptions& options = {});

}  // namespace tend::mcp
