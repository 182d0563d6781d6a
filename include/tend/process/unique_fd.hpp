#pragma once
// The one owner of a raw file descriptor. Nothing in tend calls close() on a
// descriptor it does not hold in a UniqueFd.

#include <utility>

namespace tend::process {

/// Owns one file descriptor and closes it when destroyed. Movable, not copyable.
class UniqueFd {
 public:
  /// Empty (-1), or owning `fd` (which may be -1).
  UniqueFd() = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  /// Moving takes the descriptor; the source is left empty.
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  /// The descriptor, or -1 when empty.
  int get() const noexcept { return fd_; }
  /// True while it holds a descriptor.
  explicit operator bool() const noexcept { return fd_ >= 0; }

  /// Gives up ownership without closing.
  int release() noexcept { return std::exchange(fd_, -1); }

  /// Closes the held descriptor (if any) and takes `fd`.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

/// A pipe whose both ends are O_CLOEXEC, so no other child inherits them.
struct Pipe {
  /// The end to read from, and the end to write to.
  UniqueFd read_end;
  UniqueFd write_end;
};

/// Creates a pipe (O_CLOEXEC); throws std::system_error on failure.
Pipe make_pipe();

/// Sets or clears O_NONBLOCK; throws std::system_error on failure.
void set_nonblocking(int fd, bool on = true);

}  // namespace tend::process
