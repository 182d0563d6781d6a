#pragma once
// Durations: std::chrono end to end, parsed and printed only here.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tend {

using Duration = std::chrono::milliseconds;

/// Parses "500ms", "30s", "1.5s", "5m", "1h", "2d", "1m30s" or a bare number
/// of seconds ("10"). Returns nullopt for anything else (negative, empty,
/// unknown unit, overflow).
std::optional<Duration> parse_duration(std::string_view text);

/// "250ms", "30s", "1.5s", "5m", "1h2m3s".
std::string format_duration(Duration d);

}  // namespace tend
