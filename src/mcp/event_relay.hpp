#pragma once
// Tells the MCP client when a task it started ends (or goes quiet for longer
// than its idle timeout), whether or not it is waiting: a connection of its
// own subscribes to the daemon's events (`events.subscribe`), and each end of
// a watched task becomes a log message.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "daemon_link.hpp"
#include "log_level.hpp"

namespace tend::mcp {

using nlohmann::json;

class EventRelay {
 public:
  /// `emit` sends one `notifications/message` (level, data); it is called
  /// from the relay's thread.
  using Emit = std::function<void(LogLevel, const json& data)>;

  EventRelay(DaemonLink& link, Emit emit);
  ~EventRelay();
  EventRelay(const EventRelay&) = delete;
  EventRelay& operator=(const EventRelay&) = delete;

  /// Subscribes, unless a subscription is live already (after the daemon
  /// went away, this subscribes again). Throws rpc::ClientError.
  void ensure_started();

  /// Reports the end of task `id` from now on; an end that came just before
  /// (the task was quick) is reported at once.
  void watch(std::int64_t id);

  /// Ends the subscription and its thread.
  void stop();

 private:
  void listen();
  void on_event(const json& params);

  DaemonLink& link_;
  Emit emit_;
  std::mutex mutex_;
  std::unique_ptr<rpc::Client> client_;
  std::thread thread_;
  bool live_ = false;
  bool stopped_ = false;
  std::set<std::int64_t> watched_;
  std::deque<json> recent_ends_;  // ends of tasks not watched (yet), newest last
};

/// The message that tells of a task's end, and how loud it is.
std::pair<LogLevel, json> end_message(const json& task);

}  // namespace tend::mcp
