#pragma once
// The front ends' side of the socket (the CLI's and the MCP server's): a
// blocking JSON-RPC client, and starting the daemon on first use. One Client
// is one connection, used by one thread at a time.

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "tend/rpc/json_rpc.hpp"

namespace tend::rpc {

/// The JSON type of the RPC layer.
using nlohmann::json;

/// The daemon cannot be reached (or started); what() says why.
class ClientError : public std::runtime_error {
 public:
  /// Takes the message what() gives.
  using std::runtime_error::runtime_error;
};

/// One connection to the daemon (see the notes at the top of this file).
/// Movable, not copyable.
class Client {
 public:
  /// Connects to the daemon, starting it first when nothing listens and
  /// `start` is set. Throws ClientError.
  static Client connect(bool start = true);
  /// Connects without starting anything; nullopt when nothing listens.
  static std::optional<Client> try_connect();

  /// Takes over the connection; `other` is left closed. Destruction closes it.
  Client(Client&& other) noexcept;
  ~Client();

  /// Calls a method and returns its result; a JSON-RPC error is thrown as
  /// RpcError. Notifications that arrive meanwhile go to `on_notification`.
  json call(const std::string& method, json params = json::object());
  /// Waits for the next notification (up to `timeout_ms`, -1 forever).
  std::optional<json> next_notification(int timeout_ms = -1);

  /// Ends what the connection is doing, from any thread: a call or a wait
  /// blocked on it throws ClientError, and the daemon cancels the requests
  /// it was serving for it. The Client must still be alive.
  void interrupt();

  /// Called, on the calling thread, with each notification that arrives during
  /// call() (the whole JSON-RPC message); empty: they are dropped.
  std::function<void(const json&)> on_notification;

 private:
  explicit Client(int fd) : fd_(fd) {}
  std::optional<json> read_message(int timeout_ms);
  int fd_ = -1;
  std::string buffer_;
  std::int64_t next_id_ = 1;
};

/// Starts the daemon in the background (its own session, logging to the
/// state directory) and waits for its socket. Throws ClientError.
void start_daemon();

/// This process's environment as a JSON object of strings, for the `env` of
/// a task or an agent that should run as if started here. TEND_TASK (the
/// marker of the task this process may itself run in) is left out, so the
/// new work is not taken for a leftover of that task.
json environment_json();

}  // namespace tend::rpc
