#include "rpc_connection.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tend::bench {

RpcConnection::RpcConnection(const std::filesystem::path& socket) {
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket.c_str(), sizeof addr.sun_path - 1);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd_);
    throw std::runtime_error("connect " + socket.string() + ": " + std::strerror(err));
  }
}

RpcConnection::~RpcConnection() { ::close(fd_); }

std::int64_t RpcConnection::send(const std::string& method, const json& params) {
  std::int64_t id = next_id_++;
  std::string line = json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() + "\n";
  for (std::size_t done = 0; done < line.size();) {
    ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error(std::string("write to daemon: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  return id;
}

json RpcConnection::receive() {
  for (;;) {
    auto eol = buffer_.find('\n');
    if (eol != std::string::npos) {
      json message = json::parse(buffer_.substr(0, eol));
      buffer_.erase(0, eol + 1);
      if (message.contains("id")) return message;
      continue;  // a notification
    }
    char chunk[65536];
    ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("the daemon closed the connection");
    buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

json RpcConnection::call(const std::string& method, const json& params) {
  std::int64_t id = send(method, params);
  for (;;) {
    json answer = receive();
    if (answer["id"] != id) continue;
    if (answer.contains("error")) throw std::runtime_error(method + ": " + answer["error"].dump());
    return answer["result"];
  }
}

}  // namespace tend::bench
