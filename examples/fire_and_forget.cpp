// Fire and forget: start work, carry on, look at it later (or never).
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;

int main() {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell("sleep 0.5; echo 'report written'"));
  fmt::print("started task {} and went on with other work\n", task->id());

  int units = 0;
  while (!sup.poll(task)) {
    ++units;  // the main work; here, a wait of 100 ms that never stops the task
    sup.wait(task, std::chrono::milliseconds(100));
  }
  auto status = *sup.poll(task);
  fmt::print("did {} units of main work meanwhile; the task {}: {}\n", units, to_string(status.state), status.reason);
  fmt::print("its output: {}", task->output().read(0).data);
  return status.state == TaskState::succeeded ? 0 : 1;
}
