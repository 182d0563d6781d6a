#include "tend/core/pattern.hpp"

#include <re2/re2.h>

#include <fmt/format.h>

namespace tend {
namespace {

constexpr std::size_t kShownBytes = 60;
constexpr const char* kSyntax = "tend's patterns are RE2 syntax, see https://github.com/google/re2/wiki/Syntax";

// RE2's own message is exact but terse; the two constructs people bring from
// other engines get a sentence of their own.
std::string reason_for(const re2::RE2& re) {
  const std::string& arg = re.error_arg();
  if (re.error_code() == re2::RE2::ErrorBadEscape && arg.size() == 2 && arg[1] >= '1' && arg[1] <= '9') {
    return fmt::format("backreferences ({}) are not supported ({})", arg, kSyntax);
  }
  if (re.error_code() == re2::RE2::ErrorBadPerlOp && (arg.starts_with("(?=") || arg.starts_with("(?!") ||
                                                     arg.starts_with("(?<=") || arg.starts_with("(?<!"))) {
    return fmt::format("lookahead and lookbehind ({}) are not supported ({})", arg, kSyntax);
  }
  // RE2's message ends with the offending part, raw: show it as we show patterns.
  std::string message = re.error();
  if (!arg.empty() && message.ends_with(": " + arg)) {
    message = message.substr(0, message.size() - arg.size()) + Pattern::quoted(arg);
  } else {
    message = Pattern::quoted(message);
  }
  return fmt::format("{} ({})", message, kSyntax);
}

}  // namespace

PatternError::PatternError(std::string_view pattern, const std::string& reason)
    : std::invalid_argument(fmt::format("pattern {}: {}", Pattern::quoted(pattern), reason)), reason_(reason) {}

std::string Pattern::quoted(std::string_view text) {
  std::size_t shown = std::min(text.size(), kShownBytes);
  while (shown < text.size() && shown > 0 && (static_cast<unsigned char>(text[shown]) & 0xc0) == 0x80) --shown;
  std::string out = "\"";
  for (char c : text.substr(0, shown)) {
    auto u = static_cast<unsigned char>(c);
    // Control characters would move the cursor or retitle a terminal.
    out += u < 0x20 || u == 0x7f ? fmt::format("\\x{:02x}", u) : std::string(1, c);
  }
  out += '"';
  if (shown < text.size()) out += fmt::format("... ({} bytes)", text.size());
  return out;
}

Pattern::Pattern(std::string_view text) : text_(text) {
  if (text.size() > max_length) {
    throw PatternError(text, fmt::format("{} bytes is longer than the limit of {} bytes", text.size(), max_length));
  }
  re2::RE2::Options options;
  options.set_log_errors(false);  // the error goes to whoever gave the pattern, not to our stderr
  auto compiled = std::make_shared<re2::RE2>(re2::StringPiece(text.data(), text.size()), options);
  if (!compiled->ok()) throw PatternError(text, reason_for(*compiled));
  compiled_ = std::move(compiled);
}

bool Pattern::search(std::string_view subject) const {
  return re2::RE2::PartialMatch(re2::StringPiece(subject.data(), subject.size()), *compiled_);
}

}  // namespace tend
