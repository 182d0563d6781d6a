#pragma once
// Which timeouts a command gets when its spec does not say.
//
// Servers and watchers are silent and endless on purpose; a wall-clock
// timeout would kill them for doing their job. Builds legitimately go quiet
// for minutes. Everything else is a quick command that should finish soon.
// The table is data: add rules for your own tools.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tend/core/duration.hpp"
#include "tend/core/pattern.hpp"

namespace tend {

/// What kind of command a command line is, for its default timeouts.
enum class CommandClass { quick, build, long_running };

/// "quick", "build" or "long_running".
std::string_view to_string(CommandClass c);

/// The timeouts a class of command gets by default; nullopt means none.
struct TimeoutDefaults {
  /// The wall-clock limit, and the longest silence on its output.
  std::optional<Duration> wall;
  std::optional<Duration> idle;
};

/// A table of rules from command lines to classes, and each class's defaults.
/// Its const methods may be called from any thread.
class CommandPolicy {
 public:
  /// One rule: a pattern and the class of the command lines it finds.
  struct Rule {
    std::string pattern;  ///< searched in the command line (RE2 syntax, see pattern.hpp)
    /// The class it gives, and the pattern compiled.
    CommandClass command_class;
    Pattern compiled;
  };

  /// Known long-running commands (dev servers, watchers, `python -m
  /// http.server`, `uvicorn`, `npm run dev`, ...) and builds (make, cargo
  /// build, ninja, ...); quick commands get 120 s, as the seed says.
  static CommandPolicy standard();

  /// An empty policy: every command is quick.
  CommandPolicy() = default;

  /// Adds a rule; later rules are checked first. Throws PatternError.
  void add_rule(std::string pattern, CommandClass command_class);

  /// The class of `command_line`: the first rule that matches, newest first.
  /// Answers are remembered per command line (matching the whole table costs
  /// microseconds, a fair share of spawning's own work), so
  /// a command run again is classified by one lookup. Thread-safe.
  CommandClass classify(std::string_view command_line) const;

  /// The timeouts `command_line` gets when its spec sets none.
  TimeoutDefaults defaults_for(std::string_view command_line) const;

  /// Each class's defaults: quick 2 min (1 min of silence), build 1 h (10 min
  /// of silence), long-running none. Set them before sharing the policy.
  TimeoutDefaults quick{Duration(std::chrono::seconds(120)), Duration(std::chrono::seconds(60))};
  TimeoutDefaults build{Duration(std::chrono::minutes(60)), Duration(std::chrono::minutes(10))};
  TimeoutDefaults long_running{std::nullopt, std::nullopt};

  /// The rules, oldest first (classify tries them newest first).
  const std::vector<Rule>& rules() const { return rules_; }

 private:
  // Shared by copies of one policy; add_rule starts a fresh one, since its
  // answers belong to the old table.
  struct Memo {
    static constexpr std::size_t capacity = 4096;  ///< forgotten all at once when full
    std::mutex mutex;
    std::unordered_map<std::string, CommandClass> answers;
  };
  CommandClass match(std::string_view command_line) const;

  std::vector<Rule> rules_;
  std::shared_ptr<Memo> memo_ = std::make_shared<Memo>();
};

}  // namespace tend
