// Cleanup on exit: everything a Supervisor started dies with it, including
// background children and descendants that double-forked and setsid'd away.
#include <signal.h>

#include <fmt/format.h>

#include <tend/core/supervisor.hpp>
#include <tend/process/process_table.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  const std::string tag = "EXAMPLE_TAG=cleanup-" + std::to_string(::getpid());
  auto count = [&] {
    int n = 0;
    for (const auto& p : process::list_processes()) n += p.state != 'Z' && process::environ_contains(p.pid, tag);
    return n;
  };
  {
    Supervisor sup;
    for (const char* cmd : {"sleep 1000", "sleep 1000 & sleep 1000", "(setsid sleep 1000 &); sleep 1000"}) {
      auto spec = TaskSpec::shell(cmd);
      spec.env = {{"EXAMPLE_TAG", tag.substr(tag.find('=') + 1)}};
      sup.run(spec);
    }
    auto last = sup.tasks().back();
    while (count() < 7) sup.wait(last, 20ms);
    fmt::print("{} processes running under the Supervisor (one of them escaped with setsid)\n", count());
  }  // ~Supervisor: the stop ladder, to every group and every escapee
  fmt::print("after the Supervisor is gone: {} left\n", count());
  return count() == 0 ? 0 : 1;
}
