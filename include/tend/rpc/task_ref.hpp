#pragma once
// A task as a client names it: by its id or by its name. The one parser of
// a reference, used by the command line (what a user typed), the MCP server
// (what a model sent) and the service (what arrived on the socket), so all
// three take and refuse the same things.
//
// Digits are an id, 1 to 2^63-1 (JSON numbers too); anything else that is
// not empty is a name. Which task a name refers to is the service's to say
// (the live one first; docs/protocol.md).

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tend/core/task.hpp"

namespace tend::rpc {

/// A parsed reference: an id or a name, never both.
struct TaskRef {
  std::optional<TaskId> id;  ///< set for an id; otherwise `name` is
  /// The name, when `id` is not set.
  std::string name;

  /// As the RPC params carry it: a number for an id, a string for a name.
  nlohmann::json to_json() const;
};

/// A reference that names no task whatever tasks exist.
class TaskRefError : public std::invalid_argument {
 public:
  /// Why it names no task.
  enum class Kind {
    malformed,     ///< empty, or neither a number nor a string: a usage error
    no_such_task,  ///< an id no task can have: 0, negative, past 2^63-1
  };
  /// `message` says what was wrong with the reference, in words.
  TaskRefError(Kind kind, const std::string& message) : std::invalid_argument(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// What a user typed: "42" is an id, "web" a name. Throws TaskRefError.
TaskRef parse_task_ref_text(std::string_view text);

/// What a client sent: a number (5 or 5.0) is an id, a string as above.
/// Throws TaskRefError.
TaskRef parse_task_ref(const nlohmann::json& value);

}  // namespace tend::rpc
