// Parallel workers: each ticket gets its own branch and worktree; the
// workers run at once and are squash-merged back, leaving the user's
// checkout alone until the merge.
#include <fmt/format.h>

#include <tend/agents/manager.hpp>

#include "support/demo_repo.hpp"

using namespace tend;
using namespace tend::agents;

int main() {
  demo::DemoRepo repo;
  Supervisor sup;
  Manager manager(sup, {.work_dir = repo.work(), .default_repo = repo.repo()});

  auto a = manager.create_ticket({.task = "Make the greeting louder", .handles = {"greeting.txt"}});
  auto b = manager.create_ticket({.task = "Switch the config to fast mode", .handles = {"config.ini"}});
  // The "agent" here is a shell script; any coding agent CLI takes its place.
  WorkerSpec loud;
  loud.command = {"sh", "-c", "echo 'HELLO!' > greeting.txt && echo 'greeting is louder' > \"$TEND_RESULT_FILE\""};
  WorkerSpec fast;
  fast.command = {"sh", "-c", "sleep 0.2; echo 'mode = fast' > config.ini"};

  std::vector<WorkerResult> results = manager.delegate_parallel({{a.id, loud}, {b.id, fast}});
  bool ok = true;
  for (const WorkerResult& r : results) {
    fmt::print("ticket {} on {}: {} in {} ms, commit {}\n", r.ticket_id, r.branch, r.success ? "done" : "failed",
               r.duration.count(), r.commit.substr(0, 10));
    MergeResult m = manager.merge(r.ticket_id, "main");
    fmt::print("  squash-merged into main: {}\n", m.merged ? m.commit.substr(0, 10) : "conflict");
    ok = ok && r.success && m.merged;
  }
  fmt::print("main now has greeting '{}' and config '{}'\n", repo.show("main:greeting.txt"), repo.show("main:config.ini"));
  return ok && repo.show("main:greeting.txt") == "HELLO!" ? 0 : 1;
}
