#pragma once
// A real git repository in a temp dir, for the agents tests.

#include <fstream>
#include <sstream>
#include <string>

#include "support/test_support.hpp"
#include "tend/agents/git.hpp"

namespace tend::test {

class TestRepo {
 public:
  /// A repository on branch `main` with one commit (README and a file per
  /// name in `files`).
  TestRepo() : repo_(dir_.path() / "repo"), git_(repo_) {
    std::filesystem::create_directories(repo_);
    git({"init", "--quiet", "-b", "main"});
    git({"config", "user.name", "Test User"});
    git({"config", "user.email", "test@example.com"});
    write("README.md", "# test repo\n");
    write("shared.txt", "line one\nline two\nline three\n");
    commit_all("initial");
  }

  const std::filesystem::path& path() const { return repo_; }
  const std::filesystem::path& temp() const { return dir_.path(); }

  std::string git(const std::vector<std::string>& args) const { return agents::trim_right(git_.run(args).out); }

  void write(const std::string& file, const std::string& content) const { write_in(repo_, file, content); }
  static void write_in(const std::filesystem::path& dir, const std::string& file, const std::string& content) {
    std::filesystem::create_directories((dir / file).parent_path());
    std::ofstream(dir / file, std::ios::binary) << content;
  }
  static std::string read_in(const std::filesystem::path& dir, const std::string& file) {
    std::ifstream in(dir / file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string commit_all(const std::string& message) const {
    git({"add", "-A"});
    git({"commit", "--quiet", "-m", message});
    return git({"rev-parse", "HEAD"});
  }
  std::string head(const std::string& ref = "HEAD") const { return git({"rev-parse", ref}); }
  /// The file at `ref`.
  std::string show(const std::string& ref, const std::string& file) const { return git({"show", ref + ":" + file}); }
  /// HEAD, the index and the working tree's status, to check nothing touched them.
  std::string user_state() const {
    return git({"symbolic-ref", "HEAD"}) + "|" + head() + "|" + git({"write-tree"}) + "|" +
           git({"status", "--porcelain", "--untracked-files=all"});
  }

 private:
  TempDir dir_;
  std::filesystem::path repo_;
  agents::Git git_;
};

}  // namespace tend::test
