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

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
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
    if (number.empty() || number == ".") return std::nullopt;
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) {
      if (any || i != text.size()) return std::nullopt;  // a bare number stands alone
      unit = "s";
    }
    auto scale = unit_ms(unit);
    if (!scale) return std::nullopt;
    // from_chars, not stod: a number too large for a double is a bad
    // duration, not an exception (found by fuzz/duration_fuzzer.cpp).
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
    total_ms += value * *scale;
    any = true;
  }
  if (!any || !std::isfinite(total_ms) || total_ms > 1e15) return std::nullopt;
  return Duration(static_cast<Duration::rep>(std::llround(total_ms)));
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
