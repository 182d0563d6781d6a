#pragma once
// `tend mcp` as a subprocess, spoken to over its stdin and stdout, against a
// daemon of the test's own (TendHome).

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "tend/process/spawn.hpp"

namespace tend::test {

class McpProcess {
 public:
  explicit McpProcess(const TendHome& home) {
    process::SpawnOptions so;
    so.argv = {TEND_BINARY, "mcp"};
    so.set_env = {{"TEND_SOCKET", home.socket().string()}, {"TEND_STATE_DIR", home.state().string()}};
    so.stdin_mode = process::StdinMode::pipe;
    so.merge_stderr = false;
    child_ = process::spawn(so);
  }
  ~McpProcess() {
    close_input();
    if (!wait_exit(std::chrono::seconds(10))) {
      child_.pidfd.send_signal(SIGKILL);
      wait_exit(std::chrono::seconds(10));
    }
  }

  void send(const std::string& line) {
    std::string data = line + "\n";
    std::string_view rest = data;
    while (!rest.empty()) {
      ssize_t n = ::write(child_.stdin_fd.get(), rest.data(), rest.size());
      if (n <= 0) return;
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// The next message from the server; null when nothing came in `limit` or it closed stdout.
  nlohmann::json receive(std::chrono::milliseconds limit = std::chrono::seconds(30)) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return nlohmann::json::parse(line);
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return nullptr;
      pollfd p{child_.stdout_fd.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      ssize_t n = ::read(child_.stdout_fd.get(), chunk, sizeof chunk);
      if (n <= 0) return nullptr;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  /// Sends a request and returns its answer; notifications that come first
  /// are kept in `notes`.
  nlohmann::json request(const nlohmann::json& id, const std::string& method,
                         nlohmann::json params = nlohmann::json::object(),
                         std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    send(nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump());
    return answer_to(id, limit);
  }

  nlohmann::json answer_to(const nlohmann::json& id, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    while (true) {
      auto m = receive(limit);
      if (m.is_null()) return m;
      if (m.contains("id") && m["id"] == id) return m;
      if (!m.contains("id")) notes.push_back(m);
    }
  }

  nlohmann::json call_tool(int id, const std::string& name, nlohmann::json arguments) {
    return request(id, "tools/call", {{"name", name}, {"arguments", arguments}})["result"];
  }

  void initialize() {
    request(0, "initialize",
            {{"protocolVersion", "2025-06-18"},
             {"capabilities", nlohmann::json::object()},
             {"clientInfo", {{"name", "gtest"}, {"version", "1"}}}});
    send(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  }

  void close_input() { child_.stdin_fd.reset(); }

  /// How the server ended, once it has within `limit`.
  std::optional<process::ExitStatus> wait_exit(std::chrono::milliseconds limit) {
    if (exit_) return exit_;
    pollfd p{child_.pidfd.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(limit.count())) > 0) exit_ = child_.pidfd.try_reap();
    return exit_;
  }

  std::vector<nlohmann::json> notes;

 private:
  process::SpawnedChild child_;
  std::string buffer_;
  std::optional<process::ExitStatus> exit_;
};

}  // namespace tend::test
