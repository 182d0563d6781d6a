#include "tend/process/process_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
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

std::vector<pid_t> find_task_processes(pid_t pgid, std::string_view marker) {
  const pid_t self = ::getpid();
  std::vector<ProcessInfo> all = list_processes();
  std::unordered_set<pid_t> members;
  for (const auto& p : all) {
    if (p.pid == self || p.state == 'Z') continue;
    if (p.pgid == pgid || (!marker.empty() && environ_contains(p.pid, marker))) members.insert(p.pid);
  }
  // Descendants of members belong too, even with a scrubbed environment.
  std::unordered_multimap<pid_t, pid_t> children;
  for (const auto& p : all) {
    if (p.pid != self && p.state != 'Z') children.emplace(p.ppid, p.pid);
  }
  std::vector<pid_t> frontier(members.begin(), members.end());
  while (!frontier.empty()) {
    pid_t parent = frontier.back();
    frontier.pop_back();
    auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      if (members.insert(it->second).second) frontier.push_back(it->second);
    }
  }
  std::vector<pid_t> result(members.begin(), members.end());
  std::sort(result.begin(), result.end());
  return result;
}

}  // namespace tend::process
