#include "proc_stats.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace tend::bench {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The number after `key` in a /proc status file ("VmRSS:   1234 kB").
std::uint64_t status_field(const std::string& text, const std::string& key) {
  auto at = text.find(key);
  if (at == std::string::npos) return 0;
  return std::stoull(text.substr(at + key.size()));
}

}  // namespace

double cpu_seconds(pid_t pid) {
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  // Fields after the command name, which is in parentheses and may hold spaces.
  std::istringstream rest(stat.substr(stat.rfind(')') + 2));
  std::string field;
  std::uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::uint64_t rss_bytes(pid_t pid) {
  return status_field(read_file("/proc/" + std::to_string(pid) + "/status"), "VmRSS:") * 1024;
}

std::uint64_t context_switches(pid_t pid) {
  std::uint64_t total = 0;
  for (auto& thread : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::string text = read_file(thread.path() / "status");
    total += status_field(text, "\nvoluntary_ctxt_switches:") + status_field(text, "nonvoluntary_ctxt_switches:");
  }
  return total;
}

std::size_t open_descriptors(pid_t pid) {
  std::size_t count = 0;
  for ([[maybe_unused]] auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++count;
  return count;
}

}  // namespace tend::bench
