// A long-running terminal: a program on a pseudo-terminal (it sees a tty),
// talked to with send(), its colours stripped for people, its raw bytes kept.
#include <fmt/format.h>

#include <tend/core/supervisor.hpp>
#include <tend/core/terminal_text.hpp>

using namespace tend;
using namespace std::chrono_literals;

int main() {
  Supervisor sup;
  auto repl = sup.run(TaskSpec::terminal_shell("python3 -q -i"));  // an interactive REPL
  sup.send(repl, "print('tty?', __import__('sys').stdout.isatty())\r");
  sup.send(repl, "6 * 7\r");
  sup.send(repl, "exit()\r");
  auto status = sup.wait(repl, 20s);
  fmt::print("--- what the terminal showed (ANSI stripped) ---\n{}\n", strip_ansi(repl->output().read(0).data));
  fmt::print("--- the REPL {} ({})\n", to_string(status->state), status->reason);
  return status->state == TaskState::succeeded ? 0 : 1;
}
