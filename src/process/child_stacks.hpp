#pragma once
// Stacks for children cloned into our memory (clone3 with CLONE_VM): mapped
// once, each reused when its last child has exec'd or exited.

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <memory>

#include "spawn_backends.hpp"

#ifdef TEND_HAVE_CLONE3

namespace tend::process {

/// A child's stack, and what the child reads from our memory until its exec.
struct ChildStack {
  static constexpr std::size_t kGuard = 4096;
  static constexpr std::size_t kSize = 64 * 1024;

  ChildStack();
  ChildStack(const ChildStack&) = delete;
  ChildStack& operator=(const ChildStack&) = delete;
  ~ChildStack();  // never while busy: stacks live as long as the process

  /// The lowest address of the stack proper (above its guard page).
  char* base() const { return static_cast<char*>(map_) + kGuard; }

  /// Nonzero from the clone until the child has exec'd or exited: the kernel
  /// zeroes it then and wakes futex waiters (CLONE_CHILD_CLEARTID).
  std::atomic<pid_t> busy{0};
  /// What the child reads; kept until the stack is next taken.
  std::shared_ptr<const void> keep_alive;

 private:
  friend class ChildStackLease;
  bool taken_ = false;  // being filled in by a spawning thread (under the pool's mutex)
  void* map_ = nullptr;
};

/// One spawn's use of a stack: takes a free one (waiting up to 100 ms when
/// 64 children are between their clone and their exec, then mapping another)
/// and gives it back when destroyed, to be reused once `busy` is zero.
class ChildStackLease {
 public:
  ChildStackLease();  ///< throws SpawnError when no stack can be mapped
  ChildStackLease(const ChildStackLease&) = delete;
  ChildStackLease& operator=(const ChildStackLease&) = delete;
  ~ChildStackLease();

  ChildStack& stack() const { return stack_; }

 private:
  static ChildStack& take();
  ChildStack& stack_;
};

}  // namespace tend::process

#endif  // TEND_HAVE_CLONE3
