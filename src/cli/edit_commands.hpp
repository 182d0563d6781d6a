#pragma once
// tend edit and tend restart: change a queued task, or run an ended one
// again as a new task, with the same options for what to change.

#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tend::cli {

struct EditOptions {
  std::vector<std::string> ids, env, unset_env, argv;
  std::optional<std::string> command, cwd, name;
  std::optional<long long> priority;
  /// How many words of the command line came after "--": for restart, whose
  /// ids and new argv are all positionals to CLI11.
  std::size_t words_after_dashdash = 0;
  bool in_place = false;
  bool json = false;
};

/// Declares the subcommands; main runs cmd_edit or cmd_restart once parsed.
CLI::App* add_edit(CLI::App& app, EditOptions& o);
CLI::App* add_restart(CLI::App& app, EditOptions& o);

int cmd_edit(const EditOptions& o);
int cmd_restart(const EditOptions& o);

}  // namespace tend::cli
