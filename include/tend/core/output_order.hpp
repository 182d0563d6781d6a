#pragma once
// The order in which a task's stdout and stderr were seen, so both can be
// shown as one stream while each stays byte-exact in its own log.
//
// A *run* is a stretch of one stream seen with nothing from the other in
// between. The order keeps where each run starts (its stream and its cursor
// in that stream); a run ends where the next run of the same stream starts,
// or at the stream's end. So a task that writes one stream only costs
// nothing, and one that alternates costs 8 bytes per switch. With a file, each
// switch is appended to it (`<id>.order` beside the logs) as it is seen, and
// a later Supervisor reads it back: the merged view survives a restart.
//
// The order is as exact as tend's observations: writes further apart than
// the engine's read latency come out in the order written, writes within one
// burst grouped by stream (stdout first). Past `kMaxRuns` switches no more
// are kept, and later output comes out grouped by stream.
//
// One writer (the engine's executor); readers on any thread.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <vector>

#include "tend/core/output_log.hpp"
#include "tend/process/unique_fd.hpp"

namespace tend {

/// The order in which a task's two streams were seen (see the notes at the top
/// of this file). Not copyable.
class OutputOrder {
 public:
  /// Switches kept at most (about 24 MiB of memory at worst).
  static constexpr std::size_t kMaxRuns = 1 << 20;

  /// A stretch of one stream: the cursors [from, to) of `stream`.
  struct Run {
    /// Which stream, and its cursors [from, to).
    Stream stream = Stream::stdout_stream;
    std::uint64_t from = 0;
    std::uint64_t to = 0;
  };

  /// Where a byte falls in the merged view: compare two to order them.
  struct Position {
    std::size_t run = 0;     ///< the index of its run
    std::uint64_t at = 0;    ///< its cursor in its stream
    /// Earlier run first, then earlier cursor.
    auto operator<=>(const Position&) const = default;
  };

  /// In memory only.
  OutputOrder() = default;
  /// Kept in `file`, and read back from it when it exists; `stdout_size` and
  /// `stderr_size` are the streams' sizes so far (for output seen before any
  /// switch was written down).
  OutputOrder(std::filesystem::path file, std::uint64_t stdout_size, std::uint64_t stderr_size);
  OutputOrder(const OutputOrder&) = delete;
  OutputOrder& operator=(const OutputOrder&) = delete;

  /// The writer saw bytes of `stream` starting at cursor `at`; `other_size`
  /// is how much the other stream holds by now.
  void observe(Stream stream, std::uint64_t at, std::uint64_t other_size);
  /// No more output comes: releases the file's descriptor.
  void close();

  /// The runs that hold the bytes from `stdout_from` and `stderr_from` on, in
  /// the order seen, cut to those cursors and to the streams' `sizes`; at
  /// most `max_runs` of them.
  std::vector<Run> runs_from(std::uint64_t stdout_from, std::uint64_t stderr_from, std::uint64_t stdout_size,
                             std::uint64_t stderr_size, std::size_t max_runs = SIZE_MAX) const;
  /// Where the byte at cursor `at` of `stream` falls in the merged view.
  Position position(Stream stream, std::uint64_t at) const;
  /// How many switches were seen (runs kept).
  std::size_t size() const;
  /// Its file (empty: memory only).
  const std::filesystem::path& file() const { return file_; }

 private:
  struct Start {
    Stream stream;
    std::uint64_t from;
  };
  void load(std::uint64_t stdout_size, std::uint64_t stderr_size);
  void append_record(const Start& start);
  /// The index (into starts_) of the run of `stream` that holds cursor `at`,
  /// or of the first run after it; starts_.size() when there is none.
  std::size_t run_holding_locked(Stream stream, std::uint64_t at) const;
  /// Where the run at `index` ends, given the streams' sizes.
  std::uint64_t end_of_locked(std::size_t index, std::uint64_t stdout_size, std::uint64_t stderr_size) const;

  std::filesystem::path file_;
  mutable std::mutex mutex_;
  std::vector<Start> starts_;
  /// Per stream, the indices into starts_ of its runs, in order.
  std::vector<std::uint32_t> by_stream_[2];
  std::optional<Stream> last_;
  process::UniqueFd fd_;  ///< the file, open while the writer writes (writer only)
  bool write_failed_ = false;
};

}  // namespace tend
