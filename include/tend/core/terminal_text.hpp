#pragma once
// Terminal output for people: the raw bytes stay in the log; this is the view.

#include <string>
#include <string_view>

namespace tend {

/// Removes ANSI escape sequences (CSI such as colours and cursor moves, OSC
/// such as window titles, and two-byte escapes) and turns "\r\n" into "\n".
/// Other bytes, invalid UTF-8 included, pass through unchanged.
std::string strip_ansi(std::string_view text);

}  // namespace tend
