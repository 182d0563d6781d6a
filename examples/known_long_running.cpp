// Known long-running commands: servers are silent and endless on purpose, so
// the policy gives them no wall or idle timeout; they are started, checked
// for readiness, and stopped when no longer needed.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  auto policy = CommandPolicy::standard();
  for (const char* cmd : {"npm run dev", "python3 -m http.server 8000", "uvicorn app:app", "make -j8", "ls -la"}) {
    auto d = policy.defaults_for(cmd);
    fmt::print("{:<28} {:<13} wall {:<6} idle {}\n", cmd, to_string(policy.classify(cmd)),
               d.wall ? format_duration(*d.wall) : "none", d.idle ? format_duration(*d.idle) : "none");
  }
  Supervisor sup;
  auto spec = TaskSpec::shell("exec python3 -m http.server --bind 127.0.0.1 $PORT");
  spec.allocate_port = true;  // a free port in $PORT: two servers never collide
  spec.ready.port = 0;        // ready once that port accepts
  auto server = sup.run(spec);
  sup.wait_ready(server, 20s);
  fmt::print("http.server is ready on port {}; it has no timeout and keeps running: {}\n", *server->status().port,
             to_string(server->state()));
  auto status = sup.stop_and_wait(server);
  fmt::print("stopped when done: {} ({})\n", to_string(status.state), status.reason);
  return 0;
}
