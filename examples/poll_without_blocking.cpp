// Polling without blocking: check on a task between pieces of other work.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell("for i in 1 2 3; do echo step $i; sleep 0.2; done"));
  std::uint64_t cursor = 0;
  int checks = 0;
  while (true) {
    ++checks;
    auto done = sup.poll(task);  // never blocks
    auto chunk = task->output().read(cursor);  // only what is new since the last look
    cursor = chunk.next_cursor;
    if (!chunk.data.empty()) fmt::print("check {}: new output: {}", checks, chunk.data);
    if (done) {
      fmt::print("check {}: finished, {}\n", checks, done->reason);
      return done->state == TaskState::succeeded ? 0 : 1;
    }
    sup.wait(task, 50ms);  // stands for the caller's own work between checks
  }
}
