// Hang detection by output: no output for the idle timeout means stalled.
// Under `warn` that is an event; under `stop` the task is stopped and ends
// `stalled`.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  Supervisor sup;
  auto sub = sup.subscribe([](const Event& e) {
    if (e.kind == Event::Kind::stalled) fmt::print("event: task {} stalled ({})\n", e.task->id(), e.status.reason);
  });
  auto spec = TaskSpec::shell("echo 'connecting...'; sleep 30");  // a hang after one line
  spec.idle_timeout = 500ms;
  spec.idle_policy = IdlePolicy::warn;
  auto warned = sup.run(spec);
  spec.idle_policy = IdlePolicy::stop;
  auto stopped = sup.run(spec);
  auto status = sup.wait(stopped, 10s);
  fmt::print("under warn: {}; under stop: {} ({})\n", to_string(warned->state()), to_string(status->state),
             status->reason);
  sup.stop_and_wait(warned);
  return status->state == TaskState::stalled ? 0 : 1;
}
