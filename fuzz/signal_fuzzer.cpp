// Signal names and stop ladders ("TERM,5s,KILL") come from users and
// clients: parsing never crashes, a parsed signal is a real one and prints
// back to itself, a parsed ladder ends with KILL and round-trips.
#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tend/process/signals.hpp"
#include "tend/process/stop_ladder.hpp"

using namespace tend::process;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto sig = parse_signal(text)) {
    if (*sig <= 0 || *sig >= NSIG) __builtin_trap();
    auto again = parse_signal(signal_name(*sig));
    if (again && *again != *sig) __builtin_trap();
  }
  if (auto ladder = StopLadder::parse(text)) {
    if (ladder->steps.empty() || ladder->steps.back().signal != SIGKILL) __builtin_trap();
    auto again = StopLadder::parse(ladder->to_string());
    if (!again || again->to_string() != ladder->to_string()) __builtin_trap();
  }
  return 0;
}
