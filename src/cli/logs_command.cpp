// tend logs: a task's output, both streams in the order tend saw them (or
// one of them), its last lines, the lines matching a pattern, or followed
// until the task ends.

#include <iostream>

#include <fmt/format.h>

#include "client.hpp"
#include "commands.hpp"
#include "output_printer.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend::cli {
namespace {

struct LogsRequest {
  json id;
  std::string stream = "both";
  json cursors = {{"stdout", 0}, {"stderr", 0}};
};

LogsRequest logs_request(const Options& o) {
  if (o.only_stdout && o.only_stderr) throw UsageError("--stdout and --stderr: choose one (or neither for both)");
  LogsRequest r;
  r.id = task_ref(o.id);
  if (o.only_stdout) r.stream = "stdout";
  if (o.only_stderr) r.stream = "stderr";
  if (o.since) {
    if (*o.since < 0) throw UsageError("--since: expected a cursor (a byte offset, 0 or more)");
    // A cursor is a place in one stream.
    if (r.stream == "both") throw UsageError("--since: a cursor is a place in one stream: add --stdout or --stderr");
    r.cursors[r.stream] = *o.since;
  }
  return r;
}

// Asks for the output as file ranges, or (files not ours to open) as bytes.
json ask(Client& client, json params, bool by_file) {
  if (by_file) {
    params["by_file"] = true;
  } else {
    params["encoding"] = "base64";
  }
  return client.call("task.output", params);
}

// Prints every answer to `params` from its cursors on, until one comes back
// with less than it could hold (all there was when asked).
void print_all(Client& client, json params) {
  constexpr std::uint64_t kPerAnswer = 1ull << 30;
  constexpr std::size_t kPartsPerAnswer = 1 << 16;
  OutputPrinter printer;
  bool by_file = true;
  while (true) {
    params["max_bytes"] = by_file ? kPerAnswer : (16u << 20);
    params["max_parts"] = kPartsPerAnswer;
    json r = ask(client, params, by_file);
    if (!printer.print(r)) {
      by_file = false;
      continue;
    }
    std::uint64_t bytes = 0;
    for (const auto& part : r["parts"]) bytes += part.size() > 3 ? 0 : part[2].get<std::uint64_t>();
    if (r["parts"].empty() || r.value("eof", false) || params.contains("tail_lines") ||
        r["next_cursors"] == params["cursors"]) {
      return;
    }
    // A plain view that held less than it could has shown all there was (a
    // task still writing is not chased); matches come in bounded answers.
    const bool full = bytes >= params["max_bytes"].get<std::uint64_t>() || r["parts"].size() >= kPartsPerAnswer;
    if (!params.contains("grep") && !full) return;
    params["cursors"] = r["next_cursors"];
  }
}

int logs_json(Client& client, const LogsRequest& req, const Options& o) {
  json p = {{"id", req.id}, {"stream", req.stream}, {"cursors", req.cursors}, {"max_bytes", 16 << 20}};
  if (o.tail) p["tail_lines"] = *o.tail;
  if (!o.grep.empty()) p["grep"] = o.grep;
  json r = client.call("task.output", p);
  json out = {{"data", r["data"]}, {"parts", r["parts"]}, {"next_cursors", r["next_cursors"]}, {"eof", r["eof"]}};
  if (r.contains("next_cursor")) out["next_cursor"] = r["next_cursor"];
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int cmd_logs(const Options& o) {
  if (o.tail && *o.tail < 0) throw UsageError("--tail: expected a number of lines, 0 or more");
  LogsRequest req = logs_request(o);
  Client client = Client::connect();
  if (o.json) return logs_json(client, req, o);
  if (o.follow && !o.tail && o.grep.empty()) {
    json end = follow_output(client, req.id,
                             {req.stream, req.cursors["stdout"].get<std::uint64_t>(),
                              req.cursors["stderr"].get<std::uint64_t>()});
    // As `tend wait` would: a closing line when it did not succeed, and its exit code.
    if (end.value("state", "") != "succeeded") {
      std::cerr << fmt::format("task {} {}: {}\n", end["id"].get<std::uint64_t>(), end.value("state", ""),
                               escape_controls(end.value("reason", "")));
    }
    return wait_exit_code(end);
  }
  json p = {{"id", req.id}, {"stream", req.stream}, {"cursors", req.cursors}};
  if (o.tail) p["tail_lines"] = *o.tail;
  if (!o.grep.empty()) p["grep"] = o.grep;
  print_all(client, p);
  return 0;
}

}  // namespace tend::cli
