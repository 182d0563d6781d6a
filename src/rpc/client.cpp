#include "tend/rpc/client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tend/process/spawn.hpp"
#include "tend/rpc/paths.hpp"
#include "tend/store/json_limits.hpp"

extern char** environ;

namespace tend::rpc {
namespace {

// The connected descriptor, or -1 with errno set.
int connect_socket(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw ClientError(fmt::format("tend: socket: {}", std::strerror(errno)));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.string().size() >= sizeof addr.sun_path) {
    ::close(fd);
    throw ClientError(fmt::format("tend: socket path too long: {}", path.string()));
  }
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

// Another user's daemon: its directory (0700) keeps us out before its
// peer check would. Say whose it is rather than start one of our own.
[[noreturn]] void refuse_foreign(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && ::stat(path.parent_path().c_str(), &st) != 0) {
    throw ClientError(fmt::format("tend: permission denied: cannot reach the daemon's socket {}", path.string()));
  }
  throw ClientError(fmt::format("tend: permission denied: this daemon belongs to uid {} (socket {})", st.st_uid,
                                path.string()));
}

// The connection ended in the middle of a request: is the daemon still
// there (it answers a new connection), stopped (its socket is gone) or dead
// (the socket is left and nobody answers on it)? A dying daemon may hold
// its listening socket a moment longer than our connection (while its core
// is written, or as its descriptors are closed in order), so a connection
// it accepts but never answers counts as dead too.
std::string lost_daemon_message() {
  const std::string died =
      fmt::format("tend: the daemon died while answering; see {}", (state_dir() / "daemon.log").string());
  int fd = connect_socket(socket_path());
  if (fd < 0) return errno == ENOENT ? "tend: the daemon stopped while answering" : died;
  const std::string_view ping = R"({"jsonrpc":"2.0","id":0,"method":"daemon.status"})" "\n";
  bool answered = ::send(fd, ping.data(), ping.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(ping.size());
  pollfd p{fd, POLLIN, 0};
  char byte = 0;
  answered = answered && ::poll(&p, 1, 5000) > 0 && ::read(fd, &byte, 1) == 1;
  ::close(fd);
  return answered ? "tend: the daemon closed the connection" : died;
}

std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return text.size() > max_bytes ? text.substr(text.size() - max_bytes) : text;
}

}  // namespace

std::optional<Client> Client::try_connect() {
  int fd = connect_socket(socket_path());
  if (fd < 0 && (errno == EACCES || errno == EPERM)) refuse_foreign(socket_path());
  if (fd < 0) return std::nullopt;
  return Client(fd);
}

Client Client::connect(bool start) {
  if (auto c = try_connect()) return std::move(*c);
  if (!start) throw ClientError(fmt::format("tend: no daemon is running (socket {})", socket_path().string()));
  start_daemon();
  if (auto c = try_connect()) return std::move(*c);
  throw ClientError(fmt::format("tend: the daemon started but cannot be reached at {}", socket_path().string()));
}

void start_daemon() {
  auto state = state_dir();
  try {
    ensure_private_dir(state);
  } catch (const std::exception& e) {
    throw ClientError(e.what());
  }
  auto log = state / "daemon.log";
  process::SpawnOptions so;
  so.argv = {"/proc/self/exe", "daemon", "run"};
  so.new_session = true;  // detached: no controlling terminal, its own session
  // Started from inside a tend task, the daemon must not count as that task's
  // leftover (and be stopped with it): it is meant to outlive its starter.
  so.unset_env = {"TEND_TASK"};
  so.stdout_file = log;
  so.merge_stderr = true;
  process::SpawnedChild child;
  try {
    child = process::spawn(so);
  } catch (const process::SpawnError& e) {
    throw ClientError(fmt::format("tend: cannot start the daemon: {}", e.what()));
  }
  // Its socket appears within milliseconds; give it up to 10 s on a loaded machine.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto pause = std::chrono::milliseconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    int fd = connect_socket(socket_path());
    if (fd >= 0) {
      ::close(fd);
      return;
    }
    if (child.pidfd.has_exited()) {
      throw ClientError(fmt::format("tend: the daemon exited at start; its log ({}) says:\n{}", log.string(),
                                    tail_of(log, 2000)));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
  throw ClientError(fmt::format("tend: the daemon did not open {} within 10 s; see {}", socket_path().string(),
                                log.string()));
}

Client::Client(Client&& other) noexcept
    : on_notification(std::move(other.on_notification)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      next_id_(other.next_id_) {}

void Client::interrupt() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<json> Client::read_message(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      try {
        return store::parse_json(line);
      } catch (const std::exception& e) {  // not JSON, or nested past the limit
        throw ClientError(fmt::format("tend: the daemon sent something that is not JSON: {}", e.what()));
      }
    }
    int wait = -1;
    if (timeout_ms >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      wait = static_cast<int>(left.count());
    }
    pollfd p{fd_, POLLIN, 0};
    int rc = ::poll(&p, 1, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return std::nullopt;
    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw ClientError(lost_daemon_message());
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

json Client::call(const std::string& method, json params) {
  std::int64_t id = next_id_++;
  std::string line = dump({{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}});
  line += '\n';
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::send(fd_, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) break;  // it hung up: what it said first is below
    if (n < 0) throw ClientError(fmt::format("tend: cannot talk to the daemon: {}", std::strerror(errno)));
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  while (true) {
    json message = *read_message(-1);
    if (!message.contains("id")) {
      if (on_notification) on_notification(message);
      continue;
    }
    // An error without an id answers a request the daemon could not read
    // (or refused whole, as another user's): ours, there being one at a time.
    const bool unaddressed_error = message["id"].is_null() && message.contains("error");
    if (message["id"] != id && !unaddressed_error) continue;
    if (message.contains("error")) {
      const json& e = message["error"];
      throw RpcError(e.value("code", error_code::internal_error), e.value("message", "unknown error"),
                          e.contains("data") ? e["data"] : json(nullptr));
    }
    return message["result"];
  }
}

std::optional<json> Client::next_notification(int timeout_ms) {
  while (true) {
    auto message = read_message(timeout_ms);
    if (!message) return std::nullopt;
    if (!message->contains("id")) return message;
  }
}

json environment_json() {
  json env = json::object();
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos || entry.substr(0, eq) == "TEND_TASK") continue;
    env[std::string(entry.substr(0, eq))] = std::string(entry.substr(eq + 1));
  }
  return env;
}

}  // namespace tend::rpc
