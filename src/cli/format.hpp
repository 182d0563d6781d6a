#pragma once
// How the CLI shows things to people: tables, colours, durations.

#include <nlohmann/json.hpp>
#include <string>

namespace tend::cli {

using nlohmann::json;

/// Colour only on a terminal, and never with NO_COLOR set.
bool use_colour(int fd);
std::string coloured_state(const std::string& state, bool colour);
/// The `tend ls` table.
std::string task_table(const json& tasks, bool colour);
/// The `tend status` page.
std::string status_page(const json& task, bool colour);
/// "1.2s", "3m4s": a duration in milliseconds for people.
std::string human_ms(std::int64_t ms);

/// A string a task or a user supplied (name, command, reason), with its
/// control characters and invalid UTF-8 made visible (escape_controls): safe
/// to print in a table.
std::string shown(const json& text);

}  // namespace tend::cli
