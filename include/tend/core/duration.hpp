#pragma once
// Durations: std::chrono end to end, parsed, checked and printed only here.
//
// Every duration a user or client gives (a timeout, a grace, a wait) goes
// through one of the checked conversions below, so each front end refuses
// the same things with the same words: nothing negative, nothing that is
// not a number, nothing longer than kMaxDuration. The limit keeps
// `now + timeout` inside the clock's range: 2^63-1 ms added to now wraps to
// the past, and a task given it would end at once as timed out.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace tend {

/// Every timeout, delay and limit in tend, in whole milliseconds; what users
/// and clients give is checked by the conversions below.
using Duration = std::chrono::milliseconds;

/// The longest duration tend takes anywhere: 100 years.
inline constexpr Duration kMaxDuration = std::chrono::duration_cast<Duration>(std::chrono::years(100));
/// kMaxDuration as the error messages say it.
inline constexpr const char* kMaxDurationText = "100 years";

/// A duration tend refuses; what() says why (without naming the option or
/// param: the caller knows that and prefixes it).
class DurationError : public std::invalid_argument {
 public:
  /// Takes the message what() gives.
  using std::invalid_argument::invalid_argument;
};

/// Parses "500ms", "30s", "1.5s", "5m", "1h", "2d", "1m30s" or a bare number
/// of seconds ("10"). Throws DurationError for anything else: empty,
/// negative, an unknown unit, or longer than kMaxDuration.
Duration duration_of_text(std::string_view text);

/// A count of milliseconds from a client, checked: 0 up to kMaxDuration.
Duration duration_of_ms(std::int64_t ms);

/// A number of seconds (fractions allowed) from a client, checked: NaN,
/// infinities, negatives and more than kMaxDuration are refused.
Duration duration_of_seconds(double seconds);

/// duration_of_text, or nullopt where it would throw.
std::optional<Duration> parse_duration(std::string_view text);

/// "250ms", "30s", "1.5s", "5m", "1h2m3s".
std::string format_duration(Duration d);

}  // namespace tend
