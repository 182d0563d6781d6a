#pragma once
// A throwaway git repository for the agent examples, removed at exit.

#include <filesystem>
#include <fstream>
#include <random>

#include <tend/agents/git.hpp>

namespace demo {

class DemoRepo {
 public:
  DemoRepo() {
    std::random_device rd;
    root_ = std::filesystem::temp_directory_path() / ("tend-example-" + std::to_string(rd()));
    std::filesystem::create_directories(root_ / "repo");
    tend::agents::Git git(root_ / "repo");
    git.run({"init", "--quiet", "-b", "main"});
    git.run({"config", "user.name", "Example"});
    git.run({"config", "user.email", "example@tend.invalid"});
    std::ofstream(root_ / "repo" / "greeting.txt") << "hello\n";
    std::ofstream(root_ / "repo" / "config.ini") << "mode = slow\n";
    git.run({"add", "-A"});
    git.run({"commit", "--quiet", "-m", "initial"});
  }
  ~DemoRepo() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  std::filesystem::path repo() const { return root_ / "repo"; }
  std::filesystem::path work() const { return root_ / "work"; }
  std::string show(const std::string& spec) const {
    return tend::agents::Git(repo()).line({"show", spec});
  }

 private:
  std::filesystem::path root_;
};

}  // namespace demo
