#pragma once
// Printing a task's output as task.output describes it: parts of stdout go
// to our stdout, parts of stderr to our stderr, in the order tend saw them.
// The bytes are copied straight from the log files (sendfile), so a big log
// prints at the speed of the disk; when the files cannot be opened here, the
// daemon sends the bytes instead.

#include <array>
#include <cstdint>
#include <string>

#include "client.hpp"
#include "tend/process/unique_fd.hpp"

namespace tend::cli {

class OutputPrinter {
 public:
  /// Prints the parts of a task.output answer; when the answer carries the
  /// bytes (`data_base64`), those. False: the log files named by the answer
  /// cannot be opened here (ask again without by_file).
  bool print(const json& answer);
  /// Bytes printed so far (dropped parts not counted).
  std::uint64_t printed() const { return printed_; }

 private:
  bool open_files(const json& files);
  void copy_from_file(int out_fd, int file_fd, std::uint64_t at, std::uint64_t size);
  void say_dropped(const std::string& stream, std::uint64_t at, std::uint64_t size);

  std::array<std::string, 2> paths_;
  std::array<process::UniqueFd, 2> files_;
  std::uint64_t printed_ = 0;
};

/// Decodes base64 (the daemon sends raw bytes so, to keep them intact).
std::string decode_base64(std::string_view in);

/// The cursors to start a view from, and the streams it shows.
struct FollowFrom {
  std::string stream = "both";  ///< "stdout", "stderr" or "both"
  std::uint64_t stdout_cursor = 0;
  std::uint64_t stderr_cursor = 0;
};

/// Prints a task's output from `from` until the task has ended and all of it
/// is shown (the daemon holds each request until there is more); returns
/// the task's final status.
json follow_output(Client& client, const json& id, const FollowFrom& from);

/// Exit code of `tend wait` for one finished task: 0 if it succeeded, 1 otherwise.
int wait_exit_code(const json& task);

}  // namespace tend::cli
