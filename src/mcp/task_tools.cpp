// task_output, task_wait, task_kill, task_send, task_list, task_status:
// looking after tasks through the daemon's task.* methods.

#include <fmt/format.h>

#include "arguments.hpp"
#include "task_text.hpp"
#include "task_tools.hpp"
#include "tend/core/terminal_text.hpp"
#include "tool_context.hpp"

namespace tend::mcp {
namespace {

constexpr std::int64_t kReadLimit = 32 * 1024;
constexpr int kTailLines = 15;

std::string indented(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    out += "    " + text.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  return out;
}

}  // namespace

ToolResult task_output(ToolContext& ctx, const json& a) {
  const json id = task_ref(a["id"]);
  json params = {{"id", id}, {"max_bytes", kReadLimit}};
  for (const char* key : {"since", "tail_lines", "grep", "stream"}) {
    if (a.contains(key)) params[key] = a[key];
  }
  if (a.value("stream", "") == "both" && a.contains("since")) {
    throw ToolError("since is a cursor of one stream: with stream both, use tail_lines or grep, or read stdout and "
                    "stderr apart");
  }
  if (auto ms = seconds_arg(a, "wait_s")) params["wait_ms"] = *ms;
  json r = ctx.call("task.output", params);
  const std::string data = r.value("data", "");
  const std::uint64_t since = a.value("since", std::uint64_t{0});
  const std::uint64_t next = r.contains("next_cursor") ? r["next_cursor"].get<std::uint64_t>() : since;
  const bool eof = r.value("eof", false);
  const std::string state = r.value("state", "");
  const std::string stream = r.value("stream", "stdout");

  std::string what =
      a.contains("tail_lines") ? fmt::format("the last {} lines of {}", a["tail_lines"].get<int>(), stream)
      : a.contains("grep")
          ? fmt::format("{} lines matching \"{}\" from cursor {}", stream, a["grep"].get<std::string>(), since)
          : fmt::format("{} from cursor {}", stream, since);
  std::string text = fmt::format("task {} ({}), {}:\n", id.dump(), state, what);
  if (data.empty()) {
    text += "(no new output)\n";
  } else {
    text += strip_ansi(data);
    if (text.back() != '\n') text += '\n';
  }
  if (eof) {
    text += fmt::format("--- end: the task has ended and this is all of its {} (cursor {}) ---\n", stream, next);
  } else if (!a.contains("tail_lines") && !a.contains("grep") && data.size() >= static_cast<std::size_t>(kReadLimit)) {
    text += fmt::format("--- more output follows: call task_output with since {} ---\n", next);
  } else {
    text += fmt::format("--- next cursor: {} (pass it as since to get only newer output) ---\n", next);
  }
  ToolResult result;
  result.text = std::move(text);
  result.structured = {{"id", id},
                       {"state", state},
                       {"stream", stream},
                       {"data", data},
                       {"eof", eof},
                       {"next_cursor", next},
                       {"next_cursors", r.value("next_cursors", json::object())},
                       {"skipped", r.value("skipped", 0)}};
  return result;
}

ToolResult task_wait(ToolContext& ctx, const json& a) {
  json ids = json::array();
  for (const auto& ref : a["ids"]) ids.push_back(task_ref(ref));
  const bool any = a.value("any", false);
  const std::int64_t timeout_ms = seconds_arg(a, "timeout_s").value_or(kDefaultWaitTimeoutMs);
  json w = ctx.call("task.wait", {{"ids", ids}, {"any", any}, {"timeout_ms", timeout_ms}});

  std::string text;
  json finished = json::array();
  for (const auto& task : w["finished"]) {
    json tail = ctx.call("task.output", {{"id", task["id"]}, {"tail_lines", kTailLines}});
    std::string lines = strip_ansi(tail.value("data", ""));
    text += describe_task(task) + "\n";
    text += lines.empty() ? "    (no output)\n" : fmt::format("  last lines of its output:\n{}", indented(lines));
    json facts = task_facts(task);
    facts["output_tail"] = lines;
    finished.push_back(facts);
  }
  json pending = w.value("pending", json::array());
  const bool timed_out = w.value("timed_out", false);
  std::string head;
  if (timed_out) {
    head = fmt::format("The wait timed out after {}: {}.", format_seconds(timeout_ms),
                       any ? "none of them ended" : "not all of them ended");
  } else {
    head = any ? "One of them ended." : "All of them ended.";
  }
  if (!pending.empty()) {
    std::string list;
    for (const auto& p : pending) list += (list.empty() ? "" : ", ") + p.dump();
    head += fmt::format(" Still running: {} (they go on; wait again, or task_kill them).", list);
  }
  ToolResult result;
  result.text = head + "\n" + text;
  result.structured = {{"finished", finished}, {"pending", pending}, {"timed_out", timed_out}};
  return result;
}

ToolResult task_kill(ToolContext& ctx, const json& a) {
  const json id = task_ref(a["id"]);
  json params = {{"ids", json::array({id})}};
  if (a.contains("signal")) params["signal"] = a["signal"];
  if (auto ms = seconds_arg(a, "grace_s")) params["grace_ms"] = *ms;
  // One call: the daemon says whether the task had already ended, so there
  // is no window between a check and the kill.
  json r = ctx.call("task.kill", params);
  const json& task = r["tasks"].at(0);
  const bool ended = task.value("already_ended", false);
  ToolResult result;
  if (task.contains("signal_sent")) {
    const bool sent = task["signal_sent"].get<bool>();
    result.text =
        sent ? fmt::format("Sent {} to task {} (now {}). It was not stopped: only that signal was sent.",
                           a["signal"].get<std::string>(), id.dump(), task.value("state", ""))
             : fmt::format("Task {} had already ended ({}): nothing was sent.", id.dump(), task.value("state", ""));
    result.structured = task;
  } else {
    result.text = ended ? "It had already ended; nothing was sent. " + describe_task(task) : describe_task(task);
    result.structured = {{"task", task_facts(task)}, {"already_ended", ended}};
  }
  return result;
}

ToolResult task_send(ToolContext& ctx, const json& a) {
  const json id = task_ref(a["id"]);
  json r = ctx.call("task.send", {{"id", id}, {"text", a["text"]}, {"newline", a.value("newline", true)}});
  ToolResult result;
  result.text = fmt::format("Sent {} bytes to task {}. Read its answer with task_output (wait_s waits for it).",
                            r.value("sent_bytes", 0), id.dump());
  result.structured = r;
  return result;
}

ToolResult task_list(ToolContext& ctx, const json& a) {
  json r = ctx.call("task.list", {{"all", a.value("all", false)}});
  std::string text;
  json tasks = json::array();
  for (const auto& task : r["tasks"]) {
    text += describe_task(task) + "\n";
    tasks.push_back(task_facts(task));
  }
  if (text.empty()) text = "No tasks.\n";
  ToolResult result;
  result.text = std::move(text);
  result.structured = {{"tasks", tasks}};
  return result;
}

ToolResult task_status(ToolContext& ctx, const json& a) {
  json task = ctx.call("task.status", {{"id", task_ref(a["id"])}});
  std::string text = describe_task(task) + "\n";
  text +=
      fmt::format("kind: {}, cwd: {}, pid: {}\n", task.value("kind", ""), task.value("cwd", ""), task.value("pid", 0));
  text += fmt::format("output: {} bytes on stdout, {} on stderr (read with task_output)\n",
                      task.value("stdout_bytes", 0), task.value("stderr_bytes", 0));
  if (task.contains("transitions")) {
    text += "state changes:\n";
    for (const auto& t : task["transitions"]) {
      text += fmt::format("    {} {}: {}\n", t.value("at", ""), t.value("state", ""), t.value("reason", ""));
    }
  }
  json facts = task_facts(task);
  for (const char* key : {"stdout_bytes", "stderr_bytes", "transitions", "history", "attempts"}) {
    if (task.contains(key)) facts[key] = task[key];
  }
  ToolResult result;
  result.text = std::move(text);
  result.structured = {{"task", facts}};
  return result;
}

}  // namespace tend::mcp
