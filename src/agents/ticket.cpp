#include "tend/agents/ticket.hpp"

#include <fmt/format.h>

namespace tend::agents {

std::optional<Priority> parse_priority(std::string_view text) {
  if (text == "low") return Priority::low;
  if (text == "normal") return Priority::normal;
  if (text == "high") return Priority::high;
  if (text == "critical") return Priority::critical;
  return std::nullopt;
}

const char* priority_name(Priority priority) {
  switch (priority) {
    case Priority::low: return "low";
    case Priority::normal: return "normal";
    case Priority::high: return "high";
    case Priority::critical: return "critical";
  }
  return "?";
}

const char* ticket_status_name(TicketStatus status) {
  switch (status) {
    case TicketStatus::pending: return "pending";
    case TicketStatus::assigned: return "assigned";
    case TicketStatus::in_progress: return "in_progress";
    case TicketStatus::completed: return "completed";
    case TicketStatus::failed: return "failed";
    case TicketStatus::cancelled: return "cancelled";
  }
  return "?";
}

bool is_final(TicketStatus status) {
  return status == TicketStatus::completed || status == TicketStatus::failed || status == TicketStatus::cancelled;
}

std::string Ticket::to_prompt() const {
  std::string out = fmt::format("# Ticket {}\n\n## Task\n\n{}\n", id, spec.task);
  if (!spec.handles.empty()) {
    out += "\n## Relevant files\n\n";
    for (const auto& handle : spec.handles) out += fmt::format("- `{}`\n", handle);
  }
  if (!spec.constraints.empty()) {
    out += "\n## Constraints\n\n";
    for (const auto& [name, text] : spec.constraints) out += fmt::format("- **{}**: {}\n", name, text);
  }
  if (!spec.context.empty() || !spec.parent.empty() || !spec.metadata.empty()) {
    out += "\n## Context\n\n";
    if (!spec.parent.empty()) out += fmt::format("- Follows ticket {}.\n", spec.parent);
    out += fmt::format("- Priority: {}.\n", priority_name(spec.priority));
    for (const auto& [key, value] : spec.metadata) out += fmt::format("- {}: {}\n", key, value);
    if (!spec.context.empty()) out += "\n" + spec.context + "\n";
  }
  return out;
}

}  // namespace tend::agents
