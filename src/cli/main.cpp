// tend: the command line. Parsing and printing only; everything it does is an
// RPC method of the daemon (src/rpc/service.cpp), so it exists once.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <vector>
#include <spdlog/spdlog.h>

#include "client.hpp"
#include "commands.hpp"
#include "edit_commands.hpp"
#include "run_result.hpp"
#include "tend/mcp/server.hpp"
#include "tend/rpc/daemon.hpp"
#include "tend/rpc/paths.hpp"
#include "tend/version.hpp"

using namespace tend::cli;

namespace {

// One value per occurrence. CLI11 lets a repeatable (vector) option take
// every word up to the next option, so `--env A=1 -- sh -c 'echo $A'` lost
// `--` and `sh` to --env and choked on -c.
CLI::Option* repeatable(CLI::Option* option) {
  return option->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

// An optional, not a string left empty: `--timeout ''` is a mistake to
// report, not the same as no --timeout.
CLI::Option* duration(CLI::App* command, const std::string& name, std::optional<std::string>& into,
                      const std::string& help) {
  return command->add_option_function<std::string>(
      name, [&into](const std::string& text) { into = text; }, help);
}

// --delay and --at: when a queued task may start.
void add_start_time_options(CLI::App* command, Options& o) {
  duration(command, "--delay", o.delay, "Start no sooner than this from now (10m, 2h)");
  command->add_option_function<std::string>(
      "--at", [&o](const std::string& text) { o.at = text; },
      "Start no sooner than this time of day, HH:MM[:SS] (tomorrow if it has passed today)");
}

// A subcommand as declared, and what running it does once it is the one given.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

// --- Tasks ----------------------------------------------------------------------

void add_run(CLI::App& app, Options& o, Commands& commands) {
  auto* run = app.add_subcommand("run", "Start a task and print its id");
  run->footer(run_limits_footer());
  run->add_option("--name", o.name,
                  "A name to refer to it by: 1-64 bytes, no control characters or /, not all digits; "
                  "unique among live tasks");
  run->add_flag("--replace", o.replace, "With --name: stop the live task of that name first, then start");
  run->add_option("--cwd", o.cwd, "Working directory (default: here)");
  repeatable(run->add_option("--env", o.env, "Set a variable, K=V (repeatable)"));
  duration(run, "--timeout", o.timeout, "Wall-clock limit (500ms, 30s, 5m, 1h; 0 for none; at most 100 years)");
  duration(run, "--idle-timeout", o.idle_timeout, "Longest silence on its output (0 for none)");
  run->add_option("--idle-policy", o.idle_policy, "What silence does: warn or stop");
  run->add_flag("--terminal", o.terminal, "Run on a pseudo-terminal");
  run->add_flag("--shell", o.shell, "Run the command through /bin/sh -c");
  run->add_option("--group", o.group, "Queue group (default: default; others are made with tend group add)");
  repeatable(run->add_option("--after", o.after, "Start only after this task succeeded (repeatable)"));
  run->add_option("--priority", o.priority, "Higher starts first");
  add_start_time_options(run, o);
  run->add_flag("--stashed", o.stashed, "Queue it held: it starts only once enqueued (tend enqueue ID)");
  run->add_option("--ready-pattern", o.ready_pattern, "Ready once a line matches this regex (RE2 syntax, at most 4096 bytes)");
  run->add_option("--ready-port", o.ready_port, "Ready once this localhost port accepts (0: the allocated $PORT)");
  duration(run, "--ready-timeout", o.ready_timeout, "How long to wait for readiness (default 60s)");
  run->add_flag("--port", o.allocate_port, "Hand the task a free port in $PORT (printed after the id)");
  run->add_option("--restart", o.restart, "no, on-failure or always");
  run->add_option("--stop-signal", o.stop_signal, "The first signal of a stop (default TERM)");
  duration(run, "--grace", o.grace, "Time between the stop signal and KILL (default 5s)");
  run->add_flag("--stdin", o.stdin_pipe, "Keep its stdin open for tend send");
  run->add_flag("--merge-stderr", o.merge_stderr, "Send its stderr to its stdout: one stream, in exact order");
  run->add_option("--log-limit", o.log_limit,
                  "Keep at most this much of each stream (default 1G: the first part and the last 64M; 0 for no limit)");
  run->add_flag("--wait", o.wait, "Stream its output and exit as it does (124 on timeout, 128+N on signal N)");
  run->add_flag("--json", o.json, "Print the task as JSON");
  run->add_option("command", o.command, "The command and its arguments (after --)")->required();
  commands.push_back({run, [&o] { return cmd_run(o); }});
}

void add_ls(CLI::App& app, Options& o, Commands& commands) {
  auto* ls = app.add_subcommand("ls", "List tasks");
  ls->add_flag("--all", o.all, "Every task, not only the active and the last 20 finished");
  ls->add_flag("--internal", o.internal, "Also tend's own tasks (an agent's worker-N and setup-N)");
  ls->add_option("--group", o.group, "Only the tasks of this group");
  ls->add_flag("--json", o.json, "{\"tasks\": [...]}, as task.list answers");
  commands.push_back({ls, [&o] { return cmd_ls(o); }});
}

void add_status(CLI::App& app, Options& o, Commands& commands) {
  auto* status = app.add_subcommand("status", "Show a task");
  status->add_option("id", o.id, "Task id or name")->required();
  status->add_flag("--json", o.json, "JSON");
  commands.push_back({status, [&o] { return cmd_status(o); }});
}

void add_logs(CLI::App& app, Options& o, Commands& commands) {
  auto* logs = app.add_subcommand("logs", "Show a task's output");
  logs->add_option("id", o.id, "Task id or name")->required();
  logs->add_flag("-f,--follow", o.follow, "Keep showing output until the task ends");
  logs->add_option("--tail", o.tail, "Only the last N lines");
  logs->add_option("--since", o.since, "Start at this byte cursor of one stream (with --stdout or --stderr)");
  logs->add_option("--grep", o.grep, "Only lines matching this regex (RE2 syntax, at most 4096 bytes)");
  logs->add_flag("--stdout", o.only_stdout, "Only stdout (default: both, in the order they came)");
  logs->add_flag("--stderr", o.only_stderr, "Only stderr");
  logs->add_flag("--json", o.json, "{\"data\": ..., \"parts\": [...], \"next_cursors\": {...}}");
  commands.push_back({logs, [&o] { return cmd_logs(o); }});
}

void add_wait(CLI::App& app, Options& o, Commands& commands) {
  auto* wait = app.add_subcommand("wait", "Wait for tasks to end");
  wait->add_option("ids", o.ids, "Task ids or names")->required();
  wait->add_flag("--any", o.any, "Return when the first ends");
  duration(wait, "--timeout", o.timeout, "Give up waiting after this long (the tasks go on)");
  wait->add_flag("--json", o.json, "JSON");
  commands.push_back({wait, [&o] { return cmd_wait(o); }});
}

void add_kill(CLI::App& app, Options& o, Commands& commands) {
  auto* kill = app.add_subcommand("kill", "Stop tasks (TERM, grace, KILL) or send one signal");
  kill->add_option("ids", o.ids, "Task ids or names")->required();
  duration(kill, "--grace", o.grace, "Time between TERM and KILL (default 5s)");
  kill->add_option("--signal", o.signal, "Send only this signal (with --grace: start the stop with it)");
  commands.push_back({kill, [&o] { return cmd_kill(o); }});
}

void add_send(CLI::App& app, Options& o, Commands& commands) {
  auto* send = app.add_subcommand("send", "Write to a task's terminal or stdin");
  send->add_option("id", o.id, "Task id or name")->required();
  send->add_option("text", o.text, "What to write")->required();
  send->add_flag("--no-newline", o.no_newline, "Do not end with a newline");
  send->add_flag("--eof", o.eof, "Then close its input");
  commands.push_back({send, [&o] { return cmd_send(o); }});
}

void add_pause_and_resume(CLI::App& app, Options& o, Commands& commands) {
  auto* pause = app.add_subcommand("pause", "Pause a task (SIGSTOP; its clocks stop)");
  pause->add_option("id", o.id, "Task id or name")->required();
  commands.push_back({pause, [&o] { return cmd_simple("task.pause", o); }});
  auto* resume = app.add_subcommand("resume", "Resume a paused task");
  resume->add_option("id", o.id, "Task id or name")->required();
  commands.push_back({resume, [&o] { return cmd_simple("task.resume", o); }});
}

void add_rm_and_clean(CLI::App& app, Options& o, Commands& commands) {
  auto* rm = app.add_subcommand("rm", "Remove finished or queued tasks and their logs (not running ones)");
  rm->add_option("ids", o.ids, "Task ids or names")->required();
  commands.push_back({rm, [&o] { return cmd_rm(o); }});
  auto* clean = app.add_subcommand("clean", "Remove every finished task");
  clean->add_flag("--successful-only", o.successful_only, "Only the tasks that succeeded");
  clean->add_option("--group", o.group, "Only the tasks of this group");
  commands.push_back({clean, [&o] { return cmd_clean(o); }});
}

void add_enqueue_and_start(CLI::App& app, Options& o, Commands& commands) {
  auto* enqueue = app.add_subcommand("enqueue", "Release stashed tasks into the queue (or change a delay)");
  enqueue->add_option("ids", o.ids, "Task ids or names")->required();
  add_start_time_options(enqueue, o);
  commands.push_back({enqueue, [&o] { return cmd_enqueue(o); }});
  auto* start = app.add_subcommand("start", "Start queued tasks now, past their group's limit and delay (not --after)");
  start->add_option("ids", o.ids, "Task ids or names")->required();
  commands.push_back({start, [&o] { return cmd_start(o); }});
}

// --- The queue ------------------------------------------------------------------

void add_parallel(CLI::App& app, Options& o, Commands& commands) {
  auto* parallel = app.add_subcommand("parallel", "How many queued tasks may run at once (0: no limit)");
  auto* n = parallel->add_option("n", o.parallel, "The limit (none given: show the limits)");
  parallel->add_option("--group", o.group, "For this group only");
  commands.push_back({parallel, [&o, n] { return n->count() ? cmd_parallel(o, false) : cmd_show_limits(o); }});
}

void add_group(CLI::App& app, Options& o, Commands& commands) {
  auto* group = app.add_subcommand("group", "Queue groups");
  group->require_subcommand(1);
  auto* group_add = group->add_subcommand("add", "Add (or change) a group");
  group_add->add_option("name", o.group, "Group name")->required();
  group_add->add_option("--parallel", o.parallel, "Its limit")->default_val(1);
  commands.push_back({group_add, [&o] { return cmd_parallel(o, true); }});
  auto* group_ls = group->add_subcommand("ls", "List groups: limit, running, queued, paused");
  group_ls->add_flag("--internal", o.internal, "Also groups only tend's own tasks are in");
  group_ls->add_flag("--json", o.json, "{\"groups\": [...], \"parallel\": N}, as group.list answers");
  commands.push_back({group_ls, [&o] { return cmd_group_ls(o); }});
  auto* group_rm = group->add_subcommand("rm", "Remove a group (not while it has unfinished tasks; not default)");
  group_rm->add_option("name", o.group, "Group name")->required();
  commands.push_back({group_rm, [&o] { return cmd_group_rm(o); }});
}

// --- The daemon and the MCP server --------------------------------------------

void add_daemon(CLI::App& app, Options& o, Commands& commands) {
  auto* daemon = app.add_subcommand("daemon", "The background daemon");
  daemon->require_subcommand(1);
  auto* start = daemon->add_subcommand("start", "Start it if it is not running");
  commands.push_back({start, [&o] { return cmd_daemon_start(o); }});
  auto* stop = daemon->add_subcommand("stop", "Stop it and every task it runs");
  commands.push_back({stop, [&o] { return cmd_daemon_stop(o); }});
  auto* status = daemon->add_subcommand("status", "Is it running?");
  status->add_flag("--json", o.json, "JSON");
  commands.push_back({status, [&o] { return cmd_daemon_status(o); }});
  auto* run = daemon->add_subcommand("run", "Run it in the foreground");
  commands.push_back({run, [] {
                        spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
                        return tend::rpc::run_daemon({tend::rpc::socket_path(), tend::rpc::state_dir()});
                      }});
}

void add_mcp(CLI::App& app, Commands& commands) {
  auto* mcp = app.add_subcommand("mcp", "Serve MCP over stdio (for Claude Code, Cursor, ...; see docs/mcp.md)");
  commands.push_back({mcp, [] { return tend::mcp::run_server(); }});
}

// --- Agents ---------------------------------------------------------------------

void add_agent_spawn(CLI::App& agent, AgentOptions& ao, Commands& commands) {
  auto* spawn = agent.add_subcommand("spawn", "Start an agent on a new ticket; prints the ticket id");
  spawn->add_option("--task", ao.task, "What the agent should do")->required();
  spawn->add_option("--repo", ao.repo, "A directory in the git repository (default: here)");
  spawn->add_option("--base", ao.base, "Branch to start from (default: the current branch)");
  spawn->add_option("--priority", ao.priority, "low, normal, high or critical")
      ->check(CLI::IsMember({"low", "normal", "high", "critical"}));
  repeatable(spawn->add_option("--constraint", ao.constraints, "NAME=TEXT, a rule for the agent (repeatable)"));
  repeatable(spawn->add_option("--copy", ao.copy, "An untracked or ignored file to copy into its worktree (repeatable)"));
  spawn->add_option("--setup", ao.setup, "A shell command run in the worktree first");
  duration(spawn, "--timeout", ao.timeout, "The agent's wall-clock limit (default 1h)");
  duration(spawn, "--idle-timeout", ao.idle_timeout, "Stop the agent after this long without output (default 10m)");
  spawn->add_flag("--scrub-secrets", ao.scrub_secrets,
                  "Keep credentials (AWS_*, GITHUB_TOKEN, *_API_KEY, *_TOKEN, ...) out of its environment");
  repeatable(spawn->add_option("--keep-env", ao.keep_env, "With --scrub-secrets: a secret it may still see (repeatable)"));
  spawn->add_flag("--json", ao.json, "Print the agent as JSON");
  spawn->add_option("command", ao.command, "The agent program and its arguments (after --)")->required();
  commands.push_back({spawn, [&ao] { return cmd_agent_spawn(ao); }});
}

void add_agent_views(CLI::App& agent, AgentOptions& ao, Commands& commands) {
  auto* ls = agent.add_subcommand("ls", "List agents");
  ls->add_flag("--json", ao.json, "JSON");
  commands.push_back({ls, [&ao] { return cmd_agent_ls(ao); }});
  auto* status = agent.add_subcommand("status", "Show an agent");
  status->add_option("id", ao.id, "Ticket id")->required();
  status->add_flag("--json", ao.json, "JSON");
  commands.push_back({status, [&ao] { return cmd_agent_status(ao); }});
  auto* diff = agent.add_subcommand("diff", "An agent's changes against its base");
  diff->add_option("id", ao.id, "Ticket id")->required();
  diff->add_flag("--stat", ao.stat, "Only the summary");
  commands.push_back({diff, [&ao] { return cmd_agent_diff(ao); }});
  auto* wait = agent.add_subcommand("wait", "Wait for agents to end");
  wait->add_option("ids", ao.ids, "Ticket ids")->required();
  wait->add_flag("--any", ao.any, "Return when the first ends");
  duration(wait, "--timeout", ao.timeout, "Give up waiting after this long (the agents go on)");
  wait->add_flag("--json", ao.json, "JSON");
  commands.push_back({wait, [&ao] { return cmd_agent_wait(ao); }});
}

void add_agent_merging(CLI::App& agent, AgentOptions& ao, Commands& commands) {
  auto* merge = agent.add_subcommand("merge", "Merge an agent's branch (exit 1 on conflict)");
  merge->add_option("id", ao.id, "Ticket id")->required();
  merge->add_option("--into", ao.into, "Target branch (default: its base)");
  merge->add_option("--strategy", ao.strategy, "squash (default), merge, rebase or ff")
      ->check(CLI::IsMember({"squash", "merge", "rebase", "ff"}));
  merge->add_flag("--json", ao.json, "JSON");
  commands.push_back({merge, [&ao] { return cmd_agent_merge(ao); }});
  auto* resolve = agent.add_subcommand("resolve", "Resolve a conflicted merge, then complete it");
  resolve->add_option("id", ao.id, "Ticket id")->required();
  resolve->add_flag("--ours", ao.ours, "Keep the target's version");
  resolve->add_flag("--theirs", ao.theirs, "Take the agent's version");
  resolve->add_option("files", ao.files, "Only these files (default: all conflicted)");
  resolve->add_flag("--json", ao.json, "JSON");
  commands.push_back({resolve, [&ao] { return cmd_agent_resolve(ao); }});
}

void add_agent_ending(CLI::App& agent, AgentOptions& ao, Commands& commands) {
  auto* cancel = agent.add_subcommand("cancel", "Stop an agent; its branch is kept");
  cancel->add_option("id", ao.id, "Ticket id")->required();
  cancel->add_flag("--json", ao.json, "JSON");
  commands.push_back({cancel, [&ao] { return cmd_agent_cancel(ao); }});
  auto* rm = agent.add_subcommand("rm", "Remove an agent's worktree and branch (refuses unmerged work)");
  rm->add_option("id", ao.id, "Ticket id")->required();
  rm->add_flag("--force", ao.force, "Even with uncommitted or unmerged work");
  commands.push_back({rm, [&ao] { return cmd_agent_rm(ao); }});
  auto* gc = agent.add_subcommand("gc", "Remove every agent workspace that is safe to remove");
  gc->add_option("--repo", ao.repo, "A directory in the git repository (default: here)");
  gc->add_flag("--json", ao.json, "JSON");
  commands.push_back({gc, [&ao] { return cmd_agent_gc(ao); }});
}

void add_agent(CLI::App& app, AgentOptions& ao, Commands& commands) {
  auto* agent = app.add_subcommand("agent", "Workers that each take a ticket on their own branch and worktree");
  agent->require_subcommand(1);
  add_agent_spawn(*agent, ao, commands);
  add_agent_views(*agent, ao, commands);
  add_agent_merging(*agent, ao, commands);
  add_agent_ending(*agent, ao, commands);
}

// Runs the subcommand that was given; errors become messages and exit codes.
int run_command(const Commands& commands) {
  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const UsageError& e) {
    std::cerr << "tend: " << e.what() << "\n";
    return kUsage;
  } catch (const tend::rpc::RpcError& e) {
    std::cerr << "tend: " << e.what() << "\n";  // readiness errors carry the output tail in the message
    bool usage = e.code() == tend::rpc::error_code::no_such_task || e.code() == tend::rpc::error_code::invalid_params ||
                 e.code() == tend::rpc::error_code::name_in_use;
    return usage ? kUsage : 1;
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tend: runs and looks after background work", "tend"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("tend ") + tend::kVersion);
  Options o;
  AgentOptions ao;
  EditOptions eo;
  Commands commands;
  add_run(app, o, commands);
  add_ls(app, o, commands);
  add_status(app, o, commands);
  add_logs(app, o, commands);
  add_wait(app, o, commands);
  add_kill(app, o, commands);
  add_send(app, o, commands);
  add_pause_and_resume(app, o, commands);
  add_rm_and_clean(app, o, commands);
  add_enqueue_and_start(app, o, commands);
  commands.push_back({add_edit(app, eo), [&eo] { return cmd_edit(eo); }});
  commands.push_back({add_restart(app, eo), [&eo] { return cmd_restart(eo); }});
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      eo.words_after_dashdash = static_cast<std::size_t>(argc - i - 1);
      break;
    }
  }
  add_parallel(app, o, commands);
  add_group(app, o, commands);
  add_daemon(app, o, commands);
  add_agent(app, ao, commands);
  add_mcp(app, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  }
  return run_command(commands);
}
