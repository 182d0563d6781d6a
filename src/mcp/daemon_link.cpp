#include "daemon_link.hpp"

namespace tend::mcp {

rpc::Client DaemonLink::connect() {
  {
    std::lock_guard lock(mutex_);
    if (closed_) throw rpc::ClientError("tend mcp: the server is shutting down");
  }
  if (auto client = rpc::Client::try_connect()) return std::move(*client);
  // Two calls that both find no daemon must not both start one.
  std::lock_guard start(starting_);
  return rpc::Client::connect(true);
}

void DaemonLink::enlist(const std::string& key, rpc::Client& client) {
  std::lock_guard lock(mutex_);
  live_[key] = &client;
  if (closed_ || cancelled_.count(key)) client.interrupt();
}

void DaemonLink::dismiss(const std::string& key) {
  std::lock_guard lock(mutex_);
  live_.erase(key);
}

void DaemonLink::cancel(const std::string& key) {
  std::lock_guard lock(mutex_);
  cancelled_.insert(key);
  if (auto it = live_.find(key); it != live_.end()) it->second->interrupt();
}

bool DaemonLink::cancelled(const std::string& key) const {
  std::lock_guard lock(mutex_);
  return cancelled_.count(key) > 0;
}

void DaemonLink::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  cancelled_.erase(key);
}

void DaemonLink::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& [key, client] : live_) client->interrupt();
}

}  // namespace tend::mcp
