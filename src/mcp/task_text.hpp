#pragma once
// Task objects (docs/protocol.md) as a model reads them: short sentences that
// state the facts (state, end reason, exit code, signal, duration).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tend::mcp {

using nlohmann::json;

/// "1.25 s", "3 min 5 s", "12 ms".
std::string format_seconds(std::int64_t ms);

/// One line: `task 3 "make test" succeeded: exit code 0 after 1.25 s`, or
/// `task 4 "npm run dev" is running (12 s so far, ready on port 5173)`.
std::string describe_task(const json& task);

/// The stable fields a result carries about a task.
json task_facts(const json& task);

/// True once the task has reached a final state.
bool is_finished(const json& task);

}  // namespace tend::mcp
