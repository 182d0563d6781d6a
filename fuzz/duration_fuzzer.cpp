// Durations come from users (--timeout 1h30m) and clients: parsing must
// never crash, and what is printed (rounded for people: 3 significant digits
// under a minute, whole seconds above) must parse back to nearly the value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tend/core/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = tend::parse_duration(text);
  if (!parsed) return 0;
  if (parsed->count() < 0) __builtin_trap();
  auto again = tend::parse_duration(tend::format_duration(*parsed));
  if (!again) __builtin_trap();
  const long long ms = parsed->count();
  const long long off = std::llabs(again->count() - ms);
  const long long allowed = ms >= 60'000 ? 999 : ms / 200 + 1;
  if (off > allowed) __builtin_trap();
  return 0;
}
