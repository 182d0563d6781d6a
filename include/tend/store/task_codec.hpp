#pragma once
// Tasks as JSON: the one place specs and statuses are turned into JSON and
// back, for the database and for the wire. Status fields use the stable names
// scripts depend on: id, name, kind, state, exit_code, signal, reason,
// command, cwd, started_at, ended_at (ISO-8601), duration_ms.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "tend/core/task.hpp"

namespace tend::store {

/// A spec or status that cannot be read back; what() names the field.
class CodecError : public std::runtime_error {
 public:
  /// Takes the message what() gives.
  using std::runtime_error::runtime_error;
};

/// A spec as a JSON object, and back; spec_from_json throws CodecError for a
/// field of the wrong type or value (fields it lacks take their defaults).
nlohmann::json spec_to_json(const TaskSpec& spec);
TaskSpec spec_from_json(const nlohmann::json& j);

/// The status with the spec's command and cwd, as `tend status --json` shows it.
nlohmann::json status_to_json(const TaskStatus& status, const TaskSpec& spec);
TaskStatus status_from_json(const nlohmann::json& j);

/// "2026-11-24T15:50:27.123Z"
std::string format_time(Clock::time_point t);
std::optional<Clock::time_point> parse_time(const std::string& text);

}  // namespace tend::store
