#include "tend/core/clock_time.hpp"

#include <ctime>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace tend {

namespace {

// A field of one or two digits, as written; nullopt for anything else.
std::optional<int> two_digits(std::string_view field) {
  if (field.empty() || field.size() > 2) return std::nullopt;
  int value = 0;
  for (char c : field) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::vector<std::string_view> split_colons(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t from = 0;
  for (std::size_t colon; (colon = text.find(':', from)) != std::string_view::npos; from = colon + 1) {
    fields.push_back(text.substr(from, colon - from));
  }
  fields.push_back(text.substr(from));
  return fields;
}

}  // namespace

std::chrono::system_clock::time_point next_clock_time(std::string_view text,
                                                       std::chrono::system_clock::time_point now) {
  const std::string expected = "expected a time of day as HH:MM or HH:MM:SS (24-hour), such as 14:30";
  if (text.empty()) throw ClockTimeError(fmt::format("empty: {}", expected));
  if (text.size() > 8) throw ClockTimeError(fmt::format("\"{}...\" is too long: {}", text.substr(0, 8), expected));
  auto fields = split_colons(text);
  if (fields.size() < 2 || fields.size() > 3) throw ClockTimeError(fmt::format("\"{}\": {}", text, expected));
  std::optional<int> parts[3] = {two_digits(fields[0]), two_digits(fields[1]),
                                 fields.size() == 3 ? two_digits(fields[2]) : std::optional<int>(0)};
  if (!parts[0] || !parts[1] || !parts[2] || fields[1].size() != 2 || (fields.size() == 3 && fields[2].size() != 2)) {
    throw ClockTimeError(fmt::format("\"{}\": {}", text, expected));
  }
  if (*parts[0] > 23) throw ClockTimeError(fmt::format("\"{}\": the hour must be 0 to 23", text));
  if (*parts[1] > 59) throw ClockTimeError(fmt::format("\"{}\": the minute must be 0 to 59", text));
  if (*parts[2] > 59) throw ClockTimeError(fmt::format("\"{}\": the second must be 0 to 59", text));
  const std::time_t now_t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::localtime_r(&now_t, &tm);
  tm.tm_hour = *parts[0];
  tm.tm_min = *parts[1];
  tm.tm_sec = *parts[2];
  tm.tm_isdst = -1;  // whatever daylight saving time says on that day
  auto at = std::chrono::system_clock::from_time_t(std::mktime(&tm));
  if (at <= now) {
    // Past today: the same time tomorrow.
    tm.tm_mday += 1;
    tm.tm_isdst = -1;
    at = std::chrono::system_clock::from_time_t(std::mktime(&tm));
  }
  return at;
}

}  // namespace tend
