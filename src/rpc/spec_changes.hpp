#pragma once
// The changes task.edit and task.restart make to a task's spec: a new
// command (argv or shell line), cwd, variables set or removed, priority or
// name. Decoded and checked here, once, for both methods and every front end.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tend/core/task.hpp"
#include "tend/rpc/json_rpc.hpp"

namespace tend::rpc {

struct SpecChanges {
  std::optional<std::vector<std::string>> argv;
  std::optional<std::string> shell;
  std::optional<std::string> cwd;
  std::vector<std::pair<std::string, std::string>> env;  ///< set or overridden; the rest stays
  std::vector<std::string> unset_env;
  std::optional<int> priority;
  std::optional<std::string> name;

  bool empty() const;
  /// `spec` with these changes.
  TaskSpec applied_to(TaskSpec spec) const;
};

/// Decodes the change params; throws an RpcError (invalid_params) naming the
/// field for an empty command, a bad variable name, a priority out of range,
/// a cwd that is no directory, a bad name.
SpecChanges decode_spec_changes(const json& p);

}  // namespace tend::rpc
