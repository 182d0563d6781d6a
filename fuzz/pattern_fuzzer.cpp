// User-given patterns (grep, ready, progress) against long subjects, as the
// daemon meets them: any bytes as a pattern either compile or are refused
// with a PatternError naming them; a compiled one searches a subject of
// hundreds of kilobytes (the input's tail, repeated) without crashing,
// recursing or taking more than linear time.
//
// Input: two bytes of pattern length (little-endian), the pattern, then the
// seed of the subject.
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tend/core/pattern.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t length = std::min<std::size_t>(data[0] | (data[1] << 8), bytes.size());
  const std::string_view text = bytes.substr(0, length);
  const std::string_view seed = bytes.substr(length);
  std::optional<tend::Pattern> pattern;
  try {
    pattern.emplace(text);
  } catch (const tend::PatternError& e) {
    if (std::string_view(e.what()).find("pattern \"") != 0 || e.reason().empty()) __builtin_trap();
    return 0;
  }
  if (text.size() > tend::Pattern::max_length) __builtin_trap();  // over the limit, yet compiled
  std::string subject;
  if (!seed.empty()) {
    subject.reserve(256 * 1024 + seed.size());
    while (subject.size() < 256 * 1024) subject += seed;
  }
  const bool whole = pattern->search(subject);
  // Whatever matches in a part of the subject matches in all of it.
  if (!whole && pattern->search(seed) && seed.find('\n') == std::string_view::npos && !text.empty() &&
      text.find_first_of("^$\\") == std::string_view::npos) {
    __builtin_trap();
  }
  return 0;
}
