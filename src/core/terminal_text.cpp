#include "tend/core/terminal_text.hpp"

#include <fmt/format.h>

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

Utf8Char utf8_char_at(std::string_view text, std::size_t at) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(at);
  if (lead < 0x80) return {lead, 1};
  std::size_t length;
  char32_t c;
  char32_t min;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2, c = lead & 0x1f, min = 0x80;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3, c = lead & 0x0f, min = 0x800;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4, c = lead & 0x07, min = 0x10000;
  } else {
    return {};
  }
  if (at + length > text.size()) return {};
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xc0) != 0x80) return {};
    c = (c << 6) | (byte(at + i) & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return {};
  return {c, length};
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    Utf8Char c = utf8_char_at(text, i);
    if (c.length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (!is_control(c.code_point)) {
      out.append(text.substr(i, c.length));
    } else if (c.code_point == '\n') {
      out += "\\n";
    } else if (c.code_point == '\r') {
      out += "\\r";
    } else if (c.code_point == '\t') {
      out += "\\t";
    } else if (c.code_point < 0x80) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(c.code_point));
    } else {
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c.code_point));
    }
    i += c.length;
  }
  return out;
}

}  // namespace tend
