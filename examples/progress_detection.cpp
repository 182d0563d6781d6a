// Progress detection: a ProgressMonitor per task. Only lines that match the
// progress pattern count, so a spinner that prints forever is still caught;
// code can also record activity itself.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  ProgressMonitor monitor(200ms);  // the seed's class, on its own
  monitor.record_activity();
  fmt::print("monitor: stalled right after activity? {}\n", monitor.is_stalled());

  Supervisor sup;
  auto spec = TaskSpec::shell(
      "for i in 1 2 3; do echo \"step $i\"; sleep 0.1; done; while :; do echo spinning; sleep 0.05; done");
  spec.progress_pattern = "^step [0-9]+";
  spec.idle_timeout = 600ms;
  spec.idle_policy = IdlePolicy::stop;
  auto task = sup.run(spec);
  auto status = sup.wait(task, 10s);
  fmt::print("a task that only spins after step 3: {} ({})\n", to_string(status->state), status->reason);
  return status->state == TaskState::stalled ? 0 : 1;
}
