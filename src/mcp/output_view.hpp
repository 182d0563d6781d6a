#pragma once
// A task's output as a result shows it: bounded in size, cut at a line start,
// with the byte cursors that let the model read the rest (task_output).

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tend::mcp {

using nlohmann::json;
class ToolContext;

struct OutputView {
  std::string text;               ///< the bytes shown, ANSI escapes removed
  std::uint64_t from = 0;         ///< the cursor where `text` starts
  std::uint64_t next_cursor = 0;  ///< read on from here
  std::uint64_t total = 0;        ///< bytes in the stream when read
  std::string stream = "stdout";
  json task;  ///< the task's status, read just before the output

  /// Output before `from` was left out.
  bool cut() const { return from > 0; }
  json to_json() const;
  /// The output as a block of text with a header that says what was left out
  /// and how to get it.
  std::string render(const json& task_id) const;
};

/// The last `limit` bytes (or fewer, from a line start) of a task's stream.
OutputView read_output_tail(ToolContext& context, const json& task_id, std::size_t limit,
                            const std::string& stream = "stdout");

}  // namespace tend::mcp
