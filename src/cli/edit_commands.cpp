#include "edit_commands.hpp"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "client.hpp"
#include "commands.hpp"
#include "format.hpp"

namespace tend::cli {

namespace {

void add_change_options(CLI::App* command, EditOptions& o) {
  auto set = [](std::optional<std::string>& into) { return [&into](const std::string& text) { into = text; }; };
  command->add_option_function<std::string>("--command", set(o.command), "A new command line, run by /bin/sh -c");
  command->add_option_function<std::string>("--cwd", set(o.cwd), "A new working directory");
  command->add_option("--env", o.env, "Set or override a variable, K=V (repeatable); the others stay")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option("--unset-env", o.unset_env, "Remove a variable (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->add_option_function<long long>(
      "--priority", [&o](long long n) { o.priority = n; }, "A new priority (higher starts first)");
  command->add_option_function<std::string>("--name", set(o.name), "A new name");
}

// The change params, as task.edit and task.restart take them.
json change_params(const EditOptions& o) {
  json p = json::object();
  if (o.command && !o.argv.empty()) throw UsageError("give --command or a command after --, not both");
  if (o.command) p["shell"] = *o.command;
  if (!o.argv.empty()) p["argv"] = o.argv;
  if (o.cwd) {
    if (o.cwd->empty()) throw UsageError("--cwd: expected a directory");
    p["cwd"] = std::filesystem::absolute(*o.cwd).lexically_normal().string();
  }
  if (!o.env.empty()) {
    json env = json::object();
    for (const auto& kv : o.env) {
      auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) throw UsageError(fmt::format("--env: expected NAME=VALUE, not \"{}\"", kv));
      env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    p["env"] = env;
  }
  if (!o.unset_env.empty()) p["unset_env"] = o.unset_env;
  if (o.priority) p["priority"] = *o.priority;
  if (o.name) p["name"] = *o.name;
  return p;
}

}  // namespace

CLI::App* add_edit(CLI::App& app, EditOptions& o) {
  auto* edit = app.add_subcommand("edit", "Change a queued task before it starts");
  edit->add_option("id", o.ids, "Task id or name")->required()->expected(1);
  add_change_options(edit, o);
  edit->add_flag("--json", o.json, "Print the task as JSON");
  edit->add_option("argv", o.argv, "A new command and its arguments, after -- (instead of --command)");
  return edit;
}

CLI::App* add_restart(CLI::App& app, EditOptions& o) {
  auto* restart = app.add_subcommand("restart", "Run tasks that ended again, each as a new task; prints the new ids");
  restart->add_option("ids", o.ids, "Task ids or names, then -- and a new command if you change it")->required();
  add_change_options(restart, o);
  restart->add_flag("--in-place", o.in_place, "Reuse the id (not yet supported)");
  restart->add_flag("--json", o.json, "Print the answer as JSON");
  return restart;
}

int cmd_edit(const EditOptions& o) {
  json p = change_params(o);
  if (p.empty()) throw UsageError("nothing to change: give --command, -- ARGV, --cwd, --env, --unset-env, --priority or --name");
  p["id"] = task_ref(o.ids.at(0));
  Client client = Client::connect();
  json t = client.call("task.edit", p);
  if (o.json) {
    std::cout << t.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} edited: {}\n", t["id"].get<std::uint64_t>(), shown(t["command"]));
  }
  return 0;
}

int cmd_restart(const EditOptions& o) {
  if (o.in_place) {
    throw UsageError("--in-place is not supported yet: tend restart runs the task again as a new task");
  }
  EditOptions split = o;
  // CLI11 gives the ids and the words after -- as one list.
  if (o.words_after_dashdash > 0) {
    if (o.words_after_dashdash >= o.ids.size()) throw UsageError("give the ids to restart before --");
    auto first = split.ids.end() - static_cast<std::ptrdiff_t>(o.words_after_dashdash);
    split.argv.assign(first, split.ids.end());
    split.ids.erase(first, split.ids.end());
  }
  json p = change_params(split);
  p["ids"] = task_refs(split.ids);
  Client client = Client::connect();
  json r = client.call("task.restart", p);
  if (o.json) std::cout << r.dump(2) << "\n";
  int code = 0;
  for (const auto& t : r["tasks"]) {
    if (t.contains("error")) {
      std::cerr << "tend: " << t["error"]["message"].get<std::string>() << "\n";
      code = 1;
    } else if (!o.json) {
      std::cout << fmt::format("{} restarted as {}\n", t["id"].get<std::uint64_t>(), t["new_id"].get<std::uint64_t>());
    }
  }
  return code;
}

}  // namespace tend::cli
