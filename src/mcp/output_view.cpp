#include "output_view.hpp"

#include <fmt/format.h>

#include "tend/core/terminal_text.hpp"
#include "tool_context.hpp"

namespace tend::mcp {

json OutputView::to_json() const {
  return {{"text", text},         {"from", from},     {"next_cursor", next_cursor},
          {"total_bytes", total}, {"stream", stream}, {"truncated", cut()}};
}

std::string OutputView::render(const json& task_id) const {
  if (total == 0) return fmt::format("({} is empty)\n", stream);
  std::string out;
  if (cut()) {
    out += fmt::format(
        "--- {}: last {} of {} bytes; the {} bytes before are left out: read them with task_output "
        "{{\"id\": {}, \"since\": 0}} ---\n",
        stream, total - from, total, from, task_id.dump());
  } else {
    out += fmt::format("--- {} ({} bytes) ---\n", stream, total);
  }
  out += text;
  if (!text.empty() && text.back() != '\n') out += '\n';
  out += fmt::format("--- end of {}; next cursor: {} ---\n", stream, next_cursor);
  return out;
}

OutputView read_output_tail(ToolContext& context, const json& task_id, std::size_t limit, const std::string& stream) {
  json status = context.call("task.status", {{"id", task_id}});
  OutputView view;
  view.task = status;
  view.stream = stream;
  view.total = status.value(stream + "_bytes", std::uint64_t{0});
  view.from = view.total > limit ? view.total - limit : 0;
  json r =
      context.call("task.output", {{"id", task_id}, {"stream", stream}, {"since", view.from}, {"max_bytes", limit}});
  std::string data = r.value("data", "");
  view.next_cursor = r.value("next_cursor", view.from + data.size());
  view.total = std::max<std::uint64_t>(view.total, view.next_cursor);
  if (view.from > 0) {
    // Start at a line, not in the middle of one (or of a UTF-8 character).
    auto nl = data.find('\n');
    if (nl != std::string::npos && nl + 1 < data.size()) {
      data.erase(0, nl + 1);
      view.from += nl + 1;
    }
  }
  view.text = strip_ansi(data);
  return view;
}

}  // namespace tend::mcp
