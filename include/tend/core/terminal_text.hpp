#pragma once
// Terminal output for people: the raw bytes stay in the log; this is the view.

#include <cstddef>
#include <string>
#include <string_view>

namespace tend {

/// Removes ANSI escape sequences (CSI such as colours and cursor moves, OSC
/// such as window titles, and two-byte escapes) and turns "\r\n" into "\n".
/// Other bytes, invalid UTF-8 included, pass through unchanged.
std::string strip_ansi(std::string_view text);

/// Text a task or a user supplied (a name, a command, a reason), made safe
/// to print in a table: control characters (C0, DEL, C1) become visible
/// escapes (`\n`, `\t`, `\x1b`, `\u0085`) and bytes that are not UTF-8
/// become `\xNN`, so it cannot forge a line or move the cursor. Printable
/// text, backslashes included, passes through unchanged.
std::string escape_controls(std::string_view text);

/// One UTF-8 character: its code point and length in bytes; length 0 where
/// the bytes at `at` are not valid UTF-8 (overlong, surrogate, truncated).
struct Utf8Char {
  /// The character (0 when invalid), and its length in bytes.
  char32_t code_point = 0;
  std::size_t length = 0;
};
/// The character starting at byte `at` of `text` (`at` < text.size()).
Utf8Char utf8_char_at(std::string_view text, std::size_t at);

/// C0 (U+0000..U+001F), DEL (U+007F) or C1 (U+0080..U+009F).
constexpr bool is_control(char32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

}  // namespace tend
