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

struct OutputRead {
  std::string data;          ///< the bytes from `cursor` on
  std::uint64_t next_cursor; ///< where the next read continues
  /// Bytes between the cursor asked for and the oldest one still kept (only
  /// without a log file, once the ring has dropped them). 0 normally.
  std::uint64_t skipped = 0;
  bool eof = false;          ///< the stream is closed and this read reached its end
};

struct OutputLines {
  std::vector<std::string> lines;  ///< without their '\n'
  std::uint64_t next_cursor;       ///< after the last line returned
  std::uint64_t skipped = 0;
  bool eof = false;
};

class OutputLog {
 public:
  struct Options {
    std::size_t ring_capacity = 1 << 20;  ///< bytes kept in memory
    std::filesystem::path file;           ///< empty: memory only
  };

  OutputLog();  ///< memory only, default ring
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
  /// The last `n` lines (an unterminated last line counts).
  std::vector<std::string> tail_lines(std::size_t n) const;

  /// Bytes written so far: the cursor after the last byte.
  std::uint64_t size() const;
  bool closed() const;
  const std::filesystem::path& file() const { return options_.file; }

 private:
  std::uint64_t oldest_in_ring_locked() const { return total_ - ring_.size(); }
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
};

}  // namespace tend
