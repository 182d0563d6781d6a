// The log cursor reader: any mix of appends and reads by cursor (in memory,
// with a ring small enough to drop bytes) must return each byte it still
// holds exactly once and in order, and account for the rest as skipped.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tend/core/output_log.hpp"

namespace {
// A read returns the bytes at its place in the stream, after what it skipped.
void check(const tend::OutputRead& r, std::uint64_t cursor, const std::string& written) {
  if (r.next_cursor != cursor + r.skipped + r.data.size()) __builtin_trap();
  if (r.next_cursor > written.size()) __builtin_trap();
  if (written.compare(cursor + r.skipped, r.data.size(), r.data) != 0) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  tend::OutputLog log({.ring_capacity = static_cast<std::size_t>(data[0]) + 1, .file = {}});
  std::string written;
  std::string seen;
  std::uint64_t cursor = 0;
  std::uint64_t skipped = 0;
  std::size_t at = 1;
  while (at < size) {
    std::uint8_t op = data[at++];
    std::size_t n = std::min<std::size_t>(op >> 2, size - at);
    switch (op & 3) {
      case 0:
      case 1: {
        std::string chunk(reinterpret_cast<const char*>(data + at), n);
        at += n;
        log.append(chunk);
        written += chunk;
        break;
      }
      case 2: {
        tend::OutputRead r = log.read(cursor, n + 1);
        check(r, cursor, written);
        skipped += r.skipped;
        seen += r.data;
        cursor = r.next_cursor;
        break;
      }
      case 3: {
        tend::OutputLines lines = log.read_lines(cursor, n + 1);
        (void)log.tail(n);
        if (lines.next_cursor < cursor) __builtin_trap();
        break;
      }
    }
  }
  log.close();
  for (;;) {
    tend::OutputRead r = log.read(cursor, 1 << 16);
    check(r, cursor, written);
    skipped += r.skipped;
    seen += r.data;
    cursor = r.next_cursor;
    if (r.data.empty()) break;
  }
  // Every byte was read exactly once, or reported as dropped by the ring.
  if (cursor != written.size() || skipped + seen.size() != written.size()) __builtin_trap();
  if (skipped == 0 && seen != written) __builtin_trap();
  return 0;
}
