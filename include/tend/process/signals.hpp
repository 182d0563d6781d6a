#pragma once
// Signal names, parsed and printed in one place.

#include <optional>
#include <string>
#include <string_view>

namespace tend::process {

/// Parses "TERM", "SIGTERM", "sigterm" or "15" into a signal number.
/// Returns nullopt for anything that is not a signal this system has.
std::optional<int> parse_signal(std::string_view text);

/// "SIGTERM" for 15; "signal 99" for a number without a name.
std::string signal_name(int sig);

}  // namespace tend::process
