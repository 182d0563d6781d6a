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

/// How urgent a ticket is; pending_tickets() lists the more urgent first.
enum class Priority { low, normal, high, critical };
/// The names "low", "normal", "high", "critical"; parse_priority gives nullopt for any other text.
std::optional<Priority> parse_priority(std::string_view text);
const char* priority_name(Priority priority);

/// Where a ticket is: not started (`pending`), its worker started and waiting
/// for a free slot (`assigned`), its worker at work (`in_progress`), or ended.
enum class TicketStatus { pending, assigned, in_progress, completed, failed, cancelled };
/// The status's wire and disk name ("in_progress").
const char* ticket_status_name(TicketStatus status);
/// completed, failed and cancelled are final.
bool is_final(TicketStatus status);

/// The clock of a ticket's times (wall-clock, as shown to people).
using WallClock = std::chrono::system_clock;

/// What a caller asks for; the Manager makes a Ticket of it.
struct TicketSpec {
  std::string task;                                              ///< what to do, in words
  std::vector<std::string> handles;                              ///< files that matter, relative to the repository
  std::vector<std::pair<std::string, std::string>> constraints;  ///< name, text ("tests": "must pass")
  /// How urgent it is; also said in the prompt.
  Priority priority = Priority::normal;
  std::string parent;                                            ///< the ticket this one came from
  /// Key-value notes listed in the prompt's context ("issue": "#12").
  std::map<std::string, std::string> metadata;
  std::string context;                                           ///< anything else the worker should know
};

/// A ticket as the Manager keeps it; callers get copies.
struct Ticket {
  /// Its number as text ("1", "2", ...), unique in its Manager; the spec it was made from; its status.
  std::string id;
  TicketSpec spec;
  TicketStatus status = TicketStatus::pending;
  /// When it was made and last changed status; when its worker began work and
  /// when it reached a final status (nullopt until then).
  WallClock::time_point created_at{};
  WallClock::time_point updated_at{};
  std::optional<WallClock::time_point> started_at;
  std::optional<WallClock::time_point> ended_at;

  /// The prompt a worker gets: markdown with the task, the relevant files,
  /// the constraints and the context.
  std::string to_prompt() const;
};

}  // namespace tend::agents
