#pragma once
// The CLI talks to the daemon through the rpc layer's client (shared with the
// MCP server); these names keep the CLI's code as it was.

#include "tend/rpc/client.hpp"

namespace tend::cli {

using rpc::Client;
using rpc::ClientError;
using rpc::json;
using rpc::start_daemon;

}  // namespace tend::cli
