#include "tool_context.hpp"

namespace tend::mcp {

ToolContext::ToolContext(DaemonLink& link, EventRelay& relay, std::string key)
    : link_(link), relay_(relay), key_(std::move(key)) {}

ToolContext::~ToolContext() {
  if (client_) link_.dismiss(key_);
}

json ToolContext::call(const std::string& method, json params) {
  if (!client_) {
    // Subscribe before starting anything, so no end goes unseen.
    relay_.ensure_started();
    client_.emplace(link_.connect());
    link_.enlist(key_, *client_);
  }
  return client_->call(method, std::move(params));
}

void ToolContext::watch(std::int64_t id) { relay_.watch(id); }

}  // namespace tend::mcp
