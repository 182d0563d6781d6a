// ShadowGit's merges: computed by `git merge-tree --write-tree` on commits,
// never in a working tree; the target ref moves only when the merge worked.

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <iterator>
#include <sstream>

#include "shadow_git_internal.hpp"

namespace tend::agents {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> split_nul(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// A temporary index file (GIT_INDEX_FILE may be anywhere), removed when done.
class ScratchIndex {
 public:
  explicit ScratchIndex(const fs::path& dir)
      : path_(dir / fmt::format("tend-index-{}-{}", ::getpid(), counter_++)) {}
  ~ScratchIndex() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  static inline std::atomic<unsigned> counter_{0};
  fs::path path_;
};

std::string merged_key(const std::string& branch) { return fmt::format("branch.{}.tend-merged", branch); }
std::string merged_record(const std::string& commit, const std::string& target) { return commit + " " + target; }

}  // namespace

ShadowGit::Step ShadowGit::merge_step(const std::string& ours, const std::string& theirs,
                                      const std::map<std::string, Side>& resolutions) const {
  GitOutput out = git_.run({"merge-tree", "--write-tree", "--name-only", "-z", "--no-messages", ours, theirs},
                           {.input = {}, .env = {}, .ok_codes = {0, 1}});
  std::vector<std::string> fields = split_nul(out.out);
  if (fields.empty()) throw GitError({"merge-tree", ours, theirs}, out.exit_code, "printed no tree");
  Step step{fields[0], {}};
  if (out.exit_code == 0) return step;

  std::vector<std::string> conflicted;
  for (std::size_t i = 1; i < fields.size() && !fields[i].empty(); ++i) {
    if (std::find(conflicted.begin(), conflicted.end(), fields[i]) == conflicted.end()) conflicted.push_back(fields[i]);
  }
  for (const std::string& file : conflicted) {
    if (!resolutions.contains(file)) step.conflicts.push_back(file);
  }
  if (!step.conflicts.empty()) {
    step.conflicts = conflicted;  // the whole picture, not only what is left
    return step;
  }

  // Every conflicted file has a side: take that side's version whole (or its
  // absence) into the merged tree, through an index of our own.
  ScratchIndex index(fs::temp_directory_path());
  std::vector<std::pair<std::string, std::string>> env = {{"GIT_INDEX_FILE", index.path().string()}};
  git_.run({"read-tree", step.tree}, {.input = {}, .env = env, .ok_codes = {0}});
  std::string entries;
  for (const std::string& file : conflicted) {
    const std::string& side = resolutions.at(file) == Side::ours ? ours : theirs;
    std::string listed = git_.run({"ls-tree", "-z", side, "--", file}).out;
    if (!listed.empty() && listed.back() == '\0') listed.pop_back();
    entries += listed.empty() ? fmt::format("0 {}\t{}", std::string(40, '0'), file) : listed;
    entries += '\0';
  }
  git_.run({"update-index", "-z", "--index-info"}, {.input = entries, .env = env, .ok_codes = {0}});
  step.tree = trim_right(git_.run({"write-tree"}, {.input = {}, .env = env, .ok_codes = {0}}).out);
  return step;
}

MergeResult ShadowGit::merge(const Workspace& ws, const std::string& target, MergeStrategy strategy,
                             const std::string& message) {
  {
    std::lock_guard lock(repo_mutex_);
    pending_.erase(ws.id);
  }
  return run_merge(ws, target.empty() ? ws.target_branch : target, strategy, message, {});
}

MergeResult ShadowGit::resolve(const Workspace& ws, Side side, const std::vector<std::string>& files) {
  std::shared_ptr<Pending> pending;
  {
    std::lock_guard lock(repo_mutex_);
    auto it = pending_.find(ws.id);
    if (it != pending_.end()) pending = it->second;
  }
  if (!pending) {
    throw ShadowGitError(ShadowGitError::Kind::no_conflict, fmt::format("{} has no conflicted merge to resolve", ws.branch));
  }
  std::map<std::string, Side> resolutions = pending->resolutions;
  for (const std::string& file : files) {
    if (std::find(pending->conflicts.begin(), pending->conflicts.end(), file) == pending->conflicts.end()) {
      throw std::invalid_argument(fmt::format("{} is not conflicted in the merge of {} into {} (conflicted: {})", file,
                                              ws.branch, pending->target, fmt::join(pending->conflicts, ", ")));
    }
    resolutions[file] = side;
  }
  if (files.empty()) {
    for (const std::string& file : pending->conflicts) resolutions[file] = side;
  }
  return run_merge(ws, pending->target, pending->strategy, pending->message, resolutions);
}

std::optional<std::vector<std::string>> ShadowGit::pending_conflicts(const Workspace& ws) const {
  std::lock_guard lock(repo_mutex_);
  auto it = pending_.find(ws.id);
  if (it == pending_.end()) return std::nullopt;
  return it->second->conflicts;
}

MergeResult ShadowGit::run_merge(const Workspace& ws, const std::string& target, MergeStrategy strategy,
                                 const std::string& message, const std::map<std::string, Side>& resolutions) {
  std::lock_guard lock(repo_mutex_);
  MergeResult result;
  result.target = target;
  result.strategy = strategy;
  const std::string target_head = branch_head(target);
  const std::string branch_commit = head(ws);
  result.previous_commit = target_head;
  result.commit = target_head;
  const std::string subject = message.empty() ? fmt::format("tend: {} {} into {}", merge_strategy_name(strategy), ws.branch, target) : message;

  std::string new_head;
  if (git_.test({"merge-base", "--is-ancestor", branch_commit, target_head})) {
    result.up_to_date = true;  // every commit of the branch is already in the target
  } else if (strategy == MergeStrategy::fast_forward) {
    new_head = fast_forward_head(ws, target, target_head, branch_commit);
  } else if (strategy == MergeStrategy::squash || strategy == MergeStrategy::merge) {
    new_head = commit_merged_tree(strategy, target_head, branch_commit, subject, resolutions, result);
  } else {
    new_head = replay_commits(target_head, branch_commit, resolutions, result);
  }

  if (!result.conflicts.empty()) {
    keep_pending(ws, target, strategy, message, resolutions, result.conflicts);
    return result;
  }
  if (!new_head.empty()) move_target(target, target_head, new_head, subject, result);
  result.merged = true;
  record_merged(ws, target, branch_commit);
  return result;
}

std::string ShadowGit::fast_forward_head(const Workspace& ws, const std::string& target, const std::string& target_head,
                                         const std::string& branch_commit) const {
  if (!git_.test({"merge-base", "--is-ancestor", target_head, branch_commit})) {
    throw ShadowGitError(ShadowGitError::Kind::not_fast_forward,
                         fmt::format("cannot fast-forward {} to {}: {} has commits that {} lacks (use squash, merge "
                                     "or rebase)",
                                     target, ws.branch, target, ws.branch));
  }
  return branch_commit;
}

std::string ShadowGit::commit_merged_tree(MergeStrategy strategy, const std::string& target_head,
                                          const std::string& branch_commit, const std::string& subject,
                                          const std::map<std::string, Side>& resolutions, MergeResult& result) const {
  Step step = merge_step(target_head, branch_commit, resolutions);
  if (!step.conflicts.empty()) {
    result.conflicts = step.conflicts;
    return {};
  }
  if (strategy == MergeStrategy::squash && step.tree == tree_of(target_head)) {
    result.up_to_date = true;  // squash-merged before: nothing new
    return {};
  }
  std::vector<std::string> args = {"commit-tree", step.tree, "-p", target_head};
  if (strategy == MergeStrategy::merge) args.insert(args.end(), {"-p", branch_commit});
  args.insert(args.end(), {"-m", subject});
  return trim_right(git_.run(args, {.input = {}, .env = identity(), .ok_codes = {0}}).out);
}

std::string ShadowGit::replay_commits(const std::string& target_head, const std::string& branch_commit,
                                      const std::map<std::string, Side>& resolutions, MergeResult& result) const {
  // Rebase: replay each commit of the branch onto the target, keeping its
  // author and message. Each replay is a three-way merge whose base is the
  // commit's parent: merge-tree (2.39 has no --merge-base) is given a
  // stand-in commit with the current tree on that parent, so the merge base
  // it finds is exactly the parent.
  const auto env = identity();
  std::string fork = git_.line({"merge-base", target_head, branch_commit});
  std::istringstream commits(git_.run({"rev-list", "--reverse", "--no-merges", fork + ".." + branch_commit}).out);
  std::string current = target_head;
  std::string commit;
  while (std::getline(commits, commit)) {
    std::string parent = git_.line({"rev-parse", commit + "^"});
    std::string stand_in = trim_right(git_.run({"commit-tree", tree_of(current), "-p", parent, "-m", "tend: rebase stand-in"},
                                               {.input = {}, .env = env, .ok_codes = {0}})
                                          .out);
    Step step = merge_step(stand_in, commit, resolutions);
    if (!step.conflicts.empty()) {
      result.conflicts = step.conflicts;
      return {};
    }
    if (step.tree == tree_of(current)) continue;  // already there
    std::vector<std::string> fields = split_nul(git_.run({"log", "-1", "--format=%an%x00%ae%x00%aI%x00%B", commit}).out);
    fields.resize(4);
    auto commit_env = env;
    std::erase_if(commit_env, [](const auto& kv) { return kv.first.rfind("GIT_AUTHOR_", 0) == 0; });
    commit_env.insert(commit_env.end(), {{"GIT_AUTHOR_NAME", fields[0]}, {"GIT_AUTHOR_EMAIL", fields[1]}, {"GIT_AUTHOR_DATE", fields[2]}});
    current = trim_right(git_.run({"commit-tree", step.tree, "-p", current, "-F", "-"},
                                  {.input = fields[3], .env = commit_env, .ok_codes = {0}})
                             .out);
  }
  if (current == target_head) {
    result.up_to_date = true;
    return {};
  }
  return current;
}

void ShadowGit::keep_pending(const Workspace& ws, const std::string& target, MergeStrategy strategy,
                             const std::string& message, const std::map<std::string, Side>& resolutions,
                             const std::vector<std::string>& conflicts) {
  auto pending = std::make_shared<Pending>();
  pending->target = target;
  pending->strategy = strategy;
  pending->message = message;
  pending->resolutions = resolutions;
  pending->conflicts = conflicts;
  pending_[ws.id] = pending;
}

void ShadowGit::move_target(const std::string& target, const std::string& target_head, const std::string& new_head,
                            const std::string& subject, MergeResult& result) {
  if (auto tree = checked_out_at(target)) {
    Git there(*tree, timeout_);
    if (!there.run({"status", "--porcelain", "--untracked-files=no"}).out.empty()) {
      throw ShadowGitError(ShadowGitError::Kind::target_dirty,
                           fmt::format("{} is checked out in {} with uncommitted changes: commit or stash them, "
                                       "then merge again ({} was not moved)",
                                       target, tree->string(), target));
    }
    there.run({"merge", "--quiet", "--ff-only", new_head});
    result.updated_worktree = *tree;
  } else {
    git_.run({"update-ref", "-m", subject, "refs/heads/" + target, new_head, target_head});
  }
  result.commit = new_head;
}

void ShadowGit::record_merged(const Workspace& ws, const std::string& target, const std::string& branch_commit) {
  pending_.erase(ws.id);
  git_.run({"config", fmt::format("branch.{}.tend-target", ws.branch), target});
  // What was merged, so the branch counts as merged even once the target
  // overwrites its files (another agent's conflict resolved against it).
  git_.run({"config", merged_key(ws.branch), merged_record(branch_commit, target)});
}

bool ShadowGit::is_merged(const Workspace& ws, const std::string& target) const {
  const std::string into = target.empty() ? ws.target_branch : target;
  const std::string branch_commit = head(ws);
  if (branch_commit == ws.base_commit) return true;  // no work of its own
  if (config_get(merged_key(ws.branch)) == merged_record(branch_commit, into)) return true;
  std::optional<std::string> target_head;
  try {
    target_head = branch_head(into);
  } catch (const ShadowGitError&) {
    return false;  // the target is gone: nothing says the work is anywhere
  }
  if (git_.test({"merge-base", "--is-ancestor", branch_commit, *target_head})) return true;
  // Every file the branch changed is in the target as the branch has it.
  auto changed_between = [this](const std::string& from, const std::string& to) {
    std::vector<std::string> files = split_nul(git_.run({"diff", "--name-only", "-z", "--no-renames", from, to}).out);
    std::sort(files.begin(), files.end());
    return files;
  };
  const std::vector<std::string> changed = changed_between(ws.base_commit, branch_commit);
  const std::vector<std::string> differ = changed_between(*target_head, branch_commit);
  std::vector<std::string> missing;
  std::set_intersection(changed.begin(), changed.end(), differ.begin(), differ.end(), std::back_inserter(missing));
  return missing.empty();
}

}  // namespace tend::agents
