#pragma once
// Running git: every git command tend issues goes through here, and so
// through tend's own process layer, with a timeout. A failure is a GitError
// carrying the command and git's own message.

#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tend::agents {

/// A git command that failed: its what() is "git <args> failed: <git's message>".
class GitError : public std::runtime_error {
 public:
  /// `exit_code` is -1 when git could not run, timed out or was killed;
  /// `message` is what git said, or that reason.
  GitError(std::vector<std::string> args, int exit_code, std::string message);
  /// The arguments given to git (without `git`).
  const std::vector<std::string>& args() const { return args_; }
  /// git's exit code; -1 when it could not run, timed out or was killed.
  int exit_code() const { return exit_code_; }
  /// What git printed on stderr (or stdout when stderr was empty), trimmed.
  const std::string& git_message() const { return message_; }

 private:
  std::vector<std::string> args_;
  int exit_code_;
  std::string message_;
};

/// What a git command printed, and its exit code (one of the accepted ones).
struct GitOutput {
  /// git's exit code, its stdout and its stderr, untrimmed.
  int exit_code = 0;
  std::string out;
  std::string err;
};

/// Runs git in one directory. Thread-safe (it holds no state beyond its
/// settings).
class Git {
 public:
  /// Runs in `dir`; each command is stopped and fails past `timeout`.
  explicit Git(std::filesystem::path dir, std::chrono::milliseconds timeout = std::chrono::seconds(120));
  /// The directory git runs in.
  const std::filesystem::path& dir() const { return dir_; }

  /// What one command needs beyond its arguments.
  struct Options {
    std::string input;                                       ///< written to git's stdin
    std::vector<std::pair<std::string, std::string>> env;    ///< set for this command
    std::vector<int> ok_codes = {0};                         ///< exit codes that are not errors
  };
  /// Runs `git <args>`; throws GitError when it exits with a code not in
  /// `ok_codes`, times out or cannot start.
  GitOutput run(const std::vector<std::string>& args, const Options& options) const;
  GitOutput run(const std::vector<std::string>& args) const { return run(args, Options{}); }
  /// stdout of `git <args>` with the trailing newline removed.
  std::string line(const std::vector<std::string>& args) const;
  /// Whether `git <args>` exits 0 (1 is "no"; anything else is an error).
  bool test(const std::vector<std::string>& args) const;

 private:
  std::filesystem::path dir_;
  std::chrono::milliseconds timeout_;
};

/// Drops trailing newlines and spaces.
std::string trim_right(std::string text);

}  // namespace tend::agents
