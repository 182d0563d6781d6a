#include "spec_changes.hpp"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "params.hpp"
#include "tend/core/task_name.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend::rpc {

using namespace params;

namespace {

[[noreturn]] void refuse_change(const std::string& message) {
  throw RpcError(error_code::invalid_params, fmt::format("invalid params: {}", message));
}

void decode_new_command(const json& p, SpecChanges& c) {
  c.argv = optional<std::vector<std::string>>(p, "argv");
  c.shell = optional<std::string>(p, "shell");
  if (c.argv && c.shell) bad("argv", "given alone: not together with \"shell\"");
  if (c.argv && (c.argv->empty() || c.argv->front().empty())) bad("argv", "a non-empty list with a program first");
  if (c.shell && c.shell->find_first_not_of(" \t\r\n") == std::string::npos) bad("shell", "a non-empty command line");
}

void decode_new_cwd(const json& p, SpecChanges& c) {
  c.cwd = optional<std::string>(p, "cwd");
  if (!c.cwd) return;
  std::error_code ec;
  if (c.cwd->empty() || !std::filesystem::path(*c.cwd).is_absolute() || !std::filesystem::is_directory(*c.cwd, ec)) {
    refuse_change(fmt::format("\"cwd\" must be an absolute path to a directory, not \"{}\"", escape_controls(*c.cwd)));
  }
}

bool is_variable_name(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos && name.find('\0') == std::string::npos;
}

void decode_env_changes(const json& p, SpecChanges& c) {
  if (auto it = p.find("env"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) bad("env", "an object of string values");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) bad("env", "an object of string values");
      if (!is_variable_name(k)) refuse_change(fmt::format("\"env\": \"{}\" is no variable name", escape_controls(k)));
      if (v.get<std::string>().find('\0') != std::string::npos) refuse_change(fmt::format("\"env\": {} holds a NUL byte", k));
      c.env.emplace_back(k, v.get<std::string>());
    }
  }
  if (auto names = optional<std::vector<std::string>>(p, "unset_env")) {
    for (const auto& k : *names) {
      if (!is_variable_name(k)) refuse_change(fmt::format("\"unset_env\": \"{}\" is no variable name", escape_controls(k)));
    }
    c.unset_env = *names;
  }
}

void decode_new_priority_and_name(const json& p, SpecChanges& c) {
  auto it = p.find("priority");
  if (it != p.end() && !it->is_null()) {
    if (!it->is_number_integer() || (it->is_number_unsigned() && it->get<std::uint64_t>() > INT_MAX) ||
        it->get<std::int64_t>() < INT_MIN || it->get<std::int64_t>() > INT_MAX) {
      refuse_change(fmt::format("\"priority\" must be a whole number from {} to {}", INT_MIN, INT_MAX));
    }
    c.priority = static_cast<int>(it->get<std::int64_t>());
  }
  c.name = optional<std::string>(p, "name");
  if (c.name) {
    if (auto problem = task_name_problem(*c.name)) {
      refuse_change(fmt::format("\"name\" {}: a name is 1 to {} bytes of UTF-8 without control characters or \"/\", and "
                         "not all digits",
                         *problem, kMaxTaskNameBytes));
    }
  }
}

}  // namespace

bool SpecChanges::empty() const {
  return !argv && !shell && !cwd && env.empty() && unset_env.empty() && !priority && !name;
}

TaskSpec SpecChanges::applied_to(TaskSpec spec) const {
  if (argv) {
    spec.argv = *argv;
    spec.shell_command.reset();
  }
  if (shell) {
    spec.argv.clear();
    spec.shell_command = *shell;
  }
  if (cwd) spec.cwd = *cwd;
  for (const auto& name : unset_env) {
    std::erase_if(spec.env, [&](const auto& kv) { return kv.first == name; });
    if (std::find(spec.unset_env.begin(), spec.unset_env.end(), name) == spec.unset_env.end()) {
      spec.unset_env.push_back(name);
    }
  }
  for (const auto& [k, v] : env) {
    std::erase(spec.unset_env, k);
    auto it = std::find_if(spec.env.begin(), spec.env.end(), [&](const auto& kv) { return kv.first == k; });
    if (it == spec.env.end()) {
      spec.env.emplace_back(k, v);
    } else {
      it->second = v;
    }
  }
  if (priority) spec.priority = *priority;
  if (name) spec.name = *name;
  return spec;
}

SpecChanges decode_spec_changes(const json& p) {
  SpecChanges c;
  decode_new_command(p, c);
  decode_new_cwd(p, c);
  decode_env_changes(p, c);
  decode_new_priority_and_name(p, c);
  return c;
}

}  // namespace tend::rpc
