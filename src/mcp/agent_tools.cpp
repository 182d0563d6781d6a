// agent_spawn, agent_status, agent_wait, agent_diff, agent_merge,
// agent_cancel: the daemon's agent.* methods, as `tend agent` offers them.

#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "arguments.hpp"
#include "task_tools.hpp"
#include "tool_context.hpp"

namespace tend::mcp {
namespace {

constexpr std::size_t kDiffLimit = 48 * 1024;

std::string text_of(const json& v, const char* fallback = "-") {
  return v.is_string() ? v.get<std::string>() : v.is_null() ? fallback : v.dump();
}

json ticket_ref(const json& v) { return v.is_number_integer() ? json(std::to_string(v.get<std::int64_t>())) : v; }

// One agent, for the model: where it stands and what to do next.
std::string describe_agent(const json& a) {
  std::string out = fmt::format("agent {}: {}", text_of(a["id"]), text_of(a["status"]));
  if (a["success"].is_boolean()) out += a["success"].get<bool>() ? " (succeeded)" : " (failed)";
  out += fmt::format("\n  task: {}\n  branch: {} (from {}), worktree: {}\n", text_of(a["task"]), text_of(a["branch"]),
                     text_of(a["base"]), text_of(a["worktree"]));
  if (a["commit"].is_string()) out += fmt::format("  commit: {}\n", a["commit"].get<std::string>().substr(0, 12));
  if (a["agent_task"].is_number()) {
    out += fmt::format("  its program ran as task {} ({}, exit code {}); task_output reads its output\n",
                       a["agent_task"].dump(), text_of(a["agent_state"]), text_of(a["exit_code"]));
  }
  if (a["conflicts"].is_array()) {
    out += fmt::format("  a merge is waiting on conflicts in: {}\n", fmt::join(a["conflicts"].get<std::vector<std::string>>(), ", "));
  }
  if (a["summary"].is_string() && !a["summary"].get<std::string>().empty()) {
    out += "  summary:\n" + a["summary"].get<std::string>();
    if (out.back() != '\n') out += '\n';
  }
  return out;
}

ToolResult agent_result(std::string head, const json& agent) {
  ToolResult r;
  r.text = head.empty() ? describe_agent(agent) : head + "\n" + describe_agent(agent);
  r.structured = {{"agent", agent}};
  return r;
}

ToolResult merge_result(const json& m) {
  ToolResult r;
  r.structured = m;
  if (m["merged"].get<bool>()) {
    r.text = m["up_to_date"].get<bool>()
                 ? fmt::format("{} already had this work; nothing to merge.", text_of(m["target"]))
                 : fmt::format("Merged into {} ({}): {} -> {}.", text_of(m["target"]), text_of(m["strategy"]),
                               text_of(m["previous_commit"]).substr(0, 12), text_of(m["commit"]).substr(0, 12));
    if (m["updated_worktree"].is_string()) {
      r.text += fmt::format(" The checkout of {} in {} was updated.", text_of(m["target"]), text_of(m["updated_worktree"]));
    }
  } else {
    r.text = fmt::format(
        "Conflict: the merge into {} stopped and {} did not move. Conflicted files: {}. Resolve with agent_merge "
        "and resolve: \"ours\" (keep {}'s version) or \"theirs\" (take the agent's), optionally for some files only.",
        text_of(m["target"]), text_of(m["target"]), fmt::join(m["conflicts"].get<std::vector<std::string>>(), ", "),
        text_of(m["target"]));
  }
  return r;
}

}  // namespace

ToolResult agent_spawn(ToolContext& ctx, const json& a) {
  json params = {{"task", a["task"]}, {"command", json::array({"/bin/sh", "-c", a["command"]})}};
  std::filesystem::path repo = a.value("repo", std::string("."));
  params["repo"] = std::filesystem::absolute(repo).string();
  for (const char* key : {"base", "priority", "constraints", "handles", "copy", "setup", "scrub_secrets", "keep_env"}) {
    if (a.contains(key)) params[key] = a[key];
  }
  if (auto ms = seconds_arg(a, "timeout_s")) params["timeout_ms"] = *ms;
  if (auto ms = seconds_arg(a, "idle_timeout_s")) params["idle_timeout_ms"] = *ms;
  // The agent gets this server's environment (its PATH, its keys).
  params["env"] = rpc::environment_json();
  json agent = ctx.call("agent.spawn", params);
  return agent_result(fmt::format("Started agent {} on its own branch; agent_wait or agent_status follow it.",
                                  text_of(agent["id"])),
                      agent);
}

ToolResult agent_status(ToolContext& ctx, const json& a) {
  return agent_result("", ctx.call("agent.status", {{"id", ticket_ref(a["id"])}}));
}

ToolResult agent_wait(ToolContext& ctx, const json& a) {
  json ids = json::array();
  for (const auto& id : a["ids"]) ids.push_back(ticket_ref(id));
  const bool any = a.value("any", false);
  const std::int64_t timeout_ms = seconds_arg(a, "timeout_s").value_or(kDefaultWaitTimeoutMs);
  json w = ctx.call("agent.wait", {{"ids", ids}, {"any", any}, {"timeout_ms", timeout_ms}});
  const bool timed_out = w.value("timed_out", false);
  ToolResult r;
  r.text = timed_out ? fmt::format("The wait timed out after {} s; the agents go on (wait again, or agent_cancel).\n",
                                   timeout_ms / 1000.0)
                     : (any ? "One of them ended.\n" : "All of them ended.\n");
  for (const auto& agent : w["agents"]) r.text += describe_agent(agent);
  r.structured = w;
  return r;
}

ToolResult agent_diff(ToolContext& ctx, const json& a) {
  json d = ctx.call("agent.diff", {{"id", ticket_ref(a["id"])}, {"stat", a.value("stat", false)}});
  std::string diff = d.value("diff", "");
  ToolResult r;
  if (diff.empty()) {
    r.text = "No changes against its base.";
  } else if (diff.size() > kDiffLimit) {
    r.text = diff.substr(0, kDiffLimit) +
             fmt::format("\n--- cut at {} KiB of {} KiB: use stat: true for the summary ---\n", kDiffLimit / 1024,
                         diff.size() / 1024);
  } else {
    r.text = diff;
  }
  r.structured = {{"id", d["id"]}, {"diff", diff.substr(0, kDiffLimit)}, {"truncated", diff.size() > kDiffLimit}};
  return r;
}

ToolResult agent_merge(ToolContext& ctx, const json& a) {
  const json id = ticket_ref(a["id"]);
  if (a.contains("resolve")) {
    json params = {{"id", id}, {"side", a["resolve"]}};
    if (a.contains("files")) params["files"] = a["files"];
    return merge_result(ctx.call("agent.resolve", params));
  }
  json params = {{"id", id}, {"strategy", a.value("strategy", std::string("squash"))}};
  if (a.contains("into")) params["into"] = a["into"];
  return merge_result(ctx.call("agent.merge", params));
}

ToolResult agent_cancel(ToolContext& ctx, const json& a) {
  json agent = ctx.call("agent.cancel", {{"id", ticket_ref(a["id"])}});
  return agent_result(agent.value("cancelled", false) ? "Cancelled; its processes are gone and its branch is kept."
                                                      : "It had already ended; nothing was stopped.",
                      agent);
}

}  // namespace tend::mcp
