#include "format.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <string_view>
#include <cstdlib>
#include <vector>

#include <fmt/format.h>

#include "tend/core/byte_size.hpp"
#include "tend/core/duration.hpp"
#include "tend/core/terminal_text.hpp"
#include "tend/store/task_codec.hpp"

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

constexpr std::size_t kReasonWidth = 48;  ///< bytes of a reason in `tend ls`

std::string exit_text(const json& t) {
  if (!t["exit_code"].is_null()) return std::to_string(t["exit_code"].get<int>());
  if (!t["signal"].is_null()) return t["signal"].get<std::string>();
  return "-";
}

// A queued task's start time, in local time: "14:30:00" today, else with its date.
std::string start_time_text(const json& t) {
  auto at = store::parse_time(t["start_at"].get<std::string>());
  if (!at) return t["start_at"].get<std::string>();
  const std::time_t secs = Clock::to_time_t(*at), now = Clock::to_time_t(Clock::now());
  std::tm when{}, today{};
  ::localtime_r(&secs, &when);
  ::localtime_r(&now, &today);
  const bool same_day = when.tm_year == today.tm_year && when.tm_yday == today.tm_yday;
  char text[32];
  std::strftime(text, sizeof text, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &when);
  return text;
}

bool held_until_start_time(const json& t) {
  return t["state"] == "queued" && !t.value("stashed", false) && t.contains("start_at") && t["start_at"].is_string();
}

std::string state_text(const json& t) {
  std::string state = t["state"].get<std::string>();
  if (state == "queued" && t.value("stashed", false)) state += " (stashed)";
  else if (held_until_start_time(t)) state += " (until " + start_time_text(t) + ")";
  else if (t.value("paused", false)) state += " (paused)";
  else if (t.value("stalled", false)) state += " (stalled)";
  return state;
}

// Text for one cell: escaped as escape_controls does (so a program's name
// cannot move the cursor or break the row), then cut to `max` bytes between
// characters and escapes, "..." saying so.
std::string cell_text(std::string_view text, std::size_t max) {
  std::vector<std::string> pieces;  // one character, or one escape
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = std::max<std::size_t>(utf8_char_at(text, i).length, 1);  // 1: a stray byte
    pieces.push_back(escape_controls(text.substr(i, length)));
    i += length;
  }
  std::string out;
  for (const auto& p : pieces) out += p;
  if (out.size() <= max) return out;
  out.clear();
  for (const auto& p : pieces) {
    if (out.size() + p.size() > max - 3) break;
    out += p;
  }
  return out + "...";
}

// Why a task ended badly, short; empty for a task that is fine.
std::string reason_cell(const json& t) {
  const std::string state = t["state"].get<std::string>();
  if (state != "failed" && state != "lost" && state != "timed_out" && state != "stalled") return "";
  return cell_text(t.value("reason", ""), kReasonWidth);
}

// "none", "2m (policy)", "30s (given)": one limit of the status's "limits".
std::string limit_text(const json& limit) {
  const std::string from = limit.value("from", "none");
  std::string value = limit.value("ms", json()).is_null() ? "none" : human_ms(limit["ms"].get<std::int64_t>());
  return from == "none" ? value : fmt::format("{} ({})", value, from == "given" ? "asked for" : "command policy");
}

}  // namespace

std::string task_table(const json& tasks, bool colour) {
  // PORT and REASON only when some task has one: the usual list stays narrow.
  bool any_port = false, any_reason = false;
  for (const auto& t : tasks) {
    any_port = any_port || !t.value("port", json()).is_null();
    any_reason = any_reason || !reason_cell(t).empty();
  }
  std::vector<std::string> header = {"ID", "NAME", "STATE", "EXIT", "TIME"};
  if (any_port) header.push_back("PORT");
  if (any_reason) header.push_back("REASON");
  std::vector<std::vector<std::string>> rows{header};
  std::vector<std::string> commands{"COMMAND"};
  for (const auto& t : tasks) {
    std::vector<std::string> r = {std::to_string(t["id"].get<std::uint64_t>()), shown(t["name"]),
                                  state_text(t), exit_text(t), human_ms(t["duration_ms"].get<std::int64_t>())};
    if (any_port) r.push_back(t.value("port", json()).is_null() ? "-" : std::to_string(t["port"].get<int>()));
    if (any_reason) r.push_back(reason_cell(t).empty() ? "-" : reason_cell(t));
    rows.push_back(std::move(r));
    // A task tend started for an agent says which ticket it works on.
    // Raw here: cell_text escapes it, and cuts it between escapes.
    std::string command = t["command"].get<std::string>();
    if (t.contains("owner") && t["owner"].is_string()) command = "[" + t["owner"].get<std::string>() + "] " + command;
    commands.push_back(std::move(command));
  }
  std::vector<std::size_t> width(header.size());
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (std::size_t row = 0; row < rows.size(); ++row) {
    std::string line;
    for (std::size_t i = 0; i < rows[row].size(); ++i) {
      std::string cell = rows[row][i];
      std::string padding(width[i] - cell.size() + 2, ' ');
      if (i == 2 && row > 0) cell = coloured_state(cell, colour);
      line += cell + padding;
    }
    out += line + (row == 0 ? commands[row] : cell_text(commands[row], 80)) + "\n";
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
  if (held_until_start_time(t)) row("starts at", start_time_text(t));
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
  if (t.contains("limits")) {
    row("timeout", limit_text(t["limits"]["timeout"]));
    row("idle", limit_text(t["limits"]["idle_timeout"]));
  }
  if (t.contains("log_limit")) {
    const auto cap = t["log_limit"].get<std::uint64_t>();
    row("log limit", cap == 0 ? "none" : format_byte_size(cap) + " per stream");
  }
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
