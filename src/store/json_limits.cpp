#include "tend/store/json_limits.hpp"

#include <fmt/format.h>

namespace tend::store {

JsonTooDeep::JsonTooDeep()
    : std::runtime_error(fmt::format("JSON nested deeper than {} levels", max_json_depth)) {}

nlohmann::json parse_json(std::string_view text) {
  // `depth` counts the arrays and objects open around the event: an array
  // opened at depth max_json_depth would be one level too many.
  auto bounded = [](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    const bool opens = event == nlohmann::json::parse_event_t::object_start ||
                       event == nlohmann::json::parse_event_t::array_start;
    if (opens && static_cast<std::size_t>(depth) >= max_json_depth) throw JsonTooDeep();
    return true;
  };
  return nlohmann::json::parse(text, bounded);
}

}  // namespace tend::store
