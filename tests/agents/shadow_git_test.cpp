#include "tend/agents/shadow_git.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "support/git_repo.hpp"

namespace tend::agents {
namespace {

using test::TestRepo;

class ShadowGitTest : public ::testing::Test {
 protected:
  TestRepo repo;
  ShadowGit shadow{repo.path(), repo.temp() / "worktrees"};

  // A workspace with `content` written to `file` and committed.
  Workspace worker(const std::string& id, const std::string& file, const std::string& content,
                   const std::string& base = "main") {
    Workspace ws = shadow.create(id, base);
    TestRepo::write_in(ws.path, file, content);
    shadow.commit(ws, "work on " + id);
    return ws;
  }
  std::vector<std::string> parents(const std::string& commit) {
    std::string line = repo.git({"rev-list", "--parents", "-n", "1", commit});
    std::vector<std::string> out;
    std::istringstream in(line);
    std::string word;
    in >> word;
    while (in >> word) out.push_back(word);
    return out;
  }
};

TEST_F(ShadowGitTest, CreateMakesABranchAndWorktreeWithoutTouchingTheUserTree) {
  repo.write("README.md", "edited by the user, not committed\n");
  repo.write("untracked.txt", "mine\n");
  repo.git({"add", "README.md"});
  const std::string before = repo.user_state();

  Workspace ws = shadow.create("7");
  EXPECT_EQ(ws.branch, "tend/7");
  EXPECT_EQ(ws.base_branch, "main");
  EXPECT_EQ(ws.base_commit, repo.head("main"));
  EXPECT_TRUE(std::filesystem::exists(ws.path / "shared.txt"));
  EXPECT_EQ(TestRepo::read_in(ws.path, "README.md"), "# test repo\n");
  EXPECT_EQ(repo.user_state(), before);

  auto found = shadow.find("7");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->base_commit, ws.base_commit);
  EXPECT_EQ(found->path, ws.path);
  EXPECT_EQ(shadow.list().size(), 1u);
}

TEST_F(ShadowGitTest, CreateRefusesAnUnknownBaseOrAnExistingWorkspace) {
  try {
    shadow.create("1", "no-such-branch");
    FAIL();
  } catch (const ShadowGitError& e) {
    EXPECT_EQ(e.kind(), ShadowGitError::Kind::unknown_branch);
    EXPECT_NE(std::string(e.what()).find("no-such-branch"), std::string::npos);
  }
  shadow.create("1");
  try {
    shadow.create("1");
    FAIL();
  } catch (const ShadowGitError& e) {
    EXPECT_EQ(e.kind(), ShadowGitError::Kind::workspace_exists);
  }
  EXPECT_THROW(ShadowGit(repo.temp(), repo.temp() / "w"), ShadowGitError);
}

TEST_F(ShadowGitTest, CommitWithNoChangeIsATypedError) {
  Workspace ws = shadow.create("1");
  try {
    shadow.commit(ws, "nothing");
    FAIL();
  } catch (const ShadowGitError& e) {
    EXPECT_EQ(e.kind(), ShadowGitError::Kind::nothing_to_commit);
  }
}

TEST_F(ShadowGitTest, TwoWorkersOnDifferentFilesBothSquashMergeAndTheUserTreeIsUntouched) {
  repo.git({"checkout", "--quiet", "-b", "feature"});
  repo.write("scratch.txt", "the user's own work in progress\n");
  const std::string before = repo.user_state();

  Workspace a = worker("a", "a.txt", "from a\n");
  Workspace b = worker("b", "b.txt", "from b\n");
  const std::string main_before = repo.head("main");
  MergeResult ra = shadow.merge(a, "main");
  MergeResult rb = shadow.merge(b, "main");

  EXPECT_TRUE(ra.merged);
  EXPECT_TRUE(rb.merged);
  EXPECT_FALSE(ra.updated_worktree);
  EXPECT_EQ(repo.show("main", "a.txt"), "from a");
  EXPECT_EQ(repo.show("main", "b.txt"), "from b");
  EXPECT_EQ(parents(repo.head("main")), std::vector<std::string>{ra.commit});
  EXPECT_EQ(parents(ra.commit), std::vector<std::string>{main_before});
  EXPECT_EQ(repo.user_state(), before);
}

TEST_F(ShadowGitTest, AConflictNamesTheFileLeavesTheTargetAndResolvesToTheirs) {
  Workspace a = worker("a", "shared.txt", "line one\nline two by a\nline three\n");
  Workspace b = worker("b", "shared.txt", "line one\nline two by b\nline three\n");
  ASSERT_TRUE(shadow.merge(a, "main").merged);
  const std::string main_after_a = repo.head("main");

  MergeResult conflicted = shadow.merge(b, "main");
  EXPECT_FALSE(conflicted.merged);
  EXPECT_EQ(conflicted.conflicts, std::vector<std::string>{"shared.txt"});
  EXPECT_EQ(repo.head("main"), main_after_a);
  ASSERT_TRUE(shadow.pending_conflicts(b));

  EXPECT_THROW(shadow.resolve(b, Side::theirs, {"README.md"}), std::invalid_argument);
  MergeResult resolved = shadow.resolve(b, Side::theirs);
  EXPECT_TRUE(resolved.merged);
  EXPECT_EQ(repo.show("main", "shared.txt"), "line one\nline two by b\nline three");
  EXPECT_FALSE(shadow.pending_conflicts(b));
  EXPECT_THROW(shadow.resolve(b, Side::ours), ShadowGitError);
}

TEST_F(ShadowGitTest, ResolvingToOursKeepsTheTargetVersion) {
  Workspace a = worker("a", "shared.txt", "line one\nA\nline three\n");
  Workspace b = worker("b", "shared.txt", "line one\nB\nline three\n");
  TestRepo::write_in(b.path, "other.txt", "more from b\n");
  shadow.commit(b, "more");
  ASSERT_TRUE(shadow.merge(a, "main").merged);
  ASSERT_FALSE(shadow.merge(b, "main").merged);
  MergeResult resolved = shadow.resolve(b, Side::ours, {"shared.txt"});
  EXPECT_TRUE(resolved.merged);
  EXPECT_EQ(repo.show("main", "shared.txt"), "line one\nA\nline three");
  EXPECT_EQ(repo.show("main", "other.txt"), "more from b");
}

TEST_F(ShadowGitTest, MergeStrategyMakesACommitWithTwoParents) {
  Workspace a = worker("a", "a.txt", "a\n");
  repo.write("main-only.txt", "moved on\n");
  const std::string main_head = repo.commit_all("main moves on");
  MergeResult r = shadow.merge(a, "main", MergeStrategy::merge);
  ASSERT_TRUE(r.merged);
  EXPECT_EQ(parents(r.commit), (std::vector<std::string>{main_head, shadow.head(a)}));
  EXPECT_TRUE(r.updated_worktree);  // main is checked out (clean): its tree follows
  EXPECT_EQ(TestRepo::read_in(repo.path(), "a.txt"), "a\n");
}

TEST_F(ShadowGitTest, RebaseStrategyReplaysEachCommitLinearly) {
  Workspace a = shadow.create("a", "main");
  TestRepo::write_in(a.path, "a1.txt", "1\n");
  shadow.commit(a, "first");
  TestRepo::write_in(a.path, "a2.txt", "2\n");
  shadow.commit(a, "second");
  repo.write("main-only.txt", "moved on\n");
  const std::string main_head = repo.commit_all("main moves on");

  MergeResult r = shadow.merge(a, "main", MergeStrategy::rebase);
  ASSERT_TRUE(r.merged);
  std::string second_parent = parents(r.commit).at(0);
  EXPECT_EQ(parents(r.commit).size(), 1u);
  EXPECT_EQ(parents(second_parent), std::vector<std::string>{main_head});
  EXPECT_EQ(repo.git({"log", "-1", "--format=%s|%an", r.commit}), "second|Test User");
  EXPECT_EQ(repo.git({"log", "-1", "--format=%s", second_parent}), "first");
  EXPECT_EQ(repo.show("main", "a1.txt"), "1");
  EXPECT_EQ(repo.show("main", "main-only.txt"), "moved on");
}

TEST_F(ShadowGitTest, FastForwardIsRefusedWhenImpossibleAndMovesTheRefWhenPossible) {
  repo.git({"checkout", "--quiet", "-b", "elsewhere"});
  Workspace a = worker("a", "a.txt", "a\n");
  MergeResult ff = shadow.merge(a, "main", MergeStrategy::fast_forward);
  ASSERT_TRUE(ff.merged);
  EXPECT_EQ(repo.head("main"), shadow.head(a));

  Workspace b = worker("b", "b.txt", "b\n", "elsewhere");
  try {
    shadow.merge(b, "main", MergeStrategy::fast_forward);
    FAIL();
  } catch (const ShadowGitError& e) {
    EXPECT_EQ(e.kind(), ShadowGitError::Kind::not_fast_forward);
  }
  EXPECT_EQ(repo.head("main"), ff.commit);
}

TEST_F(ShadowGitTest, ADirtyCheckedOutTargetIsRefusedAndNotMoved) {
  Workspace a = worker("a", "a.txt", "a\n");
  repo.write("README.md", "uncommitted\n");
  const std::string main_head = repo.head("main");
  try {
    shadow.merge(a, "main");
    FAIL();
  } catch (const ShadowGitError& e) {
    EXPECT_EQ(e.kind(), ShadowGitError::Kind::target_dirty);
    EXPECT_NE(std::string(e.what()).find(repo.path().string()), std::string::npos);
  }
  EXPECT_EQ(repo.head("main"), main_head);
  EXPECT_EQ(TestRepo::read_in(repo.path(), "README.md"), "uncommitted\n");
}

TEST_F(ShadowGitTest, DiffShowsCommittedAndUncommittedWorkAgainstTheBase) {
  Workspace a = worker("a", "a.txt", "a\n");
  TestRepo::write_in(a.path, "README.md", "changed\n");
  std::string diff = shadow.diff(a, false);
  EXPECT_NE(diff.find("+a"), std::string::npos);
  EXPECT_NE(diff.find("+changed"), std::string::npos);
  std::string stat = shadow.diff(a, true);
  EXPECT_NE(stat.find("2 files changed"), std::string::npos) << stat;
}

TEST_F(ShadowGitTest, RollbackDropsCommits) {
  Workspace a = worker("a", "a.txt", "a\n");
  const std::string first = shadow.head(a);
  TestRepo::write_in(a.path, "b.txt", "b\n");
  shadow.commit(a, "second");
  TestRepo::write_in(a.path, "c.txt", "uncommitted\n");
  shadow.rollback(a, 1);
  EXPECT_EQ(shadow.head(a), first);
  EXPECT_FALSE(std::filesystem::exists(a.path / "b.txt"));
  EXPECT_FALSE(std::filesystem::exists(a.path / "c.txt"));
  shadow.rollback_to(a, a.base_commit);
  EXPECT_EQ(shadow.head(a), a.base_commit);
  EXPECT_THROW(shadow.rollback_to(a, "no-such-commit"), std::invalid_argument);
}

TEST_F(ShadowGitTest, CopyFilesBringsIgnoredFilesIntoTheWorkspace) {
  repo.write(".gitignore", ".env\n");
  repo.commit_all("ignore .env");
  repo.write(".env", "SECRET=1\n");
  Workspace a = shadow.create("a");
  shadow.copy_files(a, {".env"});
  EXPECT_EQ(TestRepo::read_in(a.path, ".env"), "SECRET=1\n");
  EXPECT_FALSE(shadow.has_uncommitted(a));  // ignored, as in the user's tree
  EXPECT_THROW(shadow.copy_files(a, {"../outside"}), std::invalid_argument);
  EXPECT_THROW(shadow.copy_files(a, {"missing.txt"}), std::invalid_argument);
}

TEST_F(ShadowGitTest, RemoveRefusesUncommittedOrUnmergedWorkAndGcKeepsIt) {
  Workspace a = worker("a", "a.txt", "a\n");  // committed, not merged
  Workspace b = shadow.create("b");
  TestRepo::write_in(b.path, "b.txt", "uncommitted\n");
  Workspace c = worker("c", "c.txt", "c\n");  // squash-merged below
  Workspace d = shadow.create("d");            // no work at all
  repo.git({"checkout", "--quiet", "-b", "elsewhere"});
  ASSERT_TRUE(shadow.merge(c, "main").merged);

  for (const Workspace* ws : {&a, &b}) {
    try {
      shadow.remove(*ws);
      FAIL() << ws->id;
    } catch (const ShadowGitError& e) {
      EXPECT_EQ(e.kind(), ShadowGitError::Kind::unsafe_removal);
    }
  }
  EXPECT_TRUE(shadow.is_merged(c));
  EXPECT_FALSE(shadow.is_merged(a));

  GcResult gc = shadow.gc();
  std::sort(gc.removed.begin(), gc.removed.end());
  EXPECT_EQ(gc.removed, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(gc.kept.size(), 2u);
  EXPECT_TRUE(shadow.find("a"));
  EXPECT_TRUE(shadow.find("b"));
  EXPECT_FALSE(std::filesystem::exists(c.path));
  EXPECT_EQ(repo.git({"branch", "--list", "tend/c"}), "");

  shadow.remove(a, true);
  EXPECT_FALSE(shadow.find("a"));
  EXPECT_FALSE(std::filesystem::exists(a.path));
}

TEST_F(ShadowGitTest, OnlyALocalBranchIsABaseOrATarget) {
  repo.git({"tag", "v1"});
  repo.git({"update-ref", "refs/remotes/origin/main", "HEAD"});
  repo.write("second.txt", "2\n");
  repo.commit_all("second");
  for (const std::string base : {"main~1", "v1", "origin/main", "../etc", "HEAD", "nosuch"}) {
    try {
      shadow.create("1", base);
      FAIL() << base;
    } catch (const ShadowGitError& e) {
      EXPECT_EQ(e.kind(), ShadowGitError::Kind::unknown_branch) << base;
      EXPECT_NE(std::string(e.what()).find("\"" + base + "\" is not a local branch"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("local branches: main"), std::string::npos) << e.what();
    }
  }
  EXPECT_FALSE(shadow.find("1"));
  Workspace ws = worker("2", "w.txt", "w\n");
  EXPECT_THROW(shadow.merge(ws, "main~1"), ShadowGitError);
  EXPECT_EQ(repo.head("main~1"), repo.head("v1"));  // nothing moved
}

TEST_F(ShadowGitTest, CopyFilesRefusesInWordsWhatItCannotOrMustNotCopy) {
  std::filesystem::create_directories(repo.temp() / "outside");
  TestRepo::write_in(repo.temp() / "outside", "secret.txt", "s\n");
  std::filesystem::create_symlink(repo.temp() / "outside", repo.path() / "link");
  Workspace ws = shadow.create("a");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {".git/config", ".git is git's own"},
      {"sub/../.git", ".git is git's own"},
      {"missing.env", "no such file or directory"},
      {"/etc/passwd", "absolute path"},
      {"../outside/secret.txt", "outside the repository"},
      {".", "the whole repository"},
      {"", "empty path"},
      {"link/secret.txt", "through a symbolic link"},
  };
  for (const auto& [file, why] : refused) {
    for (bool at_copy : {false, true}) {
      try {
        if (at_copy) {
          shadow.copy_files(ws, {file});
        } else {
          shadow.check_copy_files({file});
        }
        FAIL() << file;
      } catch (const std::invalid_argument& e) {
        const std::string message = e.what();
        EXPECT_EQ(message.rfind("cannot copy \"" + file + "\": ", 0), 0u) << message;
        EXPECT_NE(message.find(why), std::string::npos) << message;
      }
    }
  }
  EXPECT_TRUE(std::filesystem::is_regular_file(ws.path / ".git"));  // the worktree's link is intact
  EXPECT_FALSE(shadow.has_uncommitted(ws));
}

TEST_F(ShadowGitTest, AMergedBranchStaysMergedWhenAResolutionOverwritesItsFileUntilItMovesOn) {
  Workspace a = worker("a", "shared.txt", "line one\nA\nline three\n");
  Workspace b = worker("b", "shared.txt", "line one\nB\nline three\n");
  ASSERT_TRUE(shadow.merge(a, "main").merged);
  ASSERT_FALSE(shadow.merge(b, "main").merged);
  ASSERT_TRUE(shadow.resolve(b, Side::theirs).merged);
  EXPECT_EQ(repo.show("main", "shared.txt"), "line one\nB\nline three");
  EXPECT_TRUE(shadow.is_merged(a));  // merged, then overwritten by b's side
  EXPECT_TRUE(shadow.is_merged(b));

  TestRepo::write_in(a.path, "more.txt", "after the merge\n");
  shadow.commit(a, "more work");
  EXPECT_FALSE(shadow.is_merged(a));  // its new head was never merged
  GcResult gc = shadow.gc();
  EXPECT_EQ(gc.removed, (std::vector<std::string>{"b"}));
  ASSERT_EQ(gc.kept.size(), 1u);
  EXPECT_EQ(gc.kept[0].id, "a");
}

TEST_F(ShadowGitTest, ABranchIsMergedWhenTheTargetHasEveryFileItChangedAsItHasIt) {
  Workspace a = worker("a", "a.txt", "a\n");
  EXPECT_FALSE(shadow.is_merged(a));
  repo.write("a.txt", "a\n");  // the same change, made by hand on main
  repo.write("other.txt", "other\n");
  repo.commit_all("by hand");
  EXPECT_TRUE(shadow.is_merged(a));
  repo.write("a.txt", "changed again\n");
  repo.commit_all("a.txt differs now");
  EXPECT_FALSE(shadow.is_merged(a));
}

TEST_F(ShadowGitTest, EightWorkersInParallelHitNoGitLockErrors) {
  repo.git({"checkout", "--quiet", "-b", "elsewhere"});
  std::vector<std::thread> threads;
  std::vector<std::string> errors(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      try {
        std::string id = "w" + std::to_string(i);
        Workspace ws = shadow.create(id, "main");
        for (int j = 0; j < 3; ++j) {
          TestRepo::write_in(ws.path, id + "/" + std::to_string(j) + ".txt", "x\n");
          shadow.commit(ws, "step");
        }
        MergeResult r = shadow.merge(ws, "main");
        if (!r.merged) errors[i] = "conflict";
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) EXPECT_EQ(errors[i], "") << "worker " << i;
  // The path is built in steps: g++ 12 at -O3 misreads `"w" + std::to_string(i) + ...`
  // as an overlapping memcpy (-Wrestrict) and -Werror fails the Release build.
  for (int i = 0; i < 8; ++i) {
    std::string path = "w";
    path += std::to_string(i);
    path += "/2.txt";
    EXPECT_EQ(repo.show("main", path), "x");
  }
}

}  // namespace
}  // namespace tend::agents
