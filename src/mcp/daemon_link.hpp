#pragma once
// The MCP server's connections to the daemon: one per tool call (so calls run
// side by side and a cancelled call can be cut off alone), the daemon started
// by at most one of them at a time.

#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "tend/rpc/client.hpp"

namespace tend::mcp {

class DaemonLink {
 public:
  /// A new connection; starts the daemon when none listens. Throws
  /// rpc::ClientError (also once close() was called).
  rpc::Client connect();

  /// Registers the connection serving `key` (a request), so cancel() and
  /// close() can interrupt it. A key already cancelled interrupts at once.
  void enlist(const std::string& key, rpc::Client& client);
  /// Unregisters it; call before the Client is destroyed.
  void dismiss(const std::string& key);

  /// The client gave up on `key`: interrupt its connection, and remember it
  /// so its answer is never sent.
  void cancel(const std::string& key);
  bool cancelled(const std::string& key) const;
  /// Forgets a finished request's cancellation.
  void forget(const std::string& key);

  /// Interrupts every connection; later connects fail.
  void close();

 private:
  mutable std::mutex mutex_;
  std::mutex starting_;  // one daemon start at a time
  std::unordered_map<std::string, rpc::Client*> live_;
  std::set<std::string> cancelled_;
  bool closed_ = false;
};

}  // namespace tend::mcp
