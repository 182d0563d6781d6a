#pragma once
// The daemon's socket: a Unix stream socket (0600, in a 0700 directory) that
// accepts only our own uid (SO_PEERCRED), speaking JSON-RPC one line at a
// time. Requests on one connection run concurrently; a client that goes away
// cancels what it was waiting for. Nothing a client sends can stop the
// server: bad JSON, unknown methods, wrong types and lines over 16 MiB are
// answered with errors and the connection goes on.

#include <filesystem>
#include <list>
#include <memory>

#include <boost/asio.hpp>

#include "tend/rpc/service.hpp"

namespace tend::rpc {

/// The longest request line read, in bytes (16 MiB); a longer one is answered
/// with invalid_request and skipped.
constexpr std::size_t kMaxRequestLine = 16u << 20;

/// The daemon's listening socket and its connections, on `io`'s thread.
class Server {
 public:
  /// Answers with `service`, which must outlive it; listens nowhere until
  /// start(). Destruction stops it.
  Server(asio::io_context& io, Service& service, std::filesystem::path socket_path);
  ~Server();

  /// Binds the socket (replacing a stale one; refusing when a daemon answers
  /// there) and starts accepting. Throws std::runtime_error naming the problem.
  void start();
  /// Stops accepting and closes every connection.
  void stop();

 private:
  struct Connection;
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(std::shared_ptr<Connection> connection);
  asio::awaitable<void> answer(std::shared_ptr<Connection> connection, Request request);

  asio::io_context& io_;
  Service& service_;
  std::filesystem::path path_;
  asio::local::stream_protocol::acceptor acceptor_;
  std::list<std::weak_ptr<Connection>> connections_;
};

}  // namespace tend::rpc
