#pragma once
// ShadowGit: a branch and a git worktree per worker, and merges that never
// touch anybody's working tree.
//
// Each workspace is a branch `tend/<id>` checked out in its own worktree under
// a directory of tend's, made from a base branch without touching the user's
// working tree, index or HEAD. Its base commit is kept in `refs/tend/base/<id>`
// (so diffs have a fixed origin and the commit cannot be collected) and its
// base and target branches in the repository's config, so a restarted daemon
// finds every workspace from git alone.
//
// Merges are computed with `git merge-tree --write-tree`: the result is a tree
// and, on conflict, the list of conflicted files; the target branch moves
// (compare-and-swap) only once a merge succeeded. When the target branch is
// checked out somewhere, that tree is updated by a fast-forward if it is clean
// and the merge is refused if it is dirty.
//
// Threads: every method may be called from any thread. What git itself must
// do one at a time (refs of the shared repository, its config, the worktree
// list) is serialised here; work inside one workspace is not.

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "tend/agents/git.hpp"

namespace tend::agents {

/// How a workspace's branch lands on its target: one squashed commit, a merge
/// commit, its commits replayed on the target (rebase), or a fast-forward only.
enum class MergeStrategy { squash, merge, rebase, fast_forward };
/// "squash", "merge", "rebase", "ff" (or "fast-forward"); nullopt otherwise.
std::optional<MergeStrategy> parse_merge_strategy(std::string_view text);
/// The strategy's name as parse_merge_strategy takes it ("ff" for fast_forward).
const char* merge_strategy_name(MergeStrategy strategy);

/// Which side a conflicted file is resolved to: the target's (ours) or the
/// worker's (theirs).
enum class Side { ours, theirs };

/// A worker's branch and worktree, as ShadowGit finds it from git.
struct Workspace {
  /// The ticket id it was made for (a name safe in a ref).
  std::string id;
  std::string branch;            ///< tend/<id>
  std::filesystem::path path;    ///< its worktree
  std::string base_branch;       ///< the branch it was made from
  std::string base_commit;       ///< where it started
  std::string target_branch;     ///< where it merges by default (base_branch unless merged elsewhere)
};

/// A request that git could carry out but tend refuses, for a reason the
/// caller can act on.
class ShadowGitError : public std::runtime_error {
 public:
  /// What was refused.
  enum class Kind {
    no_repository,      ///< the directory is not in a git repository
    unknown_branch,     ///< a base or target branch that does not exist
    workspace_exists,   ///< tend/<id> already exists
    no_workspace,       ///< no workspace with that id
    nothing_to_commit,  ///< commit() with no change
    not_fast_forward,   ///< a fast-forward merge that is not one
    target_dirty,       ///< the target is checked out in a tree with uncommitted changes
    no_conflict,        ///< resolve() without a conflicted merge pending
    unsafe_removal,     ///< removal would lose uncommitted or unmerged work
  };
  /// `message` says which workspace or branch and git's reason when there is one.
  ShadowGitError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

/// What a merge (or resolve) did; a conflict is a result, not an exception.
struct MergeResult {
  /// True once the target moved (or was already up to date); the target branch
  /// it was merged into; and the strategy used.
  bool merged = false;
  std::string target;
  MergeStrategy strategy = MergeStrategy::squash;
  std::string previous_commit;   ///< the target's head before
  std::string commit;            ///< its head after (== previous when nothing changed or on conflict)
  bool up_to_date = false;       ///< there was nothing to merge
  std::vector<std::string> conflicts;  ///< conflicted files, when not merged
  /// The worktree where the target is checked out and was updated, if any.
  std::optional<std::filesystem::path> updated_worktree;
};

/// Why gc() kept a workspace.
struct KeptWorkspace {
  /// The workspace, and why it was kept, in words ("its worker is running", or what refused its removal).
  std::string id;
  std::string reason;
};

/// What gc() did.
struct GcResult {
  /// The ids of the workspaces removed, and those kept with why.
  std::vector<std::string> removed;
  std::vector<KeptWorkspace> kept;
};

/// The workspaces of one repository (see the notes at the top of this file).
class ShadowGit {
 public:
  /// `dir` is anywhere in the repository; worktrees go under `worktrees_root`.
  /// Throws ShadowGitError(no_repository).
  ShadowGit(const std::filesystem::path& dir, std::filesystem::path worktrees_root,
            std::chrono::milliseconds git_timeout = std::chrono::seconds(120));

  /// The top directory (main worktree) of the repository `dir` is in.
  /// Throws ShadowGitError(no_repository).
  static std::filesystem::path repository_of(const std::filesystem::path& dir,
                                             std::chrono::milliseconds git_timeout = std::chrono::seconds(120));

  /// The repository's top directory (its main worktree).
  const std::filesystem::path& repo() const { return repo_; }
  /// Where its worktrees are made (`<root>/<id>`).
  const std::filesystem::path& worktrees_root() const { return root_; }
  /// The branch checked out in the main worktree; throws when HEAD is detached.
  std::string current_branch() const;

  // --- Workspaces ------------------------------------------------------------

  /// Makes branch tend/<id> at the head of `base` (default: the current
  /// branch) and its worktree.
  Workspace create(const std::string& id, const std::string& base = "");
  /// The workspace with this id, or nullopt when its branch does not exist.
  std::optional<Workspace> find(const std::string& id) const;
  Workspace get(const std::string& id) const;  ///< throws no_workspace
  /// Every workspace of the repository (each branch under tend/), by branch name.
  std::vector<Workspace> list() const;
  /// Copies files or directories (relative to the repository, typically
  /// untracked or ignored ones such as `.env`) into the workspace. Checks
  /// them first with check_copy_files.
  void copy_files(const Workspace& ws, const std::vector<std::string>& files) const;
  /// Refuses (std::invalid_argument, in words) a file copy_files could not
  /// or must not copy: one that does not exist, an absolute path, one outside
  /// the repository (`..`, or through a symbolic link), the repository
  /// itself, or anything in `.git` (git's own, and in a worktree a file that
  /// links it to the repository).
  void check_copy_files(const std::vector<std::string>& files) const;
  /// Refuses (ShadowGitError unknown_branch) a name that is not a local
  /// branch: `main~1`, a tag, `origin/main`, `../etc`. Workspaces start from
  /// a branch and merge back into one.
  void require_branch(const std::string& branch) const;

  // --- Work in a workspace ----------------------------------------------------

  /// Commits every change (git add -A); returns the commit. Throws
  /// nothing_to_commit when there is none.
  std::string commit(const Workspace& ws, const std::string& message) const;
  /// Whether its worktree has changes not committed (false when the worktree is gone).
  bool has_uncommitted(const Workspace& ws) const;
  /// The commit its branch points at.
  std::string head(const Workspace& ws) const;
  /// The workspace's changes against its base commit (committed or not).
  std::string diff(const Workspace& ws, bool stat) const;
  /// Drops the last `n` commits, or goes back to `commit`; uncommitted changes go too.
  void rollback(const Workspace& ws, unsigned n) const;
  void rollback_to(const Workspace& ws, const std::string& commit) const;

  // --- Merging ---------------------------------------------------------------

  /// Merges the workspace's branch into `target` (default: its target
  /// branch). A conflict is a result (merged == false, the files listed, the
  /// target unmoved) and stays pending for resolve(). Throws ShadowGitError
  /// for a refusal (not_fast_forward, target_dirty, unknown_branch).
  MergeResult merge(const Workspace& ws, const std::string& target = "", MergeStrategy strategy = MergeStrategy::squash,
                    const std::string& message = "");
  /// Resolves the pending conflict of `ws`: `files` (all when empty) take
  /// `side`'s version; once no conflict is left, the merge completes.
  MergeResult resolve(const Workspace& ws, Side side, const std::vector<std::string>& files = {});
  /// The files of the pending conflict, if one is pending.
  std::optional<std::vector<std::string>> pending_conflicts(const Workspace& ws) const;
  /// Whether `target` (default: the workspace's target) already has the
  /// branch's work: tend recorded a completed merge of the branch's current
  /// head into it, or the branch's head is in its history, or it has every
  /// file the branch changed as the branch has it. Squash-merged work counts
  /// as merged, and so does work merged and later overwritten in the target
  /// (by a conflict resolved against it).
  bool is_merged(const Workspace& ws, const std::string& target = "") const;

  // --- Lifecycle -------------------------------------------------------------

  /// Removes the worktree, the branch and tend's records of it. Unless
  /// `force`, refuses (unsafe_removal) when it holds uncommitted or unmerged work.
  void remove(const Workspace& ws, bool force = false);
  /// Removes every workspace that is safe to remove and not `in_use`.
  GcResult gc(const std::function<bool(const std::string& id)>& in_use = {});

 private:
  struct Step;
  struct Pending;
  Step merge_step(const std::string& ours, const std::string& theirs, const std::map<std::string, Side>& resolutions) const;
  MergeResult run_merge(const Workspace& ws, const std::string& target, MergeStrategy strategy,
                        const std::string& message, const std::map<std::string, Side>& resolutions);
  // run_merge's steps; each that computes a new head returns it, or "" when
  // there is none (conflicts or nothing new, said in `result`).
  std::string fast_forward_head(const Workspace& ws, const std::string& target, const std::string& target_head,
                                const std::string& branch_commit) const;
  std::string commit_merged_tree(MergeStrategy strategy, const std::string& target_head,
                                 const std::string& branch_commit, const std::string& subject,
                                 const std::map<std::string, Side>& resolutions, MergeResult& result) const;
  std::string replay_commits(const std::string& target_head, const std::string& branch_commit,
                             const std::map<std::string, Side>& resolutions, MergeResult& result) const;
  /// Keeps a conflicted merge for resolve().
  void keep_pending(const Workspace& ws, const std::string& target, MergeStrategy strategy, const std::string& message,
                    const std::map<std::string, Side>& resolutions, const std::vector<std::string>& conflicts);
  /// Moves the target branch to `new_head` (through its worktree when it is checked out).
  void move_target(const std::string& target, const std::string& target_head, const std::string& new_head,
                   const std::string& subject, MergeResult& result);
  /// Notes the merge in the branch's config, so is_merged() knows it later.
  void record_merged(const Workspace& ws, const std::string& target, const std::string& branch_commit);
  std::string branch_head(const std::string& branch) const;
  std::string tree_of(const std::string& commit) const;
  std::optional<std::filesystem::path> checked_out_at(const std::string& branch) const;
  std::string config_get(const std::string& key) const;
  std::vector<std::pair<std::string, std::string>> identity() const;

  Git git_;
  std::filesystem::path repo_;
  std::filesystem::path root_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex repo_mutex_;  // refs, config and the worktree list of the shared repository
  std::map<std::string, std::shared_ptr<Pending>> pending_;
  mutable std::once_flag identity_once_;
  mutable std::vector<std::pair<std::string, std::string>> identity_;
};

}  // namespace tend::agents
