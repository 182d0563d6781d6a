// tend agent ...: tickets and workers on their own branches (the agent.*
// RPC methods). Parsing and printing only.

#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "client.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend::cli {
namespace {

// Strings from an agent or its ticket, escaped for the terminal (shown()).
std::string text_or(const json& v, const std::string& fallback = "-") {
  return v.is_string() ? shown(v) : v.is_null() ? fallback : v.dump();
}

std::string short_commit(const json& v) { return v.is_string() ? v.get<std::string>().substr(0, 10) : "-"; }

std::string first_line(const std::string& text, std::size_t width = 60) {
  std::string line = text.substr(0, text.find("\\n"));  // text is escaped: a newline is "\n"
  return line.size() > width ? line.substr(0, width - 3) + "..." : line;
}

void print_agent(const json& a) {
  // Why it ended, in words; "success" or "failure" only when no reason was recorded.
  std::string outcome = a["reason"].is_string()     ? fmt::format(" ({})", shown(a["reason"]))
                        : a["success"].is_boolean() ? (a["success"].get<bool>() ? " (success)" : " (failure)")
                                                    : "";
  std::cout << fmt::format("agent {}: {}{}\n", text_or(a["id"]), text_or(a["status"]), outcome);
  std::cout << fmt::format("  task:     {}\n", first_line(text_or(a["task"]), 100));
  std::cout << fmt::format("  priority: {}\n", text_or(a["priority"]));
  std::cout << fmt::format("  branch:   {} (from {})\n", text_or(a["branch"]), text_or(a["base"]));
  std::cout << fmt::format("  worktree: {}\n", text_or(a["worktree"]));
  std::cout << fmt::format("  commit:   {}\n", short_commit(a["commit"]));
  if (a["agent_task"].is_number()) {
    std::cout << fmt::format("  agent:    task {} ({}, exit {})  -- tend logs {}\n", a["agent_task"].get<std::uint64_t>(),
                             text_or(a["agent_state"]), text_or(a["exit_code"]), a["agent_task"].get<std::uint64_t>());
  }
  if (a["duration_ms"].is_number()) std::cout << fmt::format("  took:     {}\n", human_ms(a["duration_ms"].get<std::int64_t>()));
  if (a["conflicts"].is_array()) std::cout << fmt::format("  conflict: {}\n", escape_controls(fmt::format("{}", fmt::join(a["conflicts"].get<std::vector<std::string>>(), ", "))));
  if (a["summary"].is_string()) {
    std::string summary = a["summary"].get<std::string>();
    while (!summary.empty() && summary.back() == '\n') summary.pop_back();
    std::cout << "  summary:\n";
    std::size_t start = 0;
    while (start <= summary.size()) {
      std::size_t end = summary.find('\n', start);
      if (end == std::string::npos) end = summary.size();
      std::cout << "    " << escape_controls(summary.substr(start, end - start)) << "\n";
      start = end + 1;
    }
  }
}

int print_merge(const json& r, const std::string& id, bool as_json) {
  bool merged = r["merged"].get<bool>();
  if (as_json) {
    std::cout << r.dump(2) << "\n";
  } else if (merged) {
    std::string where = r["updated_worktree"].is_string()
                            ? fmt::format("; updated the checkout in {}", r["updated_worktree"].get<std::string>())
                            : "";
    if (r["up_to_date"].get<bool>()) {
      std::cout << fmt::format("{} already has this work ({}){}\n", text_or(r["target"]), short_commit(r["commit"]), where);
    } else {
      std::cout << fmt::format("merged into {} ({}, {} -> {}){}\n", text_or(r["target"]), text_or(r["strategy"]),
                               short_commit(r["previous_commit"]), short_commit(r["commit"]), where);
    }
  } else {
    std::cout << fmt::format("conflict merging into {}; {} not moved. Conflicted files:\n", text_or(r["target"]),
                             text_or(r["target"]));
    for (const auto& f : r["conflicts"]) std::cout << "  " << shown(f) << "\n";
    std::cout << fmt::format("resolve with: tend agent resolve {} --ours|--theirs [FILE...]\n", id);
  }
  return merged ? 0 : 1;
}

}  // namespace

int cmd_agent_spawn(const AgentOptions& o) {
  if (o.command.empty()) throw UsageError("agent spawn: give the agent command after --");
  json p = {{"task", o.task}, {"command", o.command}};
  p["repo"] = std::filesystem::absolute(o.repo.empty() ? "." : o.repo).string();
  if (!o.base.empty()) p["base"] = o.base;
  if (!o.priority.empty()) p["priority"] = o.priority;
  json constraints = json::object();
  for (const auto& c : o.constraints) {
    auto eq = c.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(fmt::format("--constraint: expected NAME=TEXT, not \"{}\"", c));
    constraints[c.substr(0, eq)] = c.substr(eq + 1);
  }
  p["constraints"] = constraints;
  if (!o.copy.empty()) p["copy"] = o.copy;
  if (!o.setup.empty()) p["setup"] = o.setup;
  if (o.timeout) p["timeout_ms"] = duration_ms("--timeout", *o.timeout);
  if (o.idle_timeout) p["idle_timeout_ms"] = duration_ms("--idle-timeout", *o.idle_timeout);
  // The agent gets this shell's environment (PATH, keys, ...), as `tend run` does.
  p["env"] = rpc::environment_json();
  p["scrub_secrets"] = o.scrub_secrets;
  if (!o.keep_env.empty()) p["keep_env"] = o.keep_env;
  Client client = Client::connect();
  json a = client.call("agent.spawn", p);
  if (o.json) {
    std::cout << a.dump(2) << "\n";
  } else {
    std::cout << a["id"].get<std::string>() << "\n";
  }
  return 0;
}

int cmd_agent_ls(const AgentOptions& o) {
  Client client = Client::connect();
  json r = client.call("agent.list");
  if (o.json) {
    std::cout << r["agents"].dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<5} {:<12} {:<9} {:<10} {:<12} {}\n", "ID", "STATUS", "PRIORITY", "COMMIT", "BRANCH", "TASK");
  for (const auto& a : r["agents"]) {
    std::cout << fmt::format("{:<5} {:<12} {:<9} {:<10} {:<12} {}\n", text_or(a["id"]), text_or(a["status"]),
                             text_or(a["priority"]), short_commit(a["commit"]), text_or(a["branch"]),
                             first_line(text_or(a["task"])));
  }
  return 0;
}

int cmd_agent_status(const AgentOptions& o) {
  Client client = Client::connect();
  json a = client.call("agent.status", {{"id", o.id}});
  if (o.json) {
    std::cout << a.dump(2) << "\n";
  } else {
    print_agent(a);
  }
  return 0;
}

int cmd_agent_diff(const AgentOptions& o) {
  Client client = Client::connect();
  json r = client.call("agent.diff", {{"id", o.id}, {"stat", o.stat}});
  std::cout << r["diff"].get<std::string>();
  return 0;
}

int cmd_agent_wait(const AgentOptions& o) {
  json p = {{"ids", o.ids}, {"any", o.any}};
  if (o.timeout) p["timeout_ms"] = duration_ms("--timeout", *o.timeout);
  Client client = Client::connect();
  json r = client.call("agent.wait", p);
  if (o.json) std::cout << r.dump(2) << "\n";
  const auto finished = r["finished"].get<std::vector<std::string>>();
  int code = 0;
  for (const auto& a : r["agents"]) {
    const std::string id = a["id"].get<std::string>();
    bool done = std::find(finished.begin(), finished.end(), id) != finished.end();
    if (!o.json && done) {
      std::cout << fmt::format("{} {}: {}\n", id, text_or(a["status"]), first_line(text_or(a["summary"], ""), 100));
    }
    if (done && a["status"] != "completed") code = 1;
  }
  if (r["timed_out"].get<bool>()) {
    if (!o.json) std::cerr << "tend: agents still running\n";
    return kTimedOut;
  }
  return code;
}

int cmd_agent_merge(const AgentOptions& o) {
  json p = {{"id", o.id}, {"strategy", o.strategy}};
  if (!o.into.empty()) p["into"] = o.into;
  Client client = Client::connect();
  return print_merge(client.call("agent.merge", p), o.id, o.json);
}

int cmd_agent_resolve(const AgentOptions& o) {
  if (o.ours == o.theirs) throw UsageError("agent resolve: give exactly one of --ours or --theirs");
  Client client = Client::connect();
  json p = {{"id", o.id}, {"side", o.ours ? "ours" : "theirs"}, {"files", o.files}};
  return print_merge(client.call("agent.resolve", p), o.id, o.json);
}

int cmd_agent_cancel(const AgentOptions& o) {
  Client client = Client::connect();
  json a = client.call("agent.cancel", {{"id", o.id}});
  if (o.json) {
    std::cout << a.dump(2) << "\n";
  } else if (a["cancelled"].get<bool>()) {
    std::cout << fmt::format("agent {} cancelled; branch {} kept\n", o.id, text_or(a["branch"]));
  } else {
    std::cout << fmt::format("agent {} had already ended ({})\n", o.id, text_or(a["status"]));
  }
  return 0;
}

int cmd_agent_rm(const AgentOptions& o) {
  Client client = Client::connect();
  client.call("agent.remove", {{"id", o.id}, {"force", o.force}});
  std::cout << fmt::format("removed agent {} (its worktree and branch)\n", o.id);
  return 0;
}

int cmd_agent_gc(const AgentOptions& o) {
  Client client = Client::connect();
  json r = client.call("agent.gc", {{"repo", std::filesystem::absolute(o.repo.empty() ? "." : o.repo).string()}});
  if (o.json) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  for (const auto& id : r["removed"]) std::cout << fmt::format("removed {}\n", id.get<std::string>());
  for (const auto& k : r["kept"]) {
    std::cout << fmt::format("kept {}: {}\n", k["id"].get<std::string>(), shown(k["reason"]));
  }
  return 0;
}

}  // namespace tend::cli
