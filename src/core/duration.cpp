#include "tend/core/duration.hpp"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace tend {
namespace {

std::optional<double> unit_ms(std::string_view unit) {
  if (unit == "ms") return 1.0;
  if (unit == "s" || unit == "sec") return 1000.0;
  if (unit == "m" || unit == "min") return 60'000.0;
  if (unit == "h") return 3'600'000.0;
  if (unit == "d") return 86'400'000.0;
  return std::nullopt;
}

[[noreturn]] void too_long(std::string_view what) {
  throw DurationError(fmt::format("{} is longer than the limit of {}", what, kMaxDurationText));
}

}  // namespace

Duration duration_of_text(std::string_view text) {
  auto invalid = [&] { return DurationError(fmt::format("invalid duration \"{}\"", text)); };
  if (text.empty()) throw DurationError("invalid duration \"\" (empty)");
  double total_ms = 0;
  bool any = false;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    bool dot = false;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || (text[i] == '.' && !dot))) {
      dot = dot || text[i] == '.';
      ++i;
    }
    std::string_view number = text.substr(start, i - start);
    if (number.empty() || number == ".") throw invalid();
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (any || i != text.size()) throw invalid();  // a bare number stands alone
      unit = "s";
    }
    auto scale = unit_ms(unit);
    if (!scale) throw invalid();
    // from_chars, not stod: a number too large for a double is a bad
    // duration, not an exception (found by fuzz/duration_fuzzer.cpp).
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec == std::errc::result_out_of_range) too_long(fmt::format("\"{}\"", text));
    if (ec != std::errc() || end != number.data() + number.size()) throw invalid();
    total_ms += value * *scale;
    any = true;
  }
  if (!any) throw invalid();
  if (!std::isfinite(total_ms) || total_ms > static_cast<double>(kMaxDuration.count())) {
    too_long(fmt::format("\"{}\"", text));
  }
  return Duration(static_cast<Duration::rep>(std::llround(total_ms)));
}

Duration duration_of_ms(std::int64_t ms) {
  if (ms < 0) throw DurationError(fmt::format("{} ms is negative", ms));
  if (ms > kMaxDuration.count()) too_long(fmt::format("{} ms", ms));
  return Duration(ms);
}

Duration duration_of_seconds(double seconds) {
  if (std::isnan(seconds)) throw DurationError("NaN is not a number of seconds");
  if (seconds < 0) throw DurationError(fmt::format("{} s is negative", seconds));
  // Compared as seconds, before the product: infinity and 1e300 stay out of llround.
  if (seconds > static_cast<double>(kMaxDuration.count()) / 1000.0) too_long(fmt::format("{} s", seconds));
  return Duration(static_cast<Duration::rep>(std::llround(seconds * 1000.0)));
}

std::optional<Duration> parse_duration(std::string_view text) {
  try {
    return duration_of_text(text);
  } catch (const DurationError&) {
    return std::nullopt;
  }
}

std::string format_duration(Duration d) {
  auto ms = d.count();
  // fmt rather than `"-" + std::string`: g++ 12 at -O3 sees an impossible
  // string length in the concatenation and -Werror fails the Release build.
  if (ms < 0) return fmt::format("-{}", format_duration(Duration(-ms)));
  if (ms < 1000) return fmt::format("{}ms", ms);
  if (ms < 60'000) {
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{:.3g}s", static_cast<double>(ms) / 1000.0);
  }
  auto s = ms / 1000;
  std::string out;
  if (s >= 86'400) out += fmt::format("{}d", s / 86'400), s %= 86'400;
  if (s >= 3600) out += fmt::format("{}h", s / 3600), s %= 3600;
  if (s >= 60) out += fmt::format("{}m", s / 60), s %= 60;
  if (s > 0) out += fmt::format("{}s", s);
  return out;
}

}  // namespace tend
