// Drives `tend mcp` with the official MCP TypeScript SDK client, against a
// daemon of its own (TEND_SOCKET, TEND_STATE_DIR in a temporary directory).
//   node tests/mcp/client/run.mjs path/to/tend
// Exits 0 when every check passes; prints the first failure otherwise.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

let sdk;
try {
  sdk = {
    ...(await import("@modelcontextprotocol/sdk/client/index.js")),
    ...(await import("@modelcontextprotocol/sdk/client/stdio.js")),
    ...(await import("@modelcontextprotocol/sdk/types.js")),
  };
} catch (e) {
  console.error(`the MCP SDK is not installed in tests/mcp/client/node_modules (run scripts/install-deps): ${e.message}`);
  process.exit(1);
}
const { Client, StdioClientTransport, LoggingMessageNotificationSchema } = sdk;

const tend = process.argv[2] && resolve(process.argv[2]);
if (!tend) {
  console.error("usage: node run.mjs path/to/tend");
  process.exit(2);
}
const home = mkdtempSync(join(tmpdir(), "tend-mcp-sdk-"));
const env = { ...process.env, TEND_SOCKET: join(home, "run", "tend.sock"), TEND_STATE_DIR: join(home, "state") };

function text(result) {
  return result.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
}

async function connect(name) {
  const client = new Client({ name, version: "1.0.0" });
  const notes = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => notes.push(n.params));
  const transport = new StdioClientTransport({ command: tend, args: ["mcp"], env, cwd: home, stderr: "inherit" });
  await client.connect(transport);
  return { client, notes };
}

async function until(what, predicate, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const step = (name) => console.log(`- ${name}`);

async function main() {
  const { client, notes } = await connect("tend-test");
  const call = (name, args) => client.callTool({ name, arguments: args });

  step("initialize: tools and logging capabilities, server info");
  const caps = client.getServerCapabilities();
  assert.ok(caps.tools, "tools capability");
  assert.ok(caps.logging, "logging capability");
  assert.equal(client.getServerVersion().name, "tend");

  step("tools/list: every task tool, each with an object input schema");
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  for (const n of ["shell_run", "terminal_start", "task_output", "task_wait", "task_kill", "task_send", "task_list", "task_status",
                   "agent_spawn", "agent_status", "agent_wait", "agent_diff", "agent_merge", "agent_cancel"]) {
    assert.ok(names.includes(n), `tool ${n} is listed`);
  }
  for (const t of tools) {
    assert.equal(t.inputSchema.type, "object", `${t.name} has an object schema`);
    assert.ok(t.description.length > 40, `${t.name} is described`);
  }

  step("shell_run: output and how it ended");
  let r = await call("shell_run", { command: "echo hello from tend; echo to-stderr >&2" });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.task.state, "succeeded");
  assert.equal(r.structuredContent.task.exit_code, 0);
  assert.match(text(r), /hello from tend/);
  assert.match(text(r), /to-stderr/);
  r = await call("shell_run", { command: "exit 3" });
  assert.equal(r.structuredContent.task.state, "failed");
  assert.equal(r.structuredContent.task.exit_code, 3);
  assert.match(text(r), /exit code 3/);

  step("shell_run: a timeout stops the command and says so");
  r = await call("shell_run", { command: "sleep 30", timeout_s: 0.5 });
  assert.equal(r.structuredContent.task.state, "timed_out", text(r));

  step("shell_run: a large output is cut, with a cursor for the rest");
  r = await call("shell_run", { command: "seq 1 100000" });
  assert.equal(r.structuredContent.output.truncated, true);
  assert.ok(r.structuredContent.output.text.length <= 16 * 1024);
  assert.match(r.structuredContent.output.text, /^\d+\n/);
  assert.match(r.structuredContent.output.text, /100000\n$/);
  assert.match(text(r), /task_output/);

  step("shell_run: a command that outlives the inline wait goes to the background");
  r = await call("shell_run", { command: "sleep 1.5; echo late", wait_s: 0.2 });
  assert.equal(r.structuredContent.background, true, text(r));
  const late = r.structuredContent.task.id;
  assert.match(text(r), /still running after/);

  step("terminal_start: waits for readiness, returns the first output");
  r = await call("terminal_start", {
    command: "echo booting; sleep 0.3; echo 'listening on 1234'; exec cat",
    ready_pattern: "listening on \\d+",
  });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.ready, true);
  assert.equal(r.structuredContent.task.state, "running");
  assert.match(text(r), /booting/);
  const term = r.structuredContent.task.id;

  step("terminal_start: ready_port 0 hands out $PORT and waits for it");
  r = await call("terminal_start", { command: "exec python3 -m http.server $PORT --bind 127.0.0.1", ready_port: 0 });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.ready, true);
  assert.equal(typeof r.structuredContent.task.port, "number");
  const web = r.structuredContent.task.id;

  step("terminal_start: readiness that never comes is an error naming the task");
  r = await call("terminal_start", { command: "echo nope; sleep 30", ready_pattern: "never", ready_timeout_s: 0.5 });
  assert.equal(r.isError, true);
  assert.match(text(r), /not ready/i);
  assert.match(text(r), /nope/);
  const unready = r.structuredContent.task.id;
  assert.equal(typeof unready, "number");

  step("task_output: by cursor, each byte once");
  r = await call("task_output", { id: term });
  const first = r.structuredContent.next_cursor;
  assert.ok(first > 0);
  assert.match(r.structuredContent.data, /listening on 1234/);
  r = await call("task_send", { id: term, text: "ping-from-sdk" });
  assert.equal(r.isError, false, text(r));
  let seen = "";
  let cursor = first;
  for (let i = 0; i < 20 && !seen.includes("ping-from-sdk"); i++) {
    r = await call("task_output", { id: term, since: cursor, wait_s: 2 });
    seen += r.structuredContent.data;
    cursor = r.structuredContent.next_cursor;
  }
  assert.match(seen, /ping-from-sdk/);
  assert.doesNotMatch(seen, /booting/);
  r = await call("task_output", { id: term, tail_lines: 1 });
  assert.equal(r.isError, false);

  step("task_wait: any returns the first to end, with its tail");
  const quick = (await call("shell_run", { command: "sleep 0.3; echo quick-done", background: true })).structuredContent.task.id;
  const slow = (await call("shell_run", { command: "sleep 60", background: true })).structuredContent.task.id;
  r = await call("task_wait", { ids: [quick, slow], any: true, timeout_s: 20 });
  assert.equal(r.structuredContent.timed_out, false, text(r));
  assert.equal(r.structuredContent.finished.length, 1);
  assert.equal(r.structuredContent.finished[0].id, quick);
  assert.equal(r.structuredContent.finished[0].state, "succeeded");
  assert.match(r.structuredContent.finished[0].output_tail, /quick-done/);
  assert.deepEqual(r.structuredContent.pending, [slow]);
  r = await call("task_wait", { ids: [slow], timeout_s: 0.2 });
  assert.equal(r.structuredContent.timed_out, true);

  step("notifications: a background task's end arrives as a log message");
  await until("the end of the backgrounded shell", () => notes.some((n) => n.data?.task?.id === late));
  const note = notes.find((n) => n.data.task.id === late);
  assert.equal(note.level, "info");
  assert.equal(note.data.task.state, "succeeded");
  await until("the end of the quick task", () => notes.some((n) => n.data?.task?.id === quick));

  step("task_kill: stops a task and its tree, and says how it ended");
  r = await call("task_kill", { id: slow, grace_s: 2 });
  assert.equal(r.isError, false, text(r));
  assert.equal(r.structuredContent.task.state, "killed");
  assert.equal(r.structuredContent.already_ended, false);
  for (const id of [term, web, unready]) {
    r = await call("task_kill", { id, grace_s: 1 });
    assert.equal(r.structuredContent.task.state, "killed", text(r));
  }
  r = await call("task_kill", { id: slow });
  assert.equal(r.structuredContent.already_ended, true);
  assert.match(text(r), /already ended/);
  await until("the kill notification", () => notes.some((n) => n.data?.task?.id === slow && n.level === "warning"));

  step("task_list and task_status");
  r = await call("task_list", {});
  assert.ok(r.structuredContent.tasks.some((t) => t.id === quick));
  r = await call("task_status", { id: quick });
  assert.equal(r.structuredContent.task.state, "succeeded");
  assert.ok(r.structuredContent.task.transitions.length >= 2);

  step("errors: a bad argument, an unknown task and an unknown tool");
  r = await call("shell_run", { command: 42 });
  assert.equal(r.isError, true);
  assert.match(text(r), /"command" must be a string/);
  r = await call("shell_run", { cmd: "ls" });
  assert.equal(r.isError, true);
  assert.match(text(r), /missing argument "command"/);
  r = await call("task_status", { id: 987654 });
  assert.equal(r.isError, true);
  assert.match(text(r), /no task 987654/);
  r = await call("task_output", { id: quick, grep: "(" });
  assert.equal(r.isError, true);
  await assert.rejects(call("no_such_tool", {}), /unknown tool/);
  await client.ping();

  step("agents: spawn two on their own branches, wait, diff, merge, a conflict resolved, a cancel");
  const repo = join(home, "repo");
  const git = (...args) => execFileSync("git", args, { cwd: repo, env, encoding: "utf8" }).trim();
  execFileSync("git", ["init", "--quiet", "-b", "main", repo]);
  git("config", "user.name", "MCP Test");
  git("config", "user.email", "mcp@test.invalid");
  execFileSync("sh", ["-c", "printf 'one\\ntwo\\nthree\\n' > shared.txt"], { cwd: repo });
  git("add", "-A");
  git("commit", "--quiet", "-m", "initial");
  r = await call("agent_spawn", { task: "say A", repo, command: "sed -i 's/two/A/' shared.txt && echo changed > \"$TEND_RESULT_FILE\"" });
  assert.equal(r.isError, false, text(r));
  const agentA = r.structuredContent.agent.id;
  r = await call("agent_spawn", { task: "say B", repo, command: "sed -i 's/two/B/' shared.txt" });
  const agentB = r.structuredContent.agent.id;
  r = await call("agent_wait", { ids: [agentA, agentB], timeout_s: 40 });
  assert.equal(r.structuredContent.timed_out, false, text(r));
  r = await call("agent_status", { id: agentA });
  assert.equal(r.structuredContent.agent.status, "completed");
  assert.equal(r.structuredContent.agent.summary, "changed\n");
  r = await call("agent_diff", { id: agentA });
  assert.match(text(r), /\+A/);
  r = await call("agent_merge", { id: agentA });
  assert.equal(r.structuredContent.merged, true, text(r));
  r = await call("agent_merge", { id: agentB });
  assert.equal(r.structuredContent.merged, false);
  assert.deepEqual(r.structuredContent.conflicts, ["shared.txt"]);
  assert.match(text(r), /Conflict/);
  r = await call("agent_merge", { id: agentB, resolve: "theirs" });
  assert.equal(r.structuredContent.merged, true, text(r));
  assert.equal(git("show", "main:shared.txt"), "one\nB\nthree");
  r = await call("agent_spawn", { task: "take forever", repo, command: "sleep 600" });
  const slowAgent = r.structuredContent.agent.id;
  r = await call("agent_cancel", { id: slowAgent });
  assert.equal(r.structuredContent.agent.status, "cancelled", text(r));
  r = await call("agent_merge", { id: "999" });
  assert.equal(r.isError, true);
  assert.match(text(r), /no ticket 999/);

  step("a second client shares the daemon");
  const second = await connect("tend-test-2");
  r = await second.client.callTool({ name: "task_status", arguments: { id: quick } });
  assert.equal(r.structuredContent.task.state, "succeeded");
  await second.client.close();

  await client.close();
}

try {
  await main();
  console.log("ok: tend mcp works with the MCP TypeScript SDK");
} catch (e) {
  console.error(e);
  process.exitCode = 1;
} finally {
  try {
    execFileSync(tend, ["daemon", "stop"], { env, stdio: "inherit", timeout: 30000 });
  } catch (e) {
    console.error(`tend daemon stop: ${e.message}`);
  }
  rmSync(home, { recursive: true, force: true });
}
