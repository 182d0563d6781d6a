#pragma once
// Checking a tool's arguments against its input schema, and reading them.
//
// Only the schema's top level is checked (required names, no unknown names,
// each value's type, minimums): enough to tell a model exactly which argument
// was wrong. What a value means is the daemon's to check.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>

namespace tend::mcp {

using nlohmann::json;

/// Throws ToolError naming the first argument that does not fit `schema`.
/// Returns the arguments ready to read: nulls dropped (as if left out) and
/// whole numbers given as 5.0 made integers where the schema wants one.
json check_arguments(const json& schema, const json& arguments);

/// How long task_wait and agent_wait wait when the caller gives no timeout_s.
constexpr std::int64_t kDefaultWaitTimeoutMs = 30'000;

/// A duration given in seconds (fractions allowed), as whole milliseconds;
/// throws ToolError for what every duration refuses (core/duration.hpp:
/// negative, NaN, infinite, past kMaxDuration).
std::optional<std::int64_t> seconds_arg(const json& arguments, const char* name);

/// A task reference for the daemon: an id (a number, or digits in a string)
/// or a name, parsed by rpc::parse_task_ref; throws ToolError for an empty
/// one or an id no task can have.
json task_ref(const json& value);

}  // namespace tend::mcp
