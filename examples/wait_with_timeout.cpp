// Waiting with a timeout: by default the task goes on (a wait never stops a
// task unless asked); with OnTimeout::stop it is stopped, as the seed's
// wait_with_timeout does, and ends timed_out.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  Supervisor sup;
  auto slow = sup.run(TaskSpec::exec({"sleep", "30"}));
  if (!sup.wait(slow, 300ms)) {
    fmt::print("waited 300ms: task {} is still {} (the wait gave up, the task did not)\n", slow->id(),
               to_string(slow->state()));
  }
  auto status = sup.wait(slow, 300ms, OnTimeout::stop);
  fmt::print("waited 300ms more, told to stop on timeout: {} ({})\n", to_string(status->state), status->reason);
  return status->state == TaskState::timed_out ? 0 : 1;
}
