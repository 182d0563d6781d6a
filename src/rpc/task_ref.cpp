#include "tend/rpc/task_ref.hpp"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "tend/core/terminal_text.hpp"

namespace tend::rpc {
namespace {

constexpr auto kMaxId = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

[[noreturn]] void no_task(std::string_view shown) {
  throw TaskRefError(TaskRefError::Kind::no_such_task, fmt::format("no task {}", shown));
}

TaskRef id_ref(std::uint64_t id, std::string_view shown) {
  if (id == 0 || id > kMaxId) no_task(shown);
  return {id, {}};
}

}  // namespace

nlohmann::json TaskRef::to_json() const { return id ? nlohmann::json(*id) : nlohmann::json(name); }

TaskRef parse_task_ref_text(std::string_view text) {
  if (text.empty()) {
    throw TaskRefError(TaskRefError::Kind::malformed, "an empty task reference: give a task id or name");
  }
  if (text.find_first_not_of("0123456789") != std::string_view::npos) return {std::nullopt, std::string(text)};
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size()) no_task(text);  // past 2^64
  return id_ref(id, text);
}

TaskRef parse_task_ref(const nlohmann::json& value) {
  if (value.is_string()) return parse_task_ref_text(value.get_ref<const std::string&>());
  if (value.is_number_unsigned()) return id_ref(value.get<std::uint64_t>(), value.dump());
  if (value.is_number_integer()) {
    if (value.get<std::int64_t>() <= 0) no_task(value.dump());
    return id_ref(value.get<std::uint64_t>(), value.dump());
  }
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::floor(d) == d) {
      if (d < 1 || d >= 9223372036854775808.0) no_task(value.dump());
      return id_ref(static_cast<std::uint64_t>(d), value.dump());
    }
  }
  throw TaskRefError(TaskRefError::Kind::malformed, "a task is named by its id (a whole number) or its name");
}

}  // namespace tend::rpc
