#include "tend/process/process_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "tend/process/unique_fd.hpp"

namespace tend::process {
namespace {

// Reads a small /proc file whole; returns false when it is gone.
bool read_file(const char* path, std::string& out) {
  UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  out.clear();
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buf, static_cast<size_t>(n));
  }
}

template <typename T>
bool parse_number(std::string_view& rest, T& value) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  if (ec != std::errc{}) return false;
  rest.remove_prefix(static_cast<size_t>(end - rest.data()));
  return true;
}

void skip_fields(std::string_view& rest, int count) {
  for (int i = 0; i < count; ++i) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    auto space = rest.find(' ');
    rest.remove_prefix(space == std::string_view::npos ? rest.size() : space);
  }
}

}  // namespace

std::optional<ProcessInfo> read_process_info(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  std::string text;
  if (!read_file(path, text)) return std::nullopt;
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
  //  cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime"
  // comm may hold spaces and parentheses: everything after the last ')' is fixed.
  auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
  std::string_view rest(text);
  rest.remove_prefix(close + 2);
  ProcessInfo info;
  info.pid = pid;
  info.state = rest.front();
  rest.remove_prefix(1);
  if (!parse_number(rest, info.ppid) || !parse_number(rest, info.pgid) || !parse_number(rest, info.sid)) {
    return std::nullopt;
  }
  skip_fields(rest, 15);  // tty_nr .. itrealvalue
  if (!parse_number(rest, info.start_time)) return std::nullopt;
  return info;
}

std::vector<ProcessInfo> list_processes() {
  std::vector<ProcessInfo> result;
  DIR* dir = ::opendir("/proc");
  if (!dir) return result;
  while (dirent* entry = ::readdir(dir)) {
    pid_t pid = 0;
    const char* name = entry->d_name;
    auto [end, ec] = std::from_chars(name, name + std::char_traits<char>::length(name), pid);
    if (ec != std::errc{} || *end != '\0') continue;
    if (auto info = read_process_info(pid)) result.push_back(*info);
  }
  ::closedir(dir);
  return result;
}

bool environ_contains(pid_t pid, std::string_view entry) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/environ", pid);
  std::string text;
  if (!read_file(path, text)) return false;
  std::string_view rest(text);
  while (!rest.empty()) {
    auto nul = rest.find('\0');
    if (rest.substr(0, nul) == entry) return true;
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  return false;
}

namespace {

// Every entry of `text` (a /proc/<pid>/environ: NUL-separated) that starts with `prefix`.
template <typename Fn>
void for_each_entry_with_prefix(std::string_view text, std::string_view prefix, Fn fn) {
  while (!text.empty()) {
    auto nul = text.find('\0');
    std::string_view entry = text.substr(0, nul);
    if (entry.substr(0, prefix.size()) == prefix) fn(entry);
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
}

bool is_live_other(const ProcessInfo& p, pid_t self) { return p.pid != self && p.state != 'Z'; }

}  // namespace

ProcessSnapshot ProcessSnapshot::take() {
  ProcessSnapshot snapshot;
  snapshot.self_ = ::getpid();
  snapshot.processes_ = list_processes();
  for (const auto& p : snapshot.processes_) {
    if (!is_live_other(p, snapshot.self_)) continue;
    snapshot.live_by_group_[p.pgid].push_back(p.pid);
    snapshot.live_children_[p.ppid].push_back(p.pid);
  }
  return snapshot;
}

void ProcessSnapshot::read_environment_entries(std::string_view name) {
  const std::string prefix = std::string(name) + "=";
  live_by_environment_entry_.clear();
  std::string text;
  for (const auto& p : processes_) {
    if (!is_live_other(p, self_)) continue;
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/environ", p.pid);
    if (!read_file(path, text)) continue;
    for_each_entry_with_prefix(text, prefix, [&](std::string_view entry) {
      live_by_environment_entry_[std::string(entry)].push_back(p.pid);
    });
  }
  environment_variable_ = std::string(name);
}

std::vector<pid_t> ProcessSnapshot::task_processes(pid_t pgid, std::string_view marker) const {
  std::unordered_set<pid_t> members;
  if (auto it = live_by_group_.find(pgid); it != live_by_group_.end()) {
    members.insert(it->second.begin(), it->second.end());
  }
  if (!marker.empty()) {
    if (!environment_variable_ || marker.substr(0, marker.find('=')) != *environment_variable_) {
      throw std::logic_error("ProcessSnapshot: the environment entries of this marker were not read: " +
                             std::string(marker));
    }
    auto it = live_by_environment_entry_.find(std::string(marker));
    if (it != live_by_environment_entry_.end()) members.insert(it->second.begin(), it->second.end());
  }
  // Descendants of members belong too, even with a scrubbed environment.
  std::vector<pid_t> frontier(members.begin(), members.end());
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    auto children = live_children_.find(parent);
    if (children == live_children_.end()) continue;
    for (pid_t child : children->second) {
      if (members.insert(child).second) frontier.push_back(child);
    }
  }
  std::vector<pid_t> result(members.begin(), members.end());
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<pid_t> ProcessSnapshot::children_of(pid_t parent) const {
  auto it = live_children_.find(parent);
  return it == live_children_.end() ? std::vector<pid_t>{} : it->second;
}

std::vector<pid_t> find_task_processes(pid_t pgid, std::string_view marker) {
  ProcessSnapshot snapshot = ProcessSnapshot::take();
  if (!marker.empty()) snapshot.read_environment_entries(marker.substr(0, marker.find('=')));
  return snapshot.task_processes(pgid, marker);
}

}  // namespace tend::process
