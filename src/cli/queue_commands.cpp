// The commands that steer the queue: its groups and limits (group ls, group
// rm, parallel with no number) and when a queued task starts (--delay, --at,
// enqueue, start).

#include <iostream>

#include <fmt/format.h>

#include "client.hpp"
#include "commands.hpp"
#include "format.hpp"
#include "tend/core/clock_time.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::cli {

namespace {

// Each task's answer: "N queued" (or why not, on stderr); 1 if any failed.
int report_each(const json& answer, const char* done) {
  int code = 0;
  for (const auto& t : answer["tasks"]) {
    if (t.contains("error")) {
      std::cerr << "tend: " << t["error"]["message"].get<std::string>() << "\n";
      code = 1;
    } else {
      std::cout << fmt::format("{} {} ({})\n", t["id"].get<std::uint64_t>(), done, t["state"].get<std::string>());
    }
  }
  return code;
}

std::string parallel_text(const json& n) {
  return n.get<std::uint64_t>() == 0 ? "none" : std::to_string(n.get<std::uint64_t>());
}

}  // namespace

void add_start_time(json& p, const Options& o) {
  if (o.delay && o.at) throw UsageError("--delay and --at: give one of them, not both");
  if (o.delay) p["delay_ms"] = duration_ms("--delay", *o.delay);
  if (o.at) {
    try {
      p["start_at"] = store::format_time(next_clock_time(*o.at, std::chrono::system_clock::now()));
    } catch (const ClockTimeError& e) {
      throw UsageError(fmt::format("--at: {}", escape_controls(e.what())));
    }
  }
}

int cmd_group_ls(const Options& o) {
  Client client = Client::connect();
  json r = client.call("group.list", {{"internal", o.internal}});
  if (o.json) {
    std::cout << r.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<20} {:>8} {:>8} {:>8} {:>8}\n", "GROUP", "LIMIT", "RUNNING", "QUEUED", "PAUSED");
  for (const auto& g : r["groups"]) {
    std::cout << fmt::format("{:<20} {:>8} {:>8} {:>8} {:>8}\n", shown(g["name"]), parallel_text(g["parallel"]),
                             g["running"].get<std::size_t>(), g["queued"].get<std::size_t>(),
                             g["paused"].get<std::size_t>());
  }
  if (r["parallel"].get<std::uint64_t>() != 0) {
    std::cout << fmt::format("at most {} tasks at once over all groups\n", r["parallel"].get<std::uint64_t>());
  }
  return 0;
}

int cmd_show_limits(const Options& o) {
  Client client = Client::connect();
  json r = client.call("group.list", {{"internal", o.internal}});
  if (!o.group.empty()) {
    for (const auto& g : r["groups"]) {
      if (g["name"] == o.group) {
        std::cout << parallel_text(g["parallel"]) << "\n";
        return 0;
      }
    }
    throw UsageError(fmt::format("no group \"{}\" (tend group ls lists them)", escape_controls(o.group)));
  }
  std::cout << fmt::format("all groups: {}\n", parallel_text(r["parallel"]));
  for (const auto& g : r["groups"]) std::cout << fmt::format("{}: {}\n", shown(g["name"]), parallel_text(g["parallel"]));
  return 0;
}

int cmd_group_rm(const Options& o) {
  Client client = Client::connect();
  client.call("group.remove", {{"name", o.group}});
  std::cout << fmt::format("removed group {}\n", escape_controls(o.group));
  return 0;
}

int cmd_enqueue(const Options& o) {
  json p = {{"ids", task_refs(o.ids)}};
  add_start_time(p, o);
  Client client = Client::connect();
  return report_each(client.call("task.enqueue", p), "enqueued");
}

int cmd_start(const Options& o) {
  Client client = Client::connect();
  return report_each(client.call("task.start", {{"ids", task_refs(o.ids)}}), "started");
}

}  // namespace tend::cli
