// Waiting for any: the first of several to finish; the others keep running.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  Supervisor sup;
  std::vector<TaskPtr> tasks = {
      sup.run(TaskSpec::shell("sleep 2; echo slow")),
      sup.run(TaskSpec::shell("sleep 0.3; echo fast")),
      sup.run(TaskSpec::shell("sleep 1; echo medium")),
  };
  auto first = sup.wait_any(tasks, 10s);
  fmt::print("first to finish: task {} (it said: {})", (*first)->id(), (*first)->output().read(0).data);
  for (const auto& t : tasks) fmt::print("  task {} is {}\n", t->id(), to_string(t->state()));
  // Collect the rest as they come, in the order they finish.
  for (const auto& t : sup.wait_all(tasks, 10s)) fmt::print("  finished: task {}\n", t->id());
  return *first == tasks[1] ? 0 : 1;
}
