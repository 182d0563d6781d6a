#pragma once
// What a task may be called. One rule, checked where a client names a task
// (the RPC service), so the command line and the MCP server refuse the same
// names with the same words.
//
// A name is 1 to 64 bytes of UTF-8 with no control characters (C0, DEL,
// C1): it is printed in tables and status pages, where a newline or an
// escape sequence would forge lines or repaint the terminal. It is not all
// digits (digits are an id) and has no `/` (reserved for project task
// names such as `web/dev`).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tend {

/// The longest task name accepted, in bytes.
inline constexpr std::size_t kMaxTaskNameBytes = 64;

/// Why `name` cannot name a task ("is empty", "has a control character
/// (\x1b) at byte 3", ...), or nullopt when it can.
std::optional<std::string> task_name_problem(std::string_view name);

}  // namespace tend
