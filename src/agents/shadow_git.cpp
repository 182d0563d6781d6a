#include "tend/agents/shadow_git.hpp"

#include <fmt/format.h>

#include <sstream>
#include <system_error>

#include "shadow_git_internal.hpp"

namespace tend::agents {

namespace fs = std::filesystem;

namespace {

std::string base_ref(const std::string& id) { return "refs/tend/base/" + id; }
std::string config_key(const std::string& branch, const char* name) { return fmt::format("branch.{}.{}", branch, name); }

bool valid_id(const std::string& id) {
  if (id.empty() || id.size() > 64 || id.front() == '.' || id.front() == '-') return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return id.find("..") == std::string::npos;
}

// The path of `file` inside the repository, or an error that says in words
// why copy_files will not copy it.
fs::path copy_source(const fs::path& repo, const std::string& file) {
  auto refuse = [&file](const std::string& why) {
    throw std::invalid_argument(fmt::format("cannot copy \"{}\": {}", file, why));
  };
  if (file.empty()) refuse("an empty path names no file");
  const fs::path given(file);
  if (given.is_absolute()) refuse("it is an absolute path; name a file by its path in the repository (.env, config/local.yml)");
  fs::path relative = given.lexically_normal();
  if (!relative.empty() && relative.filename().empty()) relative = relative.parent_path();  // "dir/"
  if (relative.empty() || relative == ".") refuse("that is the whole repository; name files or directories in it");
  if (*relative.begin() == "..") refuse(fmt::format("it is outside the repository {}", repo.string()));
  for (const fs::path& part : relative) {
    if (part == ".git") {
      refuse(".git is git's own, not a file of the repository (in the agent's worktree .git is the file that links "
             "it to the repository)");
    }
  }
  std::error_code ec;
  const fs::path from = repo / relative;
  if (!fs::exists(fs::symlink_status(from, ec))) refuse(fmt::format("no such file or directory in {}", repo.string()));
  // A directory on the way may be a symbolic link to somewhere else.
  const fs::path real_parent = fs::weakly_canonical(from.parent_path(), ec);
  const fs::path real_repo = fs::weakly_canonical(repo, ec);
  const fs::path inside = real_parent.lexically_relative(real_repo);
  if (ec || inside.empty() || *inside.begin() == "..") {
    refuse(fmt::format("it leads out of the repository {} through a symbolic link", repo.string()));
  }
  return relative;
}

}  // namespace

std::optional<MergeStrategy> parse_merge_strategy(std::string_view text) {
  if (text == "squash") return MergeStrategy::squash;
  if (text == "merge") return MergeStrategy::merge;
  if (text == "rebase") return MergeStrategy::rebase;
  if (text == "ff" || text == "fast-forward") return MergeStrategy::fast_forward;
  return std::nullopt;
}

const char* merge_strategy_name(MergeStrategy strategy) {
  switch (strategy) {
    case MergeStrategy::squash: return "squash";
    case MergeStrategy::merge: return "merge";
    case MergeStrategy::rebase: return "rebase";
    case MergeStrategy::fast_forward: return "ff";
  }
  return "?";
}

fs::path ShadowGit::repository_of(const fs::path& dir, std::chrono::milliseconds git_timeout) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw ShadowGitError(ShadowGitError::Kind::no_repository, fmt::format("{} is not a directory", dir.string()));
  }
  try {
    // The main worktree, also when `dir` is inside a linked worktree.
    return fs::path(Git(dir, git_timeout).line({"rev-parse", "--path-format=absolute", "--git-common-dir"})).parent_path();
  } catch (const GitError& e) {
    throw ShadowGitError(ShadowGitError::Kind::no_repository,
                         fmt::format("{} is not in a git repository: {}", dir.string(), e.git_message()));
  }
}

ShadowGit::ShadowGit(const fs::path& dir, fs::path worktrees_root, std::chrono::milliseconds git_timeout)
    : git_(repository_of(dir, git_timeout), git_timeout),
      repo_(git_.dir()),
      root_(std::move(worktrees_root)),
      timeout_(git_timeout) {}

std::string ShadowGit::current_branch() const {
  GitOutput out = git_.run({"symbolic-ref", "--quiet", "--short", "HEAD"}, {.input = {}, .env = {}, .ok_codes = {0, 1}});
  if (out.exit_code != 0) {
    throw ShadowGitError(ShadowGitError::Kind::unknown_branch,
                         fmt::format("{} has a detached HEAD: name a base branch", repo_.string()));
  }
  return trim_right(out.out);
}

std::string ShadowGit::branch_head(const std::string& branch) const {
  require_branch(branch);
  return git_.line({"rev-parse", "refs/heads/" + branch + "^{commit}"});
}

void ShadowGit::require_branch(const std::string& branch) const {
  // Only a ref name that exists under refs/heads: rev-parse would also take
  // `main~1`, and `refs/heads/../etc` is no branch at all.
  const std::string ref = "refs/heads/" + branch;
  if (!branch.empty() && git_.test({"check-ref-format", ref}) && git_.test({"show-ref", "--verify", "--quiet", ref})) {
    return;
  }
  std::istringstream in(git_.run({"for-each-ref", "--format=%(refname:short)", "refs/heads/"}).out);
  std::vector<std::string> branches;
  for (std::string name; std::getline(in, name);) {
    if (name.rfind("tend/", 0) != 0) branches.push_back(name);
  }
  std::string listed;
  for (std::size_t i = 0; i < branches.size() && i < 10; ++i) listed += (i ? ", " : "") + branches[i];
  if (branches.size() > 10) listed += fmt::format(" and {} more", branches.size() - 10);
  throw ShadowGitError(ShadowGitError::Kind::unknown_branch,
                       fmt::format("\"{}\" is not a local branch of {} (a commit, tag or remote branch will not do: "
                                   "name a branch; local branches: {})",
                                   branch, repo_.string(), listed.empty() ? "none" : listed));
}

std::string ShadowGit::tree_of(const std::string& commit) const { return git_.line({"rev-parse", commit + "^{tree}"}); }

std::string ShadowGit::config_get(const std::string& key) const {
  GitOutput out = git_.run({"config", "--get", key}, {.input = {}, .env = {}, .ok_codes = {0, 1}});
  return trim_right(out.out);
}

std::vector<std::pair<std::string, std::string>> ShadowGit::identity() const {
  // Commits need an author; a repository without one gets tend's.
  std::call_once(identity_once_, [this] {
    if (config_get("user.name").empty()) {
      identity_.emplace_back("GIT_AUTHOR_NAME", "tend");
      identity_.emplace_back("GIT_COMMITTER_NAME", "tend");
    }
    if (config_get("user.email").empty()) {
      identity_.emplace_back("GIT_AUTHOR_EMAIL", "tend@localhost");
      identity_.emplace_back("GIT_COMMITTER_EMAIL", "tend@localhost");
    }
  });
  return identity_;
}

std::optional<fs::path> ShadowGit::checked_out_at(const std::string& branch) const {
  std::istringstream in(git_.run({"worktree", "list", "--porcelain"}).out);
  std::string line;
  fs::path current;
  while (std::getline(in, line)) {
    if (line.rfind("worktree ", 0) == 0) current = line.substr(9);
    if (line == "branch refs/heads/" + branch) return current;
  }
  return std::nullopt;
}

Workspace ShadowGit::create(const std::string& id, const std::string& base) {
  if (!valid_id(id)) {
    throw ShadowGitError(ShadowGitError::Kind::no_workspace,
                         fmt::format("\"{}\" cannot name a workspace (letters, digits, '-', '_', '.')", id));
  }
  std::string base_branch = base.empty() ? current_branch() : base;
  Workspace ws;
  ws.id = id;
  ws.branch = "tend/" + id;
  ws.path = root_ / id;
  ws.base_branch = base_branch;
  ws.target_branch = base_branch;

  std::lock_guard lock(repo_mutex_);
  ws.base_commit = branch_head(base_branch);
  if (git_.test({"show-ref", "--verify", "--quiet", "refs/heads/" + ws.branch})) {
    throw ShadowGitError(ShadowGitError::Kind::workspace_exists, fmt::format("branch {} already exists", ws.branch));
  }
  std::error_code ec;
  if (fs::exists(ws.path, ec)) {
    throw ShadowGitError(ShadowGitError::Kind::workspace_exists,
                         fmt::format("{} already exists", ws.path.string()));
  }
  fs::create_directories(root_);
  git_.run({"worktree", "add", "--quiet", "-b", ws.branch, ws.path.string(), ws.base_commit});
  git_.run({"update-ref", base_ref(id), ws.base_commit});
  git_.run({"config", config_key(ws.branch, "tend-base"), base_branch});
  return ws;
}

std::optional<Workspace> ShadowGit::find(const std::string& id) const {
  if (!valid_id(id)) return std::nullopt;
  Workspace ws;
  ws.id = id;
  ws.branch = "tend/" + id;
  if (!git_.test({"show-ref", "--verify", "--quiet", "refs/heads/" + ws.branch})) return std::nullopt;
  ws.path = root_ / id;
  ws.base_branch = config_get(config_key(ws.branch, "tend-base"));
  ws.target_branch = config_get(config_key(ws.branch, "tend-target"));
  if (ws.target_branch.empty()) ws.target_branch = ws.base_branch;
  GitOutput base = git_.run({"rev-parse", "--verify", "--quiet", base_ref(id)}, {.input = {}, .env = {}, .ok_codes = {0, 1}});
  ws.base_commit = trim_right(base.out);
  if (ws.base_commit.empty()) ws.base_commit = git_.line({"rev-parse", ws.branch});
  return ws;
}

Workspace ShadowGit::get(const std::string& id) const {
  if (auto ws = find(id)) return *ws;
  throw ShadowGitError(ShadowGitError::Kind::no_workspace, fmt::format("no workspace \"{}\" in {}", id, repo_.string()));
}

std::vector<Workspace> ShadowGit::list() const {
  std::istringstream in(git_.run({"for-each-ref", "--format=%(refname)", "refs/heads/tend/"}).out);
  std::vector<Workspace> out;
  std::string ref;
  while (std::getline(in, ref)) {
    if (auto ws = find(ref.substr(std::string("refs/heads/tend/").size()))) out.push_back(*ws);
  }
  return out;
}

void ShadowGit::check_copy_files(const std::vector<std::string>& files) const {
  for (const std::string& file : files) copy_source(repo_, file);
}

void ShadowGit::copy_files(const Workspace& ws, const std::vector<std::string>& files) const {
  check_copy_files(files);
  for (const std::string& file : files) {
    const fs::path relative = copy_source(repo_, file);
    const fs::path to = ws.path / relative;
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (!ec) {
      fs::copy(repo_ / relative, to,
               fs::copy_options::recursive | fs::copy_options::overwrite_existing | fs::copy_options::copy_symlinks, ec);
    }
    if (ec) throw std::runtime_error(fmt::format("cannot copy \"{}\" into {}: {}", file, ws.path.string(), ec.message()));
  }
}

std::string ShadowGit::commit(const Workspace& ws, const std::string& message) const {
  Git in_tree(ws.path, timeout_);
  in_tree.run({"add", "-A"});
  if (in_tree.test({"diff", "--cached", "--quiet"})) {
    throw ShadowGitError(ShadowGitError::Kind::nothing_to_commit, fmt::format("nothing to commit in {}", ws.branch));
  }
  in_tree.run({"commit", "--quiet", "--no-verify", "-m", message.empty() ? "tend: work on " + ws.id : message},
              {.input = {}, .env = identity(), .ok_codes = {0}});
  return in_tree.line({"rev-parse", "HEAD"});
}

bool ShadowGit::has_uncommitted(const Workspace& ws) const {
  std::error_code ec;
  if (!fs::exists(ws.path, ec)) return false;
  return !Git(ws.path, timeout_).run({"status", "--porcelain"}).out.empty();
}

std::string ShadowGit::head(const Workspace& ws) const { return git_.line({"rev-parse", "refs/heads/" + ws.branch}); }

std::string ShadowGit::diff(const Workspace& ws, bool stat) const {
  std::error_code ec;
  std::vector<std::string> args = {"diff", "--no-color"};
  if (stat) args.push_back("--stat");
  if (fs::exists(ws.path, ec)) {
    // Against the working tree, so uncommitted changes show too.
    args.push_back(ws.base_commit);
    return Git(ws.path, timeout_).run(args).out;
  }
  args.push_back(ws.base_commit);
  args.push_back("refs/heads/" + ws.branch);
  return git_.run(args).out;
}

void ShadowGit::rollback(const Workspace& ws, unsigned n) const {
  rollback_to(ws, fmt::format("{}~{}", head(ws), n));
}

void ShadowGit::rollback_to(const Workspace& ws, const std::string& commit) const {
  Git in_tree(ws.path, timeout_);
  GitOutput out = in_tree.run({"rev-parse", "--verify", "--quiet", commit + "^{commit}"}, {.input = {}, .env = {}, .ok_codes = {0, 1}});
  if (out.exit_code != 0) throw std::invalid_argument(fmt::format("cannot roll {} back to {}: no such commit", ws.branch, commit));
  in_tree.run({"reset", "--quiet", "--hard", trim_right(out.out)});
  in_tree.run({"clean", "-fdq"});
}

void ShadowGit::remove(const Workspace& ws, bool force) {
  if (!force) {
    if (has_uncommitted(ws)) {
      throw ShadowGitError(ShadowGitError::Kind::unsafe_removal,
                           fmt::format("{} has uncommitted changes in {} (commit them, or force)", ws.branch,
                                       ws.path.string()));
    }
    if (!is_merged(ws)) {
      throw ShadowGitError(ShadowGitError::Kind::unsafe_removal,
                           fmt::format("{} has work not merged into {} (merge it, or force)", ws.branch,
                                       ws.target_branch));
    }
  }
  std::lock_guard lock(repo_mutex_);
  std::error_code ec;
  if (fs::exists(ws.path, ec)) git_.run({"worktree", "remove", "--force", "--force", ws.path.string()});
  git_.run({"worktree", "prune"});
  git_.run({"branch", "--quiet", "-D", ws.branch}, {.input = {}, .env = {}, .ok_codes = {0, 1}});
  git_.run({"update-ref", "-d", base_ref(ws.id)});
  git_.run({"config", "--remove-section", "branch." + ws.branch}, {.input = {}, .env = {}, .ok_codes = {0, 1, 128}});
  pending_.erase(ws.id);
}

GcResult ShadowGit::gc(const std::function<bool(const std::string& id)>& in_use) {
  GcResult result;
  for (const Workspace& ws : list()) {
    if (in_use && in_use(ws.id)) {
      result.kept.push_back({ws.id, "its worker is running"});
      continue;
    }
    try {
      remove(ws, false);
      result.removed.push_back(ws.id);
    } catch (const ShadowGitError& e) {
      result.kept.push_back({ws.id, e.what()});
    }
  }
  std::lock_guard lock(repo_mutex_);
  git_.run({"worktree", "prune"});
  return result;
}

}  // namespace tend::agents
