#include "tend/core/terminal_text.hpp"

namespace tend {

std::string strip_ansi(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (c != '\x1b') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) break;  // a lone ESC at the end
    char kind = text[i + 1];
    i += 2;
    if (kind == '[') {
      // CSI: parameters and intermediates, then one final byte in @..~.
      while (i < text.size() && !(text[i] >= '@' && text[i] <= '~')) ++i;
      ++i;
    } else if (kind == ']' || kind == 'P' || kind == '_' || kind == '^') {
      // OSC / DCS / APC / PM: up to BEL or ESC backslash.
      while (i < text.size() && text[i] != '\x07' && !(text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '\\')) {
        ++i;
      }
      i += (i < text.size() && text[i] == '\x07') ? 1 : 2;
    } else if (kind == '(' || kind == ')' || kind == '#' || kind == '%') {
      ++i;  // charset selection: one more byte
    }
    // Any other two-byte escape (ESC =, ESC >, ESC 7, ...) is already skipped.
  }
  return out;
}

}  // namespace tend
