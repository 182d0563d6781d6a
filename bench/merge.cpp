// merge: squash-merging 16 worker branches, one after another, into a branch
// of a repository of 10 000 files, through ShadowGit::merge against the raw
// git commands that do the same (merge-tree --write-tree, commit-tree,
// update-ref). Both run their git through the same runner (agents::Git),
// so the difference is the work ShadowGit adds: its checks and bookkeeping.
// The target branch is checked out nowhere, so no working tree is updated.
//
//   build/bench/merge [--files N] [--branches B] [--small]

#include <fmt/format.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <tend/agents/git.hpp>
#include <tend/agents/shadow_git.hpp>

#include "stats.hpp"

using namespace tend::agents;
using namespace tend::bench;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

// A repository of `files` files in directories of 100, committed on main.
void make_repository(const fs::path& repo, std::size_t files) {
  fs::create_directories(repo);
  Git git(repo);
  git.run({"init", "-q", "-b", "main"});
  git.run({"config", "user.name", "tend bench"});
  git.run({"config", "user.email", "bench@tend.invalid"});
  for (std::size_t i = 0; i < files; ++i)
    write(repo / fmt::format("d{:03}", i / 100) / fmt::format("f{:03}.txt", i % 100), fmt::format("file {}\n", i));
  git.run({"add", "-A"});
  git.run({"commit", "-q", "-m", "start"});
  git.run({"branch", "integration"});
}

}  // namespace

int main(int argc, char** argv) {
  bool small = small_run(argc, argv);
  std::size_t files = std::stoul(flag(argc, argv, "--files", small ? "300" : "10000"));
  std::size_t branches = std::stoul(flag(argc, argv, "--branches", small ? "3" : "16"));

  std::string root_template = (fs::temp_directory_path() / "tend-merge-XXXXXX").string();
  if (!::mkdtemp(root_template.data())) return 1;
  fs::path root = root_template, repo = root / "repo";
  make_repository(repo, files);
  Git git(repo);

  // Each worker changes a file of its own and adds one.
  ShadowGit shadow(repo, root / "worktrees");
  std::vector<Workspace> workers;
  for (std::size_t i = 0; i < branches; ++i) {
    Workspace ws = shadow.create(fmt::format("w{}", i), "main");
    write(ws.path / fmt::format("d{:03}", i % (files / 100 + 1)) / "f000.txt", fmt::format("changed by {}\n", i));
    write(ws.path / fmt::format("new/w{}.txt", i), "new\n");
    shadow.commit(ws, fmt::format("work of {}", i));
    workers.push_back(ws);
  }
  std::string start = git.line({"rev-parse", "refs/heads/integration"});

  auto t0 = clock_type::now();
  bool all_merged = true;
  for (const Workspace& ws : workers) all_merged = shadow.merge(ws, "integration", MergeStrategy::squash).merged && all_merged;
  double shadow_s = seconds_since(t0);
  std::string shadow_tree = git.line({"rev-parse", "refs/heads/integration^{tree}"});

  git.run({"update-ref", "refs/heads/integration", start});
  auto t1 = clock_type::now();
  std::string head = start;
  for (const Workspace& ws : workers) {
    std::string tree = git.line({"merge-tree", "--write-tree", head, ws.branch});
    tree = tree.substr(0, tree.find('\n'));
    std::string commit = git.line({"commit-tree", tree, "-p", head, "-m", "squash " + ws.branch});
    git.run({"update-ref", "refs/heads/integration", commit, head});
    head = commit;
  }
  double raw_s = seconds_since(t1);
  std::string raw_tree = git.line({"rev-parse", "refs/heads/integration^{tree}"});

  fmt::print("### merge: squash-merging {} branches into a repository of {} files\n\n", branches, files);
  fmt::print("| runner | total (ms) | per merge (ms) | vs raw |\n|---|---:|---:|---:|\n");
  fmt::print("| `ShadowGit::merge` | {:.0f} | {:.1f} | {:.2f}x |\n", shadow_s * 1e3,
             shadow_s * 1e3 / static_cast<double>(branches), shadow_s / raw_s);
  fmt::print("| raw git (merge-tree, commit-tree, update-ref) | {:.0f} | {:.1f} | 1.00x |\n", raw_s * 1e3,
             raw_s * 1e3 / static_cast<double>(branches));
  bool same = all_merged && shadow_tree == raw_tree;
  fmt::print("\nboth produced the same tree: {}\n", same ? "yes" : "NO");
  fs::remove_all(root);
  return same ? 0 : 1;
}
