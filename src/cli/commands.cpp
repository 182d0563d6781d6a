#include "commands.hpp"

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "client.hpp"
#include "format.hpp"
#include "output_printer.hpp"
#include "run_result.hpp"
#include "tend/core/byte_size.hpp"
#include "tend/core/duration.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/process/pidfd.hpp"
#include "tend/process/signals.hpp"
#include "tend/rpc/paths.hpp"
#include "tend/rpc/task_ref.hpp"

namespace tend::cli {

json task_ref(const std::string& text) {
  try {
    return rpc::parse_task_ref_text(text).to_json();
  } catch (const rpc::TaskRefError& e) {
    throw UsageError(e.what());
  }
}

json task_refs(const std::vector<std::string>& texts) {
  json ids = json::array();
  for (const auto& t : texts) ids.push_back(task_ref(t));
  return ids;
}

std::int64_t duration_ms(const std::string& option, const std::string& text) {
  try {
    return duration_of_text(text).count();
  } catch (const DurationError& e) {
    throw UsageError(fmt::format("{}: {}", option, e.what()));
  }
}

namespace {

// One task of several that could not be acted on: why, on stderr; the
// command's exit code then says that not everything was done.
int not_done(const json& entry) {
  std::cerr << "tend: " << entry["error"]["message"].get<std::string>() << "\n";
  return 1;
}

}  // namespace

int cmd_run(const Options& o) {
  json p = json::object();
  if (o.shell) {
    std::string line;
    for (const auto& word : o.command) line += (line.empty() ? "" : " ") + word;
    p["shell"] = line;
  } else {
    p["argv"] = o.command;
  }
  if (!o.name.empty()) p["name"] = o.name;
  if (o.replace) {
    if (o.name.empty()) throw UsageError("--replace: give the --name of the task to replace");
    p["replace"] = true;
  }
  p["cwd"] = o.cwd.empty() ? std::filesystem::current_path().string() : std::filesystem::absolute(o.cwd).string();
  // The task gets this shell's environment (as if run here), plus --env.
  json env = rpc::environment_json();
  for (const auto& kv : o.env) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(fmt::format("--env: expected NAME=VALUE, not \"{}\"", kv));
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  p["env"] = env;
  p["inherit_env"] = false;
  if (o.timeout) p["timeout_ms"] = duration_ms("--timeout", *o.timeout);
  if (o.idle_timeout) p["idle_timeout_ms"] = duration_ms("--idle-timeout", *o.idle_timeout);
  p["command_policy"] = false;  // run by hand, a task runs until it ends unless given a limit
  if (!o.idle_policy.empty()) {
    if (o.idle_policy != "warn" && o.idle_policy != "stop") {
      throw UsageError(fmt::format("--idle-policy: expected warn or stop, not \"{}\"", o.idle_policy));
    }
    p["idle_policy"] = o.idle_policy;
  }
  if (o.terminal) p["terminal"] = true;
  if (!o.group.empty()) p["group"] = o.group;
  if (!o.after.empty()) p["after"] = task_refs(o.after);
  if (o.priority) p["priority"] = *o.priority;
  add_start_time(p, o);
  if (o.stashed) p["stashed"] = true;
  if (!o.ready_pattern.empty()) p["ready_pattern"] = o.ready_pattern;
  if (o.ready_port) {
    if (*o.ready_port < 0 || *o.ready_port > 65535) throw UsageError("--ready-port: expected a port number");
    p["ready_port"] = *o.ready_port;
  }
  if (o.ready_timeout) p["ready_timeout_ms"] = duration_ms("--ready-timeout", *o.ready_timeout);
  if (o.allocate_port || (o.ready_port && *o.ready_port == 0)) p["allocate_port"] = true;
  if (!o.restart.empty()) {
    if (o.restart != "no" && o.restart != "on-failure" && o.restart != "always") {
      throw UsageError(fmt::format("--restart: expected no, on-failure or always, not \"{}\"", o.restart));
    }
    p["restart"] = o.restart;
  }
  if (!o.stop_signal.empty()) {
    if (!process::parse_signal(o.stop_signal)) throw UsageError(fmt::format("--stop-signal: unknown signal \"{}\"", o.stop_signal));
    p["stop_signal"] = o.stop_signal;
  }
  if (o.grace) p["grace_ms"] = duration_ms("--grace", *o.grace);
  if (o.stdin_pipe) p["stdin"] = "pipe";
  if (o.merge_stderr) p["merge_stderr"] = true;
  if (!o.log_limit.empty()) {
    auto limit = parse_byte_size(o.log_limit);
    if (!limit) throw UsageError(fmt::format("--log-limit: expected a size such as 500M, 2G or 0 (none), not \"{}\"", o.log_limit));
    p["log_limit"] = *limit;
  }

  Client client = Client::connect();
  json task;
  try {
    task = client.call("task.run", p);
  } catch (const rpc::RpcError& e) {
    if (e.code() == rpc::error_code::not_ready) {
      std::cerr << "tend: " << e.what() << "\n";
      return 1;
    }
    throw;
  }
  if (o.wait) return wait_in_foreground(client, task, o);
  return report_started(task, o);
}

int cmd_ls(const Options& o) {
  Client client = Client::connect();
  json p = {{"all", o.all}, {"internal", o.internal}};
  if (!o.group.empty()) p["group"] = o.group;
  json r = client.call("task.list", p);
  if (o.json) {
    std::cout << r.dump(2) << "\n";  // {"tasks": [...]}, as task.list answers
  } else {
    std::cout << task_table(r["tasks"], use_colour(1));
  }
  return 0;
}

int cmd_status(const Options& o) {
  Client client = Client::connect();
  json t = client.call("task.status", {{"id", task_ref(o.id)}});
  if (o.json) {
    std::cout << t.dump(2) << "\n";
  } else {
    std::cout << status_page(t, use_colour(1));
  }
  return 0;
}

int cmd_wait(const Options& o) {
  Client client = Client::connect();
  json params = {{"ids", task_refs(o.ids)}, {"any", o.any}};
  std::optional<std::int64_t> limit;
  if (o.timeout) limit = duration_ms("--timeout", *o.timeout);
  const bool live = use_colour(2) && !o.json;
  auto started = std::chrono::steady_clock::now();
  json r;
  if (!live) {
    if (limit) params["timeout_ms"] = *limit;
    r = client.call("task.wait", params);
  } else {
    // On a terminal: a live line (spinner, elapsed time, last output line),
    // redrawn between short waits; the waiting itself stays in the daemon.
    static const char* spinner[] = {"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"};
    for (int frame = 0;; ++frame) {
      auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      std::int64_t slice = 200;
      if (limit) slice = std::max<std::int64_t>(0, std::min(slice, *limit - elapsed.count()));
      params["timeout_ms"] = slice;
      r = client.call("task.wait", params);
      if (!r["timed_out"].get<bool>() || (limit && elapsed.count() >= *limit)) break;
      std::string last;
      auto tail = client.call("task.output", {{"id", task_ref(o.ids.front())}, {"tail_lines", 1}});
      last = tail["data"].get<std::string>();
      if (!last.empty() && last.back() == '\n') last.pop_back();
      if (last.size() > 60) last = last.substr(0, 57) + "...";
      std::cerr << fmt::format("\r\x1b[2K{} waiting for {} ({}) {}", spinner[frame % 10],
                               escape_controls(fmt::format("{}", fmt::join(o.ids, " "))), human_ms(elapsed.count()),
                               escape_controls(strip_ansi(last)))
                << std::flush;
    }
    std::cerr << "\r\x1b[2K" << std::flush;
  }
  if (o.json) {
    std::cout << r.dump(2) << "\n";
  } else {
    for (const auto& t : r["finished"]) {
      std::cout << fmt::format("{} {}: {}\n", t["id"].get<std::uint64_t>(), t["state"].get<std::string>(),
                               shown(t["reason"]));
    }
  }
  if (r["timed_out"].get<bool>()) {
    if (!o.json) std::cerr << "tend: still running: " << r["pending"].dump() << "\n";
    return kTimedOut;
  }
  for (const auto& t : r["finished"]) {
    if (t["state"] != "succeeded") return 1;
  }
  return 0;
}

int cmd_kill(const Options& o) {
  json p = {{"ids", task_refs(o.ids)}};
  if (!o.signal.empty()) {
    if (!process::parse_signal(o.signal)) throw UsageError(fmt::format("--signal: unknown signal \"{}\"", o.signal));
    p["signal"] = o.signal;
  }
  if (o.grace) p["grace_ms"] = duration_ms("--grace", *o.grace);
  Client client = Client::connect();
  json r = client.call("task.kill", p);
  int code = 0;
  for (const auto& t : r["tasks"]) {
    if (t.contains("error")) {
      code = not_done(t);
    } else if (t.contains("signal_sent")) {
      std::cout << fmt::format("{}: {}\n", t["id"].get<std::uint64_t>(),
                               t["signal_sent"].get<bool>() ? "signal sent" : "not running");
    } else if (t.value("already_ended", false)) {
      std::cout << fmt::format("{} {}: had already ended; nothing was sent\n", t["id"].get<std::uint64_t>(),
                               t["state"].get<std::string>());
    } else {
      std::cout << fmt::format("{} {}: {}\n", t["id"].get<std::uint64_t>(), t["state"].get<std::string>(),
                               shown(t["reason"]));
    }
  }
  return code;
}

int cmd_send(const Options& o) {
  Client client = Client::connect();
  client.call("task.send", {{"id", task_ref(o.id)}, {"text", o.text}, {"newline", !o.no_newline}, {"eof", o.eof}});
  return 0;
}

int cmd_simple(const char* method, const Options& o) {
  Client client = Client::connect();
  json t = client.call(method, {{"id", task_ref(o.id)}});
  std::cout << fmt::format("{} {}\n", t["id"].get<std::uint64_t>(), t["paused"].get<bool>() ? "paused" : "running");
  return 0;
}

int cmd_rm(const Options& o) {
  Client client = Client::connect();
  json r = client.call("task.remove", {{"ids", task_refs(o.ids)}});
  int code = 0;
  for (const auto& t : r["tasks"]) {
    if (t.contains("error")) {
      code = not_done(t);
    } else {
      std::cout << "removed " << t["id"].get<std::uint64_t>() << "\n";
    }
  }
  return code;
}

int cmd_clean(const Options& o) {
  json p = json::object();
  if (o.successful_only) p["successful_only"] = true;
  if (!o.group.empty()) p["group"] = o.group;
  Client client = Client::connect();
  json r = client.call("task.clean", p);
  std::cout << "removed " << r["removed"].size() << (o.successful_only ? " succeeded" : " finished") << " tasks\n";
  return 0;
}

int cmd_parallel(const Options& o, bool group_add) {
  if (o.parallel < 0) throw UsageError("expected a limit of 0 (none) or more");
  Client client = Client::connect();
  if (group_add) {
    client.call("group.add", {{"name", o.group}, {"parallel", o.parallel}});
  } else {
    json p = {{"n", o.parallel}};
    if (!o.group.empty()) p["group"] = o.group;
    client.call("queue.parallel", p);
  }
  return 0;
}

int cmd_daemon_start(const Options&) {
  if (auto c = Client::try_connect()) {
    std::cout << "tend: the daemon is running (pid " << c->call("daemon.status")["pid"] << ")\n";
    return 0;
  }
  Client client = Client::connect(true);
  std::cout << "tend: daemon started (pid " << client.call("daemon.status")["pid"] << ")\n";
  return 0;
}

int cmd_daemon_stop(const Options&) {
  auto c = Client::try_connect();
  if (!c) {
    std::cout << "tend: no daemon is running\n";
    return 0;
  }
  // Its pid, to see the process itself end: the socket closes before the
  // daemon has written its last records, and a daemon started meanwhile
  // must not read them half-written.
  std::optional<process::Pidfd> daemon;
  try {
    daemon = process::Pidfd::open(c->call("daemon.status")["pid"].get<pid_t>());
  } catch (const std::exception&) {
    // An older daemon, or it went away already: the socket will tell.
  }
  c->call("daemon.shutdown");
  // It stops its tasks first (TERM, grace, KILL), then its socket goes.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      if (!c->next_notification(100)) continue;
    } catch (const ClientError&) {
      // The connection closed; now wait for the process to be gone.
      if (daemon) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        pollfd p{daemon->fd(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0))) == 0) break;
      }
      std::cout << "tend: daemon stopped\n";
      return 0;
    }
  }
  std::cerr << "tend: the daemon did not stop within 60 s\n";
  return 1;
}

int cmd_daemon_status(const Options& o) {
  auto c = Client::try_connect();
  if (!c) {
    if (o.json) {
      std::cout << json{{"running", false}, {"socket", rpc::socket_path().string()}}.dump(2) << "\n";
    } else {
      std::cout << "tend: no daemon is running (socket " << rpc::socket_path().string() << ")\n";
    }
    return 3;  // as systemctl status: not running
  }
  json s = c->call("daemon.status");
  s["running"] = true;
  if (o.json) {
    std::cout << s.dump(2) << "\n";
  } else {
    std::cout << fmt::format("tend daemon {} (pid {}), up {}\n  socket {}\n  state  {}\n  tasks  {} running, {} queued, {} finished\n",
                             s["version"].get<std::string>(), s["pid"].get<int>(),
                             human_ms(s["uptime_ms"].get<std::int64_t>()), s["socket"].get<std::string>(),
                             s["state_dir"].get<std::string>(), s["tasks"]["running"].get<std::size_t>(),
                             s["tasks"]["queued"].get<std::size_t>(), s["tasks"]["finished"].get<std::size_t>());
  }
  return 0;
}

}  // namespace tend::cli
