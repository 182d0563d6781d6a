#pragma once
// A regular expression someone gave tend: `tend logs --grep`, a ready
// pattern, a progress pattern, MCP's `grep`, a command policy rule.
//
// Such patterns meet output nobody vetted (a 2 MB line, binary junk), and a
// backtracking engine (std::regex) can take exponential time on them or
// recurse once per character of the subject until the stack overflows. So
// every pattern goes through RE2: matching takes time linear in the subject
// and memory bounded by the compiled program, whatever the pattern. The
// price is RE2's syntax (https://github.com/google/re2/wiki/Syntax): no
// backreferences (\1) and no lookaround ((?=...), (?!...)); a pattern that
// uses them is refused with an error that says so. A pattern is at most
// Pattern::max_length bytes long.
//
// A Pattern is compiled once and is cheap to copy (copies share the compiled
// program); searching is const and safe from any thread.

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace re2 {
class RE2;
}

namespace tend {

/// A pattern that cannot be used. what() names the pattern (shortened when
/// long) and says why: too long, a construct RE2 lacks, or bad syntax.
class PatternError : public std::invalid_argument {
 public:
  /// The message is made of the pattern (Pattern::quoted) and `reason`.
  PatternError(std::string_view pattern, const std::string& reason);
  /// Why, without the pattern ("backreferences (\1) are not supported ...").
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

/// A compiled RE2 pattern (see the notes at the top of this file).
class Pattern {
 public:
  /// The longest pattern accepted, in bytes (documented in docs/protocol.md).
  static constexpr std::size_t max_length = 4096;

  /// Compiles `text` (RE2 syntax, UTF-8). Throws PatternError.
  explicit Pattern(std::string_view text);

  /// True when the pattern matches anywhere in `subject` (as std::regex_search).
  bool search(std::string_view subject) const;
  /// The pattern as given.
  const std::string& text() const { return text_; }

  /// The pattern as an error message shows it: quoted, and cut after 60
  /// bytes with its full length said, so a 100 KB pattern does not fill a
  /// terminal.
  static std::string quoted(std::string_view text);

 private:
  std::string text_;
  std::shared_ptr<const re2::RE2> compiled_;
};

}  // namespace tend
