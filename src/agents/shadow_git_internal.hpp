#pragma once
// What ShadowGit's files share and nobody else needs.

#include <map>
#include <string>
#include <vector>

#include "tend/agents/shadow_git.hpp"

namespace tend::agents {

/// One three-way merge computed by merge-tree: its tree, or the files left
/// conflicted once the given resolutions were applied.
struct ShadowGit::Step {
  std::string tree;
  std::vector<std::string> conflicts;
};

/// A merge that stopped on a conflict, waiting for resolve().
struct ShadowGit::Pending {
  std::string target;
  MergeStrategy strategy;
  std::string message;
  std::map<std::string, Side> resolutions;
  std::vector<std::string> conflicts;
};

}  // namespace tend::agents
