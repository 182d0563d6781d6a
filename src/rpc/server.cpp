#include "tend/rpc/server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tend/rpc/paths.hpp"

namespace tend::rpc {

using stream = asio::local::stream_protocol;

namespace {
// Unsent bytes past which a client's output events are dropped (it reads
// the gap by cursor) ...
constexpr std::size_t kCongested = 4u << 20;
// ... and past which it is dropped itself: it has stopped reading answers.
constexpr std::size_t kUnreadLimit = 256u << 20;
}  // namespace

struct Server::Connection : std::enable_shared_from_this<Connection> {
  Connection(stream::socket s, std::function<void()> durable)
      : socket(std::move(s)), make_durable(std::move(durable)) {}
  stream::socket socket;
  std::function<void()> make_durable;  ///< commits recorded state before anything goes out
  std::deque<std::string> outbox;
  std::size_t outbox_bytes = 0;             ///< unsent, counting the write in flight
  std::vector<asio::const_buffer> sending;  ///< the lines of the write in flight
  bool writing = false;
  bool flush_posted = false;
  bool closed = false;
  std::list<asio::cancellation_signal> in_flight;  ///< one per request being answered
  std::shared_ptr<Session> session = std::make_shared<Session>();

  // Lines are sent at the end of the loop's turn, all together: one commit
  // of the state store and one write for every answer and event of a burst.
  void send(std::string line) {
    if (closed) return;
    line += '\n';
    outbox_bytes += line.size();
    outbox.push_back(std::move(line));
    if (outbox_bytes > kUnreadLimit) {
      spdlog::warn("tend: dropped a client that left {} MiB unread", outbox_bytes >> 20);
      return close();  // the lines go with the connection (a write in flight may still point at them)
    }
    if (flush_posted || writing) return;
    flush_posted = true;
    asio::post(socket.get_executor(), [self = shared_from_this()] {
      self->flush_posted = false;
      self->flush();
    });
  }
  // Answers decided before the connection closes (daemon.shutdown's own)
  // still go out, as far as the socket takes them without waiting.
  void send_what_is_left() {
    if (writing || outbox.empty()) return;
    make_durable();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    for (const auto& line : outbox) {
      if (ec) break;
      asio::write(socket, asio::buffer(line), ec);
    }
    outbox.clear();
    outbox_bytes = 0;
  }
  void flush() {
    if (writing || outbox.empty() || closed) return;
    make_durable();
    writing = true;
    sending.clear();
    for (const auto& line : outbox) sending.push_back(asio::buffer(line));
    asio::async_write(socket, sending, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
      self->writing = false;
      if (ec) return self->close();
      auto sent = static_cast<std::ptrdiff_t>(self->sending.size());
      for (auto it = self->outbox.begin(); it != self->outbox.begin() + sent; ++it) self->outbox_bytes -= it->size();
      self->outbox.erase(self->outbox.begin(), self->outbox.begin() + sent);
      self->sending.clear();
      self->flush();
    });
  }
  void close() {
    if (closed) return;
    send_what_is_left();
    closed = true;
    session->subscriptions.clear();
    // The client is gone: whatever it was waiting for is not worth waiting for.
    for (auto& signal : in_flight) signal.emit(asio::cancellation_type::terminal);
    boost::system::error_code ignored;
    socket.close(ignored);
  }
};

Server::Server(asio::io_context& io, Service& service, std::filesystem::path socket_path)
    : io_(io), service_(service), path_(std::move(socket_path)), acceptor_(io) {}

Server::~Server() { stop(); }

void Server::start() {
  ensure_private_dir(path_.parent_path());
  if (std::filesystem::exists(path_)) {
    // Someone there? Then it is not ours to take.
    stream::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(stream::endpoint(path_.string()), ec);
    if (!ec) throw std::runtime_error(fmt::format("tend: a daemon is already listening on {}", path_.string()));
    std::filesystem::remove(path_);
  }
  stream::endpoint endpoint(path_.string());
  acceptor_.open(endpoint.protocol());
  // Created 0600 from the start: no moment when others could connect.
  mode_t old = ::umask(0177);
  boost::system::error_code ec;
  acceptor_.bind(endpoint, ec);
  ::umask(old);
  if (ec) throw std::runtime_error(fmt::format("tend: cannot listen on {}: {}", path_.string(), ec.message()));
  acceptor_.listen();
  asio::co_spawn(io_, accept_loop(), asio::detached);
}

void Server::stop() {
  if (!acceptor_.is_open()) return;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  std::filesystem::remove(path_, ignored);
  for (auto& weak : connections_) {
    if (auto c = weak.lock()) c->close();
  }
  connections_.clear();
}

asio::awaitable<void> Server::accept_loop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      spdlog::warn("tend: accept failed: {}", ec.message());
      continue;
    }
    ucred peer{};
    socklen_t len = sizeof peer;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0 || peer.uid != ::geteuid()) {
      spdlog::warn("tend: refused a connection from uid {}", peer.uid);
      std::string refusal =
          make_error(nullptr, error_code::invalid_request,
                     fmt::format("permission denied: this daemon belongs to uid {}", ::geteuid())) +
          "\n";
      boost::system::error_code ignored;
      asio::write(socket, asio::buffer(refusal), ignored);
      continue;
    }
    auto connection = std::make_shared<Connection>(std::move(socket), [this] { service_.make_durable(); });
    std::erase_if(connections_, [](const auto& w) { return w.expired(); });
    connections_.push_back(connection);
    asio::co_spawn(io_, serve(connection), asio::detached);
  }
}

asio::awaitable<void> Server::serve(std::shared_ptr<Connection> connection) {
  auto weak = std::weak_ptr<Connection>(connection);
  connection->session->send = [weak](std::string line) {
    if (auto c = weak.lock()) c->send(std::move(line));
  };
  connection->session->congested = [weak] {
    auto c = weak.lock();
    return c && c->outbox_bytes > kCongested;
  };
  LineReader reader(kMaxRequestLine);
  std::array<char, 64 * 1024> buffer;
  while (!connection->closed) {
    auto [ec, n] = co_await connection->socket.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    reader.feed(std::string_view(buffer.data(), n));
    while (auto line = reader.next()) {
      if (line->too_long) {
        connection->send(make_error(nullptr, error_code::invalid_request,
                                    fmt::format("invalid request: line longer than {} MiB", kMaxRequestLine >> 20)));
        continue;
      }
      if (line->text.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines are harmless
      Request request;
      try {
        request = parse_request(line->text);
      } catch (const RpcError& e) {
        json id = e.data().is_object() && e.data().contains("id") ? e.data()["id"] : json(nullptr);
        connection->send(make_error(id, e.code(), e.what()));
        continue;
      } catch (const std::exception& e) {
        // Whatever else a request line can make the parser throw (memory,
        // say) is that request's error, not the end of the connection.
        connection->send(make_error(nullptr, error_code::internal_error, fmt::format("internal error: {}", e.what())));
        continue;
      }
      auto& signal = connection->in_flight.emplace_back();
      auto slot = signal.slot();
      auto done = [connection, it = std::prev(connection->in_flight.end())](std::exception_ptr) {
        connection->in_flight.erase(it);
      };
      asio::co_spawn(io_, answer(connection, std::move(request)), asio::bind_cancellation_slot(slot, done));
    }
  }
  connection->close();
}

asio::awaitable<void> Server::answer(std::shared_ptr<Connection> connection, Request request) {
  std::string reply;
  try {
    json result = co_await service_.handle(request, connection->session);
    reply = make_result(request.id, result);
  } catch (const RpcError& e) {
    reply = make_error(request.id, e.code(), e.what(), e.data());
  } catch (const boost::system::system_error& e) {
    if (connection->closed) co_return;  // cancelled because the client left
    reply = make_error(request.id, error_code::internal_error, fmt::format("internal error: {}", e.what()));
  } catch (const std::exception& e) {
    reply = make_error(request.id, error_code::internal_error, fmt::format("internal error: {}", e.what()));
  }
  if (!request.is_notification()) connection->send(std::move(reply));
}

}  // namespace tend::rpc
