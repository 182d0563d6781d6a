// The tools tend offers: what the model reads about each, its input schema,
// and the function that maps a call onto the daemon. Adding a tool is one
// builder here (NAME_tool(), listed in make_table()) and one mapping function
// (task_tools.hpp).

#include <algorithm>
#include <string>

#include "task_tools.hpp"
#include "tool.hpp"

namespace tend::mcp {
namespace {

// Shared pieces of the schemas.
constexpr const char* kTaskId =
    R"({"type": ["integer", "string"], "description": "The task: its id (a number, as returned when it started) or its name."})";

// A schema from its JSON text, where TASK_ID stands for the task reference.
json schema(std::string text) {
  for (auto at = text.find("TASK_ID"); at != std::string::npos; at = text.find("TASK_ID")) {
    text.replace(at, 7, kTaskId);
  }
  return json::parse(text);
}

// --- Tasks ----------------------------------------------------------------------

Tool shell_run_tool() {
  return {"shell_run", "Run a shell command",
          "Run a shell command (through /bin/sh -c, in cwd) and return its output and how it ended: state, "
          "exit code or signal, duration. Short commands answer inline. A command still running after "
          "wait_s seconds (default 15), or started with background: true, keeps running in the background "
          "and the answer gives its task id instead: follow it with task_output, task_wait or task_kill; "
          "you also get a notification when it ends. stdout and stderr are merged. Long output is cut to "
          "its last 16 KiB, with the cursor to read the rest by task_output. Use terminal_start instead for "
          "servers, watchers and anything interactive.",
          schema(R"({
            "type": "object",
            "properties": {
              "command": {"type": "string", "description": "The command line, as you would type it in a shell (pipes, &&, redirections work)."},
              "cwd": {"type": "string", "description": "Working directory (default: the directory the MCP server runs in). Relative paths are taken from there."},
              "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Environment variables to set on top of the server's environment."},
              "timeout_s": {"type": "number", "minimum": 0, "description": "Stop the command (TERM, then KILL) after this many seconds; it then ends as timed_out. 0: no limit; at most 100 years. Default: tend's policy for known commands, else none."},
              "idle_timeout_s": {"type": "number", "minimum": 0, "description": "Stop it when it writes no output for this many seconds (a hang); it then ends as stalled. 0: no limit; at most 100 years."},
              "log_limit": {"type": "integer", "minimum": 0, "description": "Keep at most this many bytes of its output: the first part and the last 64 MiB (default 1073741824, 1 GiB; 0: no limit)."},
              "background": {"type": "boolean", "description": "Return at once with the task id instead of waiting for the command to finish."},
              "wait_s": {"type": "number", "minimum": 0, "maximum": 50, "description": "How long to wait for it inline before it goes to the background (default 15)."}
            },
            "required": ["command"],
            "additionalProperties": false
          })"),
          shell_run};
}

Tool terminal_start_tool() {
  return {"terminal_start", "Start a long-running command on a terminal",
          "Start a long-running command (a dev server, a watcher, a REPL) on a pseudo-terminal, in the "
          "background. With ready_pattern or ready_port, the answer comes once it is ready (or says why it "
          "is not, with its last output). Returns the task id, readiness and its first output. It keeps "
          "running until task_kill stops it; read its output with task_output, type into it with "
          "task_send. You get a notification when it ends.",
          schema(R"({
            "type": "object",
            "properties": {
              "command": {"type": "string", "description": "The command line (run through /bin/sh -c)."},
              "cwd": {"type": "string", "description": "Working directory (default: the directory the MCP server runs in)."},
              "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Environment variables to set on top of the server's environment."},
              "ready_pattern": {"type": "string", "description": "Ready once an output line matches this regular expression (RE2 syntax: no backreferences or lookaround; at most 4096 bytes), e.g. \"Listening on|ready in\"."},
              "ready_port": {"type": "integer", "minimum": 0, "maximum": 65535, "description": "Ready once this localhost TCP port accepts connections. 0: tend picks a free port, hands it to the command as $PORT (use it in the command, e.g. --port $PORT) and waits for it."},
              "ready_timeout_s": {"type": "number", "minimum": 0, "maximum": 50, "description": "How long to wait for readiness (default 30). The command keeps running when this passes."},
              "log_limit": {"type": "integer", "minimum": 0, "description": "Keep at most this many bytes of its output: the first part and the last 64 MiB (default 1073741824, 1 GiB; 0: no limit)."}
            },
            "required": ["command"],
            "additionalProperties": false
          })"),
          terminal_start};
}

Tool task_output_tool() {
  return {"task_output", "Read a task's output",
          "Read a task's output from a byte cursor: pass the next_cursor of the last read as since to get "
          "only what is new. Each read returns at most 32 KiB and the next cursor; eof is true once the task "
          "has ended and everything was read. tail_lines gives only the last lines, grep only the matching "
          "lines. wait_s waits (up to that long) for new output when there is none yet.",
          schema(R"({
            "type": "object",
            "properties": {
              "id": TASK_ID,
              "since": {"type": "integer", "minimum": 0, "description": "Byte cursor to read from (default 0: the start)."},
              "tail_lines": {"type": "integer", "minimum": 0, "description": "Only the last N lines (ignores since)."},
              "grep": {"type": "string", "description": "Only lines matching this regular expression (RE2 syntax: no backreferences or lookaround; at most 4096 bytes)."},
              "stream": {"type": "string", "enum": ["stdout", "stderr", "both"], "description": "Which stream (default stdout; tasks started by shell_run and terminal_start have everything in stdout). both: stdout and stderr in the order they were written, for tail_lines and grep (since is a cursor of one stream)."},
              "wait_s": {"type": "number", "minimum": 0, "maximum": 50, "description": "When there is no new output yet, wait up to this long for some (or for the end)."}
            },
            "required": ["id"],
            "additionalProperties": false
          })"),
          task_output};
}

Tool task_wait_tool() {
  return {"task_wait", "Wait for tasks to end",
          "Wait until the given tasks have ended (or, with any: true, the first of them), at most timeout_s "
          "seconds (default 30). Returns which finished, their state, exit code or signal, duration and the "
          "last lines of their output, and which are still running. A wait that times out never stops a task.",
          schema(R"({
            "type": "object",
            "properties": {
              "ids": {"type": "array", "items": {"type": ["integer", "string"]}, "minItems": 1, "description": "The tasks (ids or names)."},
              "any": {"type": "boolean", "description": "Return as soon as one of them ends (default: wait for all)."},
              "timeout_s": {"type": "number", "minimum": 0, "maximum": 50, "description": "Give up waiting after this long (default 30)."}
            },
            "required": ["ids"],
            "additionalProperties": false
          })"),
          task_wait};
}

Tool task_kill_tool() {
  return {"task_kill", "Stop a task",
          "Stop a task and its whole process tree: the signal (default TERM), then KILL after grace_s seconds "
          "(default 5) if it is still there; answers once it has ended, with how it ended. With only signal "
          "(no grace_s), sends just that one signal (e.g. INT, HUP, USR1) and returns at once.",
          schema(R"({
            "type": "object",
            "properties": {
              "id": TASK_ID,
              "grace_s": {"type": "number", "minimum": 0, "maximum": 50, "description": "Seconds between the first signal and KILL (default 5)."},
              "signal": {"type": "string", "description": "A signal name such as TERM, INT, HUP, KILL (or a number)."}
            },
            "required": ["id"],
            "additionalProperties": false
          })"),
          task_kill};
}

Tool task_send_tool() {
  return {"task_send", "Type into a task",
          "Write text to a task's terminal (tasks from terminal_start) followed by Enter, e.g. an answer to "
          "a prompt or a REPL line. Read the reply with task_output from your last cursor.",
          schema(R"({
            "type": "object",
            "properties": {
              "id": TASK_ID,
              "text": {"type": "string", "description": "What to type."},
              "newline": {"type": "boolean", "description": "Press Enter after the text (default true)."}
            },
            "required": ["id", "text"],
            "additionalProperties": false
          })"),
          task_send};
}

Tool task_list_tool() {
  return {"task_list", "List tasks",
          "List tend's tasks: every running or queued one and the last 20 that ended (all: true for every "
          "task), each with its id, state, command and how it ended. Tasks started by other clients (the tend "
          "command line, other MCP sessions) are there too.",
          schema(R"({
            "type": "object",
            "properties": {
              "all": {"type": "boolean", "description": "Every task the daemon remembers."}
            },
            "additionalProperties": false
          })"),
          task_list};
}

Tool task_status_tool() {
  return {"task_status", "Show a task",
          "Show one task in detail: state, end reason, exit code, signal, duration, pid, readiness, how much "
          "output it wrote (the cursor at its end), and its state changes with their times.",
          schema(R"({
            "type": "object",
            "properties": {
              "id": TASK_ID
            },
            "required": ["id"],
            "additionalProperties": false
          })"),
          task_status};
}

// What task_restart and task_edit may change, as the daemon's task.restart and task.edit take it.
constexpr const char* kSpecChanges = R"(
              "command": {"type": "string", "description": "A new command line (run through /bin/sh -c)."},
              "cwd": {"type": "string", "description": "A new working directory (relative: from the directory the MCP server runs in)."},
              "env": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Variables to set or override; the rest of its environment stays."},
              "unset_env": {"type": "array", "items": {"type": "string"}, "description": "Variables to remove from its environment."},
              "priority": {"type": "integer", "description": "A new queue priority (higher starts first)."},
              "name": {"type": "string", "description": "A new name (unique among live tasks)."})";

// The schema of a tool that takes a task and the spec changes.
json change_schema() {
  return schema(std::string(R"({"type": "object", "properties": {"id": TASK_ID,)") + kSpecChanges +
                R"(}, "required": ["id"], "additionalProperties": false})");
}

Tool task_restart_tool() {
  return {"task_restart", "Run an ended task again",
          "Run a task that has ended (succeeded, failed, killed, ...) again as a new task with the same "
          "command, cwd and environment, optionally changed on the way (command, cwd, env, unset_env, "
          "priority, name). Returns the new task's id at once; the old task stays as it was. Refused for a "
          "task that has not ended (task_kill it first). You get a notification when the new task ends.",
          change_schema(), task_restart};
}

Tool task_edit_tool() {
  return {"task_edit", "Change a queued task",
          "Change a task that is queued and has not started yet (waiting for its group's limit or for the "
          "tasks it runs after): its command, cwd, env (set or override; the rest stays), unset_env, priority "
          "or name. It keeps its id and place. Refused once it has started.",
          change_schema(), task_edit};
}

// --- Agents ---------------------------------------------------------------------

constexpr const char* kAgentId =
    R"({"type": ["string", "integer"], "description": "The agent's ticket id, as agent_spawn returned it."})";

// A schema from its JSON text, where AGENT_ID stands for the agent's ticket id.
json agent_schema(std::string text) {
  for (auto at = text.find("AGENT_ID"); at != std::string::npos; at = text.find("AGENT_ID")) text.replace(at, 8, kAgentId);
  return json::parse(text);
}

Tool agent_spawn_tool() {
  return {"agent_spawn", "Start a worker agent on its own git branch",
          "Hand a piece of work to another agent program that runs in the background on a branch "
          "tend/<id> and a git worktree of its own, so it cannot disturb your working tree or other "
          "agents. The program (command, run with /bin/sh -c in the worktree) finds the task as markdown "
          "in $TEND_TICKET_FILE and may write a summary to $TEND_RESULT_FILE; whatever it leaves "
          "uncommitted is committed on its branch when it ends. Returns its id at once. Follow it with "
          "agent_wait / agent_status, review with agent_diff, then agent_merge.",
          agent_schema(R"({
            "type": "object",
            "properties": {
              "task": {"type": "string", "description": "What the agent should do, in words: it becomes its prompt."},
              "command": {"type": "string", "description": "The agent program's command line, e.g. claude -p \"$(cat $TEND_TICKET_FILE)\" --permission-mode acceptEdits."},
              "repo": {"type": "string", "description": "A directory in the git repository (default: the directory the MCP server runs in)."},
              "base": {"type": "string", "description": "Branch to start from (default: the repository's current branch)."},
              "priority": {"type": "string", "enum": ["low", "normal", "high", "critical"]},
              "constraints": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Rules for the agent, name: text (e.g. {\"tests\": \"must pass\"})."},
              "handles": {"type": "array", "items": {"type": "string"}, "description": "Files that matter for the task, listed in its prompt."},
              "copy": {"type": "array", "items": {"type": "string"}, "description": "Untracked or ignored files to copy into its worktree (e.g. .env)."},
              "setup": {"type": "string", "description": "A shell command run in the worktree before the agent (e.g. npm ci)."},
              "timeout_s": {"type": "number", "minimum": 0, "description": "Stop the agent after this many seconds (default 3600; at most 100 years)."},
              "idle_timeout_s": {"type": "number", "minimum": 0, "description": "Stop it after this long without output: a hang (default 600)."},
              "scrub_secrets": {"type": "boolean", "description": "Keep credentials (AWS_*, GITHUB_TOKEN, *_API_KEY, *_TOKEN, ...) out of its environment."},
              "keep_env": {"type": "array", "items": {"type": "string"}, "description": "With scrub_secrets: the secrets it may still see (its own model key)."}
            },
            "required": ["task", "command"],
            "additionalProperties": false
          })"),
          agent_spawn};
}

Tool agent_status_tool() {
  return {"agent_status", "Show a worker agent",
          "Show one agent: status (pending, assigned, in_progress, completed, failed, cancelled), success, "
          "its summary, branch, worktree, commit, the task id of its program (for task_output), and the "
          "files of a merge waiting on conflicts.",
          agent_schema(R"({"type": "object", "properties": {"id": AGENT_ID}, "required": ["id"], "additionalProperties": false})"),
          agent_status};
}

Tool agent_wait_tool() {
  return {"agent_wait", "Wait for worker agents to end",
          "Wait until the given agents have ended (or, with any: true, the first of them), at most "
          "timeout_s seconds (default 30). Returns each agent's status and summary. A wait that times out "
          "never stops an agent.",
          agent_schema(R"({
            "type": "object",
            "properties": {
              "ids": {"type": "array", "items": AGENT_ID, "minItems": 1},
              "any": {"type": "boolean", "description": "Return as soon as one ends."},
              "timeout_s": {"type": "number", "minimum": 0, "maximum": 50, "description": "Give up waiting after this long (default 30)."}
            },
            "required": ["ids"],
            "additionalProperties": false
          })"),
          agent_wait};
}

Tool agent_diff_tool() {
  return {"agent_diff", "Show a worker agent's changes",
          "The agent's changes (committed or not) against the commit it started from, as a unified diff, "
          "or with stat: true only the summary of files changed.",
          agent_schema(R"({
            "type": "object",
            "properties": {"id": AGENT_ID, "stat": {"type": "boolean", "description": "Only the summary."}},
            "required": ["id"],
            "additionalProperties": false
          })"),
          agent_diff};
}

Tool agent_merge_tool() {
  return {"agent_merge", "Merge a worker agent's branch",
          "Merge the agent's branch into a target branch (default: the branch it started from) without "
          "touching any working tree: squash (default, one new commit), merge (two parents), rebase "
          "(linear) or ff (refused when impossible). On a conflict nothing moves and the conflicted files "
          "are listed; call again with resolve: \"ours\" or \"theirs\" (and optionally files) to finish it. "
          "If the target is checked out with uncommitted changes the merge is refused.",
          agent_schema(R"({
            "type": "object",
            "properties": {
              "id": AGENT_ID,
              "into": {"type": "string", "description": "Target branch (default: the agent's base branch)."},
              "strategy": {"type": "string", "enum": ["squash", "merge", "rebase", "ff"]},
              "resolve": {"type": "string", "enum": ["ours", "theirs"], "description": "Finish a conflicted merge: ours keeps the target's version, theirs takes the agent's."},
              "files": {"type": "array", "items": {"type": "string"}, "description": "With resolve: only these conflicted files (default: all)."}
            },
            "required": ["id"],
            "additionalProperties": false
          })"),
          agent_merge};
}

Tool agent_cancel_tool() {
  return {"agent_cancel", "Stop a worker agent",
          "Stop the agent's program (TERM, grace, KILL: its whole process tree) and answer once it is gone. "
          "Its ticket ends cancelled; its branch is kept with what it had done, committed.",
          agent_schema(R"({"type": "object", "properties": {"id": AGENT_ID}, "required": ["id"], "additionalProperties": false})"),
          agent_cancel};
}

std::vector<Tool> make_table() {
  return {shell_run_tool(),   terminal_start_tool(), task_output_tool(),  task_wait_tool(),
          task_kill_tool(),   task_send_tool(),      task_list_tool(),    task_status_tool(),
          task_restart_tool(), task_edit_tool(),
          agent_spawn_tool(), agent_status_tool(),   agent_wait_tool(),   agent_diff_tool(),
          agent_merge_tool(), agent_cancel_tool()};
}

}  // namespace

json Tool::to_json() const {
  return {{"name", name}, {"title", title}, {"description", description}, {"inputSchema", input_schema}};
}

const std::vector<Tool>& tool_table() {
  static const std::vector<Tool> tools = make_table();
  return tools;
}

const Tool* find_tool(const std::string& name) {
  const auto& tools = tool_table();
  auto it = std::find_if(tools.begin(), tools.end(), [&](const Tool& t) { return t.name == name; });
  return it == tools.end() ? nullptr : &*it;
}

json ToolResult::to_json() const {
  json result = {{"content", json::array({{{"type", "text"}, {"text", text}}})}, {"isError", is_error}};
  if (!structured.empty()) result["structuredContent"] = structured;
  return result;
}

}  // namespace tend::mcp
