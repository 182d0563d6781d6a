#pragma once
// Views of a task's output: both streams in the order tend saw them (or one
// of them), from a pair of cursors, its last lines, or the lines matching a
// pattern. A view is a list of parts, each a range of one stream's cursors,
// so a reader can copy the bytes straight from the log files (`tend logs`
// does) or have them read for it (read_parts).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tend/core/task.hpp"

namespace tend {

/// Which streams a view shows.
struct StreamChoice {
  bool out = true;  ///< stdout
  bool err = true;  ///< stderr
  /// Only `s`.
  static StreamChoice only(Stream s) { return {s == Stream::stdout_stream, s == Stream::stderr_stream}; }
};

/// One cursor per stream.
struct OutputCursors {
  std::uint64_t out = 0;  ///< stdout's
  std::uint64_t err = 0;  ///< stderr's
  /// The cursor of `s`.
  std::uint64_t& of(Stream s) { return s == Stream::stdout_stream ? out : err; }
  /// The cursor of `s`.
  std::uint64_t of(Stream s) const { return s == Stream::stdout_stream ? out : err; }
};

/// `size` bytes of `stream` from cursor `at`.
struct OutputPart {
  /// Which stream, the cursor it starts at, and how many bytes.
  Stream stream = Stream::stdout_stream;
  std::uint64_t at = 0;
  std::uint64_t size = 0;
  /// Bytes that are not there: left out by the log's size cap (or, without a
  /// log file, no longer in memory). They count in the cursors, not in data.
  bool dropped = false;
};

/// A view: what view_from, view_last_lines and view_matching give.
struct OutputSlice {
  std::vector<OutputPart> parts;  ///< in the order seen
  OutputCursors next;             ///< where a view from here goes on
  bool eof = false;               ///< the task has ended and `next` is the end of the streams shown
  /// Bytes the parts hold (dropped parts not counted).
  std::uint64_t bytes() const;
};

/// The output from `from` on, in the order seen: at most `max_bytes` bytes
/// (dropped ranges not counted) in at most `max_parts` parts.
OutputSlice view_from(const Task& task, StreamChoice which, OutputCursors from, std::uint64_t max_bytes,
                      std::size_t max_parts = SIZE_MAX);

/// The last `n` lines of the chosen streams, in the order they were
/// completed (an unterminated last line counts, and comes last of its stream).
OutputSlice view_last_lines(const Task& task, StreamChoice which, std::size_t n);

/// Says whether a line (without its '\n') is wanted.
using LineFilter = std::function<bool(std::string_view line)>;

/// The lines from `from` on that `filter` wants, in the order completed; a
/// final unterminated line only once the task has ended. `next` is past the
/// last complete line looked at. Stops after `max_bytes` of matches. A line
/// longer than 1 MiB is looked at in pieces of 1 MiB. With `keep_last`, only
/// the last that many matches.
OutputSlice view_matching(const Task& task, StreamChoice which, OutputCursors from, const LineFilter& filter,
                          std::uint64_t max_bytes, std::size_t keep_last = SIZE_MAX);

/// The bytes of `parts`, one after the other (dropped parts hold none).
/// Bytes the size cap dropped since the parts were taken are left out, and
/// `parts` says so (they become dropped parts), so parts and bytes agree.
std::string read_parts(const Task& task, std::vector<OutputPart>& parts);

}  // namespace tend
