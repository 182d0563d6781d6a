#include "format.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "tend/core/duration.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend::cli {

bool use_colour(int fd) {
  const char* no_colour = std::getenv("NO_COLOR");
  return ::isatty(fd) && !(no_colour && *no_colour);
}

std::string coloured_state(const std::string& state, bool colour) {
  if (!colour) return state;
  const char* code = "0";
  if (state == "running") code = "36";
  else if (state == "succeeded") code = "32";
  else if (state == "failed" || state == "lost") code = "31";
  else if (state == "timed_out" || state == "stalled") code = "33";
  else if (state == "killed" || state == "cancelled") code = "35";
  else if (state == "queued") code = "2";
  return fmt::format("\x1b[{}m{}\x1b[0m", code, state);
}

std::string human_ms(std::int64_t ms) { return format_duration(Duration(ms)); }

std::string shown(const json& text) { return escape_controls(text.get<std::string>()); }

namespace {

std::string exit_text(const json& t) {
  if (!t["exit_code"].is_null()) return std::to_string(t["exit_code"].get<int>());
  if (!t["signal"].is_null()) return t["signal"].get<std::string>();
  return "-";
}

std::string state_text(const json& t) {
  std::string state = t["state"].get<std::string>();
  if (t.value("paused", false)) state += " (paused)";
  else if (t.value("stalled", false)) state += " (stalled)";
  return state;
}

}  // namespace

std::string task_table(const json& tasks, bool colour) {
  std::vector<std::array<std::string, 6>> rows;
  rows.push_back({"ID", "NAME", "STATE", "EXIT", "TIME", "COMMAND"});
  for (const auto& t : tasks) {
    rows.push_back({std::to_string(t["id"].get<std::uint64_t>()), shown(t["name"]), state_text(t), exit_text(t),
                    human_ms(t["duration_ms"].get<std::int64_t>()), shown(t["command"])});
  }
  std::array<std::size_t, 6> width{};
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < 5; ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const auto& r = rows[row];
    std::string line;
    for (std::size_t i = 0; i < 5; ++i) {
      std::string cell = r[i];
      std::string padding(width[i] - cell.size() + 2, ' ');
      if (i == 2 && row > 0) cell = coloured_state(cell, colour);
      line += cell + padding;
    }
    std::string command = r[5];
    if (command.size() > 80) command = command.substr(0, 77) + "...";
    out += line + command + "\n";
  }
  return out;
}

std::string status_page(const json& t, bool colour) {
  std::string out;
  auto row = [&](const char* key, const std::string& value) { out += fmt::format("{:<10} {}\n", key, value); };
  row("id", std::to_string(t["id"].get<std::uint64_t>()));
  if (!t["name"].get<std::string>().empty()) row("name", shown(t["name"]));
  row("state", coloured_state(state_text(t), colour));
  row("reason", shown(t["reason"]));
  row("command", shown(t["command"]));
  if (!t["cwd"].get<std::string>().empty()) row("cwd", shown(t["cwd"]));
  row("kind", t["kind"].get<std::string>());
  if (t["pid"].get<int>() > 0) row("pid", std::to_string(t["pid"].get<int>()));
  if (!t["exit_code"].is_null()) row("exit code", std::to_string(t["exit_code"].get<int>()));
  if (!t["signal"].is_null()) row("signal", t["signal"].get<std::string>());
  if (!t["started_at"].is_null()) row("started", t["started_at"].get<std::string>());
  if (!t["ended_at"].is_null()) row("ended", t["ended_at"].get<std::string>());
  row("duration", human_ms(t["duration_ms"].get<std::int64_t>()));
  if (t.value("attempts", 0) > 1) row("attempts", std::to_string(t["attempts"].get<int>()));
  if (!t["port"].is_null()) row("port", std::to_string(t["port"].get<int>()));
  for (const auto& warning : t.value("warnings", json::array())) row("warning", shown(warning));
  if (t.contains("stdout_bytes")) {
    row("output", fmt::format("{} bytes on stdout, {} on stderr", t["stdout_bytes"].get<std::uint64_t>(),
                              t["stderr_bytes"].get<std::uint64_t>()));
  }
  if (!t.value("output_note", "").empty()) row("missing", shown(t["output_note"]));
  if (t.contains("history") && t["history"].size() > 1) {
    out += "history\n";
    for (const auto& a : t["history"]) {
      out += fmt::format("  #{} {} {}\n", a["attempt"].get<int>(), a["ended_at"].get<std::string>(),
                         shown(a["reason"]));
    }
  }
  return out;
}

}  // namespace tend::cli
