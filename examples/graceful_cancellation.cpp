// Graceful cancellation: SIGTERM, a grace period, then SIGKILL, to the
// whole process group.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  Supervisor sup;
  auto polite = TaskSpec::shell("trap 'echo cleaning up; exit 0' TERM; echo working; while :; do sleep 0.05; done");
  auto stubborn = TaskSpec::shell("trap '' TERM; echo ignoring TERM; while :; do sleep 0.05; done");
  polite.stop = stubborn.stop = StopLadder::standard(500ms);
  auto a = sup.run(polite);
  auto b = sup.run(stubborn);
  sup.wait_ready(a, 5s);  // no readiness conditions: ready once running
  sup.wait(a, 200ms);     // let both print their first line

  auto t0 = std::chrono::steady_clock::now();
  auto sa = sup.stop_and_wait(a);
  auto sb = sup.stop_and_wait(b);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("polite:   {} ({}); it said: {}", to_string(sa.state), sa.reason, a->output().read(0).data);
  fmt::print("stubborn: {} ({}) after the 500ms grace\n", to_string(sb.state), sb.reason);
  fmt::print("both stopped in {} ms\n", ms);
  return sa.signal == std::nullopt && sb.signal == SIGKILL ? 0 : 1;
}
