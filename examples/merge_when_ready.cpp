// Fire-and-forget agents, merged as they complete: the main work never
// blocks on the whole set; stragglers are merged when they are done (or
// cancelled at the end, their branches kept).
#include <fmt/format.h>

#include <atomic>
#include <thread>

#include <tend/agents/manager.hpp>

#include "support/demo_repo.hpp"

using namespace tend;
using namespace tend::agents;

int main() {
  using namespace std::chrono_literals;
  demo::DemoRepo repo;
  Supervisor sup;
  Manager manager(sup, {.work_dir = repo.work(), .default_repo = repo.repo()});

  std::atomic<int> finished{0};
  auto on_complete = [&](const WorkerResult& r) {
    ++finished;
    fmt::print("  (callback) ticket {} ended: {}\n", r.ticket_id, ticket_status_name(r.status));
  };
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto t = manager.create_ticket({.task = fmt::format("Write notes/{}.md", i)});
    WorkerSpec spec;
    // The third one is slow: a straggler.
    spec.command = {"sh", "-c", fmt::format("sleep {}; mkdir -p notes; echo 'note {}' > notes/{}.md", i == 2 ? 30 : i * 0.2, i, i)};
    manager.spawn_async(t.id, spec, on_complete);
    ids.push_back(t.id);
  }
  fmt::print("started {} agents; the main work goes on\n", ids.size());

  std::vector<std::string> merged;
  for (int round = 0; round < 50 && merged.size() < 2; ++round) {
    std::this_thread::sleep_for(50ms);  // one unit of main work
    for (const auto& id : ids) {
      auto r = manager.get_result(id);  // never blocks
      if (!r || std::find(merged.begin(), merged.end(), id) != merged.end()) continue;
      MergeResult m = manager.merge(id, "main");
      fmt::print("merged ticket {} as soon as it was ready ({})\n", id, m.merged ? "ok" : "conflict");
      merged.push_back(id);
    }
  }
  fmt::print("{} merged; ticket {} is still running: cancel it, keep its branch\n", merged.size(), ids[2]);
  manager.cancel_and_wait(ids[2]);
  fmt::print("ticket {} is {}; callbacks seen: {}\n", ids[2], ticket_status_name(manager.ticket(ids[2])->status),
             finished.load());
  return merged.size() == 2 && finished == 3 ? 0 : 1;
}
