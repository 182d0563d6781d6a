#pragma once
// Reading JSON that someone else wrote: a request line, an MCP message, a
// record in the database.
//
// nlohmann's parser itself does not recurse, but what one does with the
// value afterwards does: copying, printing, comparing and (in some versions)
// destroying a json walk it recursively, one stack frame per level. A
// request line of 200 KB can nest 100 000 arrays deep and overflow the
// daemon's stack. So every JSON text from outside is parsed here, which
// stops at max_json_depth levels while parsing, before a deep value exists.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

namespace tend::store {

/// The deepest nesting of arrays and objects accepted (documented in docs/protocol.md).
constexpr std::size_t max_json_depth = 64;

/// The text nests arrays or objects deeper than max_json_depth; what() says so.
class JsonTooDeep : public std::runtime_error {
 public:
  /// The message names the limit.
  JsonTooDeep();
};

/// nlohmann::json::parse with the nesting limit. Throws JsonTooDeep, or
/// nlohmann::json::exception when the text is not JSON.
nlohmann::json parse_json(std::string_view text);

}  // namespace tend::store
