#pragma once
// One output stream of a task, kept for reading by byte cursor.
//
// Bytes go to a memory ring (the tail, for quick reads) and, when a file is
// given, to an append-only file (all of it). A cursor is a byte offset into
// the stream since the task started; a read returns bytes from the cursor and
// the cursor to continue from, so a reader that loops sees every byte exactly
// once, while the task is still writing. Bytes are never interpreted: binary
// output and invalid UTF-8 pass through unharmed. Readers may be on any
// thread; there is one writer.
//
// A size cap (Options::limit) keeps the first `limit - tail` bytes and the
// last `tail`; the bytes between are dropped, and their disk space given back
// by punching a hole in the file (so every kept byte stays at its cursor,
// and a task writing the file itself goes on appending). A read that falls
// in the dropped range says how much it skipped and goes on after it.

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tend/core/pattern.hpp"
#include "tend/process/unique_fd.hpp"

namespace tend {

/// A task's two output streams.
enum class Stream { stdout_stream, stderr_stream };

/// What OutputLog::read gives.
struct OutputRead {
  std::string data;          ///< the bytes from `cursor` on
  std::uint64_t next_cursor; ///< where the next read continues
  /// Bytes between the cursor asked for and the next one still kept: left
  /// out by the size cap, or (without a log file) dropped by the ring. 0 normally.
  std::uint64_t skipped = 0;
  bool eof = false;          ///< the stream is closed and this read reached its end
};

/// What OutputLog::read_lines gives.
struct OutputLines {
  std::vector<std::string> lines;  ///< without their '\n'
  std::uint64_t next_cursor;       ///< after the last line returned
  /// As in OutputRead: bytes passed over in a gap, and the end of a closed stream reached.
  std::uint64_t skipped = 0;
  bool eof = false;
};

/// Bytes a log left out to keep its size cap: the cursors [from, to).
struct DroppedRange {
  std::uint64_t from = 0;  ///< the first byte dropped (the end of the kept head)
  std::uint64_t to = 0;    ///< the first byte kept after them (the start of the tail)
  /// How many bytes were dropped.
  std::uint64_t size() const { return to - from; }
  /// Nothing was dropped.
  bool empty() const { return to <= from; }
};

/// One output stream (see the notes at the top of this file). One writer
/// thread; readers on any thread. Not copyable.
class OutputLog {
 public:
  /// Where the bytes are kept and how many.
  struct Options {
    std::size_t ring_capacity = 1 << 20;  ///< bytes kept in memory
    std::filesystem::path file;           ///< empty: memory only
    /// The size cap: bytes of the stream kept, the first `limit - tail` and
    /// the last `tail`. 0: no cap.
    std::uint64_t limit = 0;
    /// The rolling tail kept past the cap (at most `limit`).
    std::uint64_t tail = 0;
  };

  OutputLog();  ///< memory only, default ring
  /// Creates the file (0600) when there is one, keeping no descriptor; an
  /// existing file's bytes count as written (its cursors go on from its end).
  /// Throws std::system_error when it cannot be created.
  explicit OutputLog(Options options);
  OutputLog(const OutputLog&) = delete;
  OutputLog& operator=(const OutputLog&) = delete;

  /// Appends bytes (the writer). Throws std::system_error when the file
  /// cannot be written; the bytes are kept in memory all the same.
  void append(std::string_view bytes);
  /// Takes note of bytes someone else (the task itself) already appended to
  /// the file: they join the ring and move the cursor, without being written.
  void note_appended(std::string_view bytes);
  /// The same after a gap: the task appended `skipped` bytes nobody read back
  /// (they are in the file only), then `bytes`. The cursor moves past both;
  /// the ring holds only `bytes` (so the file serves anything older).
  void note_appended_after(std::uint64_t skipped, std::string_view bytes);
  /// Bytes kept in memory.
  std::size_t ring_capacity() const { return options_.ring_capacity; }
  /// Marks the end of the stream.
  void close();

  /// Up to `max_bytes` from `cursor`.
  OutputRead read(std::uint64_t cursor, std::size_t max_bytes = 1 << 20) const;
  /// Complete lines from `cursor` (a final unterminated line only once the
  /// stream is closed), at most `max_lines`, optionally only those matching
  /// `filter`. The cursor moves past every line looked at, matching or not.
  OutputLines read_lines(std::uint64_t cursor, std::size_t max_lines = SIZE_MAX,
                         const Pattern* filter = nullptr) const;
  /// The last `max_bytes` bytes.
  std::string tail(std::size_t max_bytes) const;
  /// The last `n` lines (an unterminated last line counts), without their
  /// '\n'; at most the last 64 MiB of them.
  std::vector<std::string> tail_lines(std::size_t n) const;
  /// The cursor where the last `n` lines start (an unterminated last line
  /// counts); never before a gap (the dropped range, or what the ring lost).
  std::uint64_t start_of_last_lines(std::size_t n) const;

  /// Bytes written so far: the cursor after the last byte.
  std::uint64_t size() const;
  /// What the size cap has left out so far (empty while under it).
  DroppedRange dropped() const;
  /// The first cursor whose byte can still be read: 0, or (without a file)
  /// the oldest byte in the ring.
  std::uint64_t first_readable() const;
  /// Gives back the disk space of dropped bytes in the log file open for
  /// writing as `fd` (ours, or the task's own): punches a hole where they
  /// were, once at least `batch` bytes more are dropped, so the file's sizes
  /// and offsets stay as they were. False when the file system cannot punch
  /// holes (the bytes are still never served; the disk is not freed).
  bool release_dropped(int fd, std::uint64_t batch = 1 << 20);
  /// Whether close() was called.
  bool closed() const;
  /// The log file; empty when memory only.
  const std::filesystem::path& file() const { return options_.file; }

 private:
  std::uint64_t oldest_in_ring_locked() const { return total_ - ring_.size(); }
  DroppedRange dropped_locked() const;
  void keep_in_ring(std::string_view bytes);
  void copy_out_locked(std::uint64_t from, std::size_t n, std::string& out) const;
  /// The append descriptor, opened on the first append (-1 when it cannot be).
  int open_for_append();

  Options options_;
  mutable std::mutex mutex_;
  std::vector<char> ring_;
  std::size_t ring_head_ = 0;  ///< where the next byte goes
  std::uint64_t total_ = 0;
  bool closed_ = false;
  process::UniqueFd write_fd_;  ///< opened on the first append()
  std::uint64_t released_to_ = 0;  ///< dropped bytes before this are a hole in the file (writer only)
  bool cannot_punch_ = false;      ///< the file system refused (writer only)
};

}  // namespace tend
