#pragma once
// A ticket: one piece of work for one worker, and what the worker is told.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tend::agents {

enum class Priority { low, normal, high, critical };
std::optional<Priority> parse_priority(std::string_view text);
const char* priority_name(Priority priority);

enum class TicketStatus { pending, assigned, in_progress, completed, failed, cancelled };
const char* ticket_status_name(TicketStatus status);
/// completed, failed and cancelled are final.
bool is_final(TicketStatus status);

using WallClock = std::chrono::system_clock;

/// What a caller asks for; the Manager makes a Ticket of it.
struct TicketSpec {
  std::string task;                                              ///< what to do, in words
  std::vector<std::string> handles;                              ///< files that matter, relative to the repository
  std::vector<std::pair<std::string, std::string>> constraints;  ///< name, text ("tests": "must pass")
  Priority priority = Priority::normal;
  std::string parent;                                            ///< the ticket this one came from
  std::map<std::string, std::string> metadata;
  std::string context;                                           ///< anything else the worker should know
};

struct Ticket {
  std::string id;
  TicketSpec spec;
  TicketStatus status = TicketStatus::pending;
  WallClock::time_point created_at{};
  WallClock::time_point updated_at{};
  std::optional<WallClock::time_point> started_at;
  std::optional<WallClock::time_point> ended_at;

  /// The prompt a worker gets: markdown with the task, the relevant files,
  /// the constraints and the context.
  std::string to_prompt() const;
};

}  // namespace tend::agents
