#pragma once
// A time of day as a user gives it (`tend run --at 14:30`), turned into the
// moment it names: parsed and checked only here, so every front end refuses
// the same things with the same words.

#include <chrono>
#include <stdexcept>
#include <string_view>

namespace tend {

/// A time of day tend refuses; what() says why (the caller names the option).
class ClockTimeError : public std::invalid_argument {
 public:
  /// Takes the message what() gives.
  using std::invalid_argument::invalid_argument;
};

/// The next moment at or after `now` when the local wall clock shows `text`,
/// "HH:MM" or "HH:MM:SS" (24-hour): today, or tomorrow when that time of day
/// has passed already. Throws ClockTimeError for anything else (empty, a
/// missing or extra field, an hour past 23, a minute or second past 59).
std::chrono::system_clock::time_point next_clock_time(std::string_view text,
                                                       std::chrono::system_clock::time_point now);

}  // namespace tend
