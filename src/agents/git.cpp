#include "tend/agents/git.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "tend/process/run.hpp"

namespace tend::agents {

GitError::GitError(std::vector<std::string> args, int exit_code, std::string message)
    : std::runtime_error(fmt::format("git {} failed: {}", fmt::join(args, " "), message)),
      args_(std::move(args)),
      exit_code_(exit_code),
      message_(std::move(message)) {}

std::string trim_right(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.pop_back();
  return text;
}

Git::Git(std::filesystem::path dir, std::chrono::milliseconds timeout) : dir_(std::move(dir)), timeout_(timeout) {}

GitOutput Git::run(const std::vector<std::string>& args, const Options& options) const {
  process::SpawnOptions spawn;
  // Automatic gc and the pager would make commands slow or interactive; a
  // fixed locale keeps messages parseable; no prompt may ever wait for a
  // terminal that is not there.
  spawn.argv = {"git", "-c", "gc.auto=0", "-c", "core.pager=cat", "-c", "advice.detachedHead=false"};
  spawn.argv.insert(spawn.argv.end(), args.begin(), args.end());
  spawn.cwd = dir_;
  spawn.set_env = {{"LC_ALL", "C"}, {"GIT_TERMINAL_PROMPT", "0"}, {"GIT_EDITOR", "true"}};
  spawn.set_env.insert(spawn.set_env.end(), options.env.begin(), options.env.end());
  // Our own environment must not point git elsewhere (a tend started from a
  // git hook has these set); options.env may set them again.
  for (const char* name : {"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"}) {
    bool set_here = std::any_of(options.env.begin(), options.env.end(), [&](const auto& kv) { return kv.first == name; });
    if (!set_here) spawn.unset_env.emplace_back(name);
  }
  process::CapturedRun run;
  try {
    run = process::run_captured(std::move(spawn), options.input, timeout_);
  } catch (const process::SpawnError& e) {
    throw GitError(args, -1, e.what());
  }
  if (run.timed_out) {
    throw GitError(args, -1, fmt::format("timed out after {} s and was killed", timeout_.count() / 1000.0));
  }
  if (run.status.signaled()) throw GitError(args, -1, fmt::format("killed by signal {}", run.status.code));
  GitOutput output{run.status.code, std::move(run.out), std::move(run.err)};
  if (std::find(options.ok_codes.begin(), options.ok_codes.end(), output.exit_code) == options.ok_codes.end()) {
    std::string message = trim_right(output.err.empty() ? output.out : output.err);
    if (message.empty()) message = fmt::format("exit code {}", output.exit_code);
    throw GitError(args, output.exit_code, std::move(message));
  }
  return output;
}

std::string Git::line(const std::vector<std::string>& args) const { return trim_right(run(args).out); }

bool Git::test(const std::vector<std::string>& args) const {
  Options options;
  options.ok_codes = {0, 1};
  return run(args, options).exit_code == 0;
}

}  // namespace tend::agents
