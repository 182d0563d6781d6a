#pragma once
// MCP's logging levels (those of syslog, RFC 5424), least severe first.

#include <optional>
#include <string_view>

namespace tend::mcp {

enum class LogLevel { debug, info, notice, warning, error, critical, alert, emergency };

std::optional<LogLevel> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

}  // namespace tend::mcp
