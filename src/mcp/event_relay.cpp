#include "event_relay.hpp"

#include <spdlog/spdlog.h>

#include "task_text.hpp"

namespace tend::mcp {
namespace {

constexpr std::size_t kRecentEnds = 256;
const std::string kRelayKey = "event relay";

}  // namespace

std::pair<LogLevel, json> end_message(const json& task) {
  const std::string state = task.value("state", "");
  LogLevel level = state == "succeeded" ? LogLevel::info : state == "lost" ? LogLevel::error : LogLevel::warning;
  json data = {{"event", "task_ended"}, {"message", describe_task(task)}, {"task", task_facts(task)}};
  return {level, data};
}

EventRelay::EventRelay(DaemonLink& link, Emit emit) : link_(link), emit_(std::move(emit)) {}

EventRelay::~EventRelay() { stop(); }

void EventRelay::ensure_started() {
  std::lock_guard lock(mutex_);
  if (live_ || stopped_) return;
  if (thread_.joinable()) thread_.join();  // the last subscription ended: its thread is done
  link_.dismiss(kRelayKey);
  client_ = std::make_unique<rpc::Client>(link_.connect());
  client_->call("events.subscribe", json::object());
  link_.enlist(kRelayKey, *client_);
  live_ = true;
  thread_ = std::thread([this] { listen(); });
}

void EventRelay::listen() {
  try {
    while (true) {
      auto note = client_->next_notification(-1);
      if (!note) continue;
      if (note->value("method", "") == "event" && note->contains("params")) on_event((*note)["params"]);
    }
  } catch (const rpc::ClientError&) {
    // The daemon went away (or stop() cut us off); the next tool call subscribes again.
  } catch (const std::exception& e) {
    spdlog::error("tend mcp: the event relay stopped: {}", e.what());
  }
  std::lock_guard lock(mutex_);
  live_ = false;
}

void EventRelay::on_event(const json& params) {
  const std::string kind = params.value("kind", "");
  if (!params.contains("task")) return;
  const json& task = params["task"];
  const std::int64_t id = task.value("id", std::int64_t{0});
  if (kind == "stalled") {
    // Gone quiet (a hang?) but not ended: worth a word while it still runs.
    {
      std::lock_guard lock(mutex_);
      if (!watched_.count(id)) return;
    }
    emit_(LogLevel::warning, json{{"event", "task_stalled"},
                                  {"message", describe_task(task) + ": " + task.value("reason", "")},
                                  {"task", task_facts(task)}});
    return;
  }
  if (kind != "exited") return;
  {
    std::lock_guard lock(mutex_);
    if (!watched_.count(id)) {
      recent_ends_.push_back(task);
      if (recent_ends_.size() > kRecentEnds) recent_ends_.pop_front();
      return;
    }
    watched_.erase(id);
  }
  auto [level, data] = end_message(task);
  emit_(level, data);
}

void EventRelay::watch(std::int64_t id) {
  json ended;
  {
    std::lock_guard lock(mutex_);
    for (auto it = recent_ends_.begin(); it != recent_ends_.end(); ++it) {
      if (it->value("id", std::int64_t{0}) == id) {
        ended = *it;
        recent_ends_.erase(it);
        break;
      }
    }
    if (ended.is_null()) {
      watched_.insert(id);
      return;
    }
  }
  auto [level, data] = end_message(ended);
  emit_(level, data);
}

void EventRelay::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    if (client_) client_->interrupt();
  }
  if (thread_.joinable()) thread_.join();
  link_.dismiss(kRelayKey);
}

}  // namespace tend::mcp
