#pragma once
// Running the real `tend` binary against a daemon of the test's own.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

namespace tend::test {

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// A state directory and socket of the test's own; the daemon started there
/// is stopped at the end.
class TendHome {
 public:
  TendHome() : socket_(dir_.path() / "run" / "tend.sock"), state_(dir_.path() / "state"), runner_(runner_options()) {}
  ~TendHome() {
    tend({"daemon", "stop"}, std::chrono::seconds(30));
  }

  Result tend(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::seconds(60),
              std::vector<std::pair<std::string, std::string>> extra_env = {}) {
    return run_tend(std::move(args), limit, std::move(extra_env), false);
  }

  /// The same with the CLI's stderr sent to its stdout (`2>&1`): `out` shows
  /// what a terminal would, in order.
  Result tend_merged(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    return run_tend(std::move(args), limit, {}, true);
  }

  nlohmann::json tend_json(std::vector<std::string> args) {
    auto r = tend(std::move(args));
    return nlohmann::json::parse(r.out);
  }

  /// Starts the CLI and returns at once: for a test that does something (a
  /// Ctrl-C) while it runs. finish() collects it.
  TaskPtr start(std::vector<std::string> args, std::chrono::milliseconds limit = std::chrono::seconds(60)) {
    return runner_.run(cli_spec(std::move(args), limit, {}, false));
  }
  /// Waits until the CLI started by start() has printed `text` on `stream`.
  bool wait_for_output(const TaskPtr& cli, std::string_view text, Stream stream = Stream::stdout_stream,
                       std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    return eventually([&] { return whole(cli->output(stream)).find(text) != std::string::npos; }, limit);
  }
  /// Sends the running CLI a signal, as a terminal's Ctrl-C sends SIGINT.
  void signal(const TaskPtr& cli, int signal) { runner_.kill(cli, signal); }
  /// Waits for a CLI started by start() to end.
  Result finish(const TaskPtr& cli) {
    auto status = runner_.wait(cli);
    Result r;
    r.exit_code = status && status->exit_code ? *status->exit_code : -1;
    r.out = whole(cli->output(Stream::stdout_stream));
    r.err = whole(cli->output(Stream::stderr_stream));
    return r;
  }

  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& state() const { return state_; }

 private:
  Result run_tend(std::vector<std::string> args, std::chrono::milliseconds limit,
                  std::vector<std::pair<std::string, std::string>> extra_env, bool merge_stderr) {
    return finish(runner_.run(cli_spec(std::move(args), limit, std::move(extra_env), merge_stderr)));
  }

  TaskSpec cli_spec(std::vector<std::string> args, std::chrono::milliseconds limit,
                    std::vector<std::pair<std::string, std::string>> extra_env, bool merge_stderr) const {
    TaskSpec spec;
    spec.merge_stderr = merge_stderr;
    spec.argv = {TEND_BINARY};
    spec.argv.insert(spec.argv.end(), args.begin(), args.end());
    spec.env = {{"TEND_SOCKET", socket_.string()}, {"TEND_STATE_DIR", state_.string()}, {"NO_COLOR", "1"}};
    spec.env.insert(spec.env.end(), extra_env.begin(), extra_env.end());
    spec.timeout = Duration(limit);
    return spec;
  }

  // The CLI's output goes to files too: `tend logs` of a busy task prints
  // megabytes, more than the memory ring keeps.
  SupervisorOptions runner_options() const {
    SupervisorOptions o;
    o.log_dir = dir_.path() / "cli-output";
    std::filesystem::create_directories(o.log_dir);
    return o;
  }

  static std::string whole(const OutputLog& log) {
    std::string text;
    for (std::uint64_t cursor = 0; cursor < log.size();) {
      OutputRead r = log.read(cursor);
      if (r.skipped != 0 || r.data.empty()) throw std::runtime_error("the CLI's output was not kept whole");
      text += r.data;
      cursor = r.next_cursor;
    }
    return text;
  }

  TempDir dir_;
  std::filesystem::path socket_;
  std::filesystem::path state_;
  Supervisor runner_;
};

/// A raw connection to the daemon's socket, for what the CLI would never send.
class RawConnection {
 public:
  explicit RawConnection(const std::filesystem::path& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  /// The next line the daemon sends, parsed.
  nlohmann::json receive() {
    while (true) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        auto line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return nlohmann::json::parse(line);
      }
      char chunk[65536];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return nullptr;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  nlohmann::json call(const std::string& method, nlohmann::json params, int id = 1) {
    send(nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() + "\n");
    while (true) {
      auto m = receive();
      if (m.is_null() || m.contains("id")) return m;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

// Shared by the CLI tests (one definition: the sanitizer builds are unity
// builds, where two files' helpers of one name collide).
inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

/// The task as `tend status --json` gives it.
inline nlohmann::json status_of(TendHome& home, const std::string& ref) {
  return home.tend_json({"status", ref, "--json"});
}

/// The task's state as `tend status --json` gives it.
inline std::string state_of(TendHome& home, const std::string& ref) {
  return home.tend_json({"status", ref, "--json"})["state"].get<std::string>();
}

}  // namespace tend::test
