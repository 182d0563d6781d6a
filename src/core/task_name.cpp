#include "tend/core/task_name.hpp"

#include <fmt/format.h>

#include "tend/core/terminal_text.hpp"

namespace tend {

std::optional<std::string> task_name_problem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > kMaxTaskNameBytes) {
    return fmt::format("is {} bytes long; the limit is {}", name.size(), kMaxTaskNameBytes);
  }
  if (name.find_first_not_of("0123456789") == std::string_view::npos) return "is all digits (digits are a task id)";
  for (std::size_t i = 0; i < name.size();) {
    auto c = utf8_char_at(name, i);
    if (c.length == 0) {
      return fmt::format("is not valid UTF-8 (byte {} is \\x{:02x})", i, static_cast<unsigned char>(name[i]));
    }
    if (is_control(c.code_point)) {
      return fmt::format("has a control character ({}) at byte {}", escape_controls(name.substr(i, c.length)), i);
    }
    if (c.code_point == '/') return "has a \"/\" (reserved for project task names)";
    i += c.length;
  }
  return std::nullopt;
}

}  // namespace tend
