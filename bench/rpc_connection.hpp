#pragma once
// A bare JSON-RPC connection to the daemon for the benchmarks. Unlike the
// CLI's client it lets requests overlap: send() returns at once, and answers
// are read in whatever order the daemon gives them, so one connection can
// keep many tasks in flight.

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace tend::bench {

using nlohmann::json;

class RpcConnection {
 public:
  /// Connects to the socket; throws std::runtime_error when nothing listens.
  explicit RpcConnection(const std::filesystem::path& socket);
  ~RpcConnection();
  RpcConnection(const RpcConnection&) = delete;
  RpcConnection& operator=(const RpcConnection&) = delete;

  /// Sends a request and returns its id without waiting for the answer.
  std::int64_t send(const std::string& method, const json& params);
  /// The next answer (notifications are skipped); blocks.
  json receive();
  /// send() and wait for that answer; throws std::runtime_error on an error answer.
  json call(const std::string& method, const json& params);

 private:
  int fd_ = -1;
  std::string buffer_;
  std::int64_t next_id_ = 1;
};

}  // namespace tend::bench
