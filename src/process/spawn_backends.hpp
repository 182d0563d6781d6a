#pragma once
// The two ways spawn() makes a process of a LaunchPlan, and the one way a
// child that was made but is not handed over is got rid of.
//
// clone3 (spawn_clone3.cpp) on x86-64, where the kernel allows it;
// posix_spawn (spawn_posix.cpp) everywhere else and as its fallback. Each
// registers its child in SpawnedChildren in the same critical section as the
// clone or posix_spawn, and hands back a StartedChild.

#include <sys/types.h>

#include <memory>
#include <optional>

#include "launch_plan.hpp"
#include "spawn_errors.hpp"
#include "tend/process/pidfd.hpp"

// (ThreadSanitizer keeps per-thread state that a child sharing our memory
// and our thread pointer would corrupt: it gets posix_spawn.)
#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
#define TEND_HAVE_CLONE3 1
#endif

namespace tend::process {

/// A child that exists but is not the caller's yet. Unless released, its
/// destructor kills it (its group, or itself before it has one), reaps it and
/// forgets it: the one path by which a spawn that fails once the child
/// exists cleans up. Declare it before taking SpawnedChildren::lock(), so that
/// the lock is gone when it cleans up.
class StartedChild {
 public:
  StartedChild() = default;
  StartedChild(pid_t pid, Pidfd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  StartedChild(StartedChild&& other) noexcept;
  StartedChild& operator=(StartedChild&& other) noexcept;
  ~StartedChild() { discard(); }

  pid_t pid() const { return pid_; }
  /// Takes the pidfd opened after the spawn (posix_spawn gives none).
  void watch(Pidfd pidfd) { pidfd_ = std::move(pidfd); }
  /// Where the child says how its exec went, when it can fail unseen by us.
  void report_exec_to(std::shared_ptr<detail::ExecRecord> record) { record_ = std::move(record); }
  const detail::ExecRecord* exec_record() const { return record_.get(); }

  /// The child is the caller's from now on.
  struct Released {
    pid_t pid;
    Pidfd pidfd;
    std::shared_ptr<const detail::ExecRecord> record;
  };
  Released release() &&;

 private:
  void discard() noexcept;

  pid_t pid_ = -1;
  Pidfd pidfd_;
  std::shared_ptr<detail::ExecRecord> record_;
};

#ifdef TEND_HAVE_CLONE3
/// Whether this kernel has what the clone3 child needs besides clone3 itself
/// (close_range, 5.9; clone3 is 5.3): checked once.
bool clone3_supported();

/// Clones the child `plan` describes onto a stack of ours (CLONE_VM), with its
/// pidfd. With `wait_for_exec` it returns once the child has exec'd or failed
/// to (CLONE_VFORK); otherwise at once, and the child's exec record says later
/// how its exec went. Returns nullopt when clone3 itself is refused here
/// (ENOSYS, EPERM, EINVAL: an old kernel or a seccomp filter), so that the
/// caller falls back on posix_spawn. Throws SpawnError.
std::optional<StartedChild> start_with_clone3(std::shared_ptr<const LaunchPlan> plan, bool wait_for_exec);
#endif

/// posix_spawn, which always waits for the exec, then pidfd_open. A failure
/// only the exec can see is thrown when `wait_for_exec`, and otherwise told by
/// a stand-in child that exits 127, as a clone3 child would. Throws SpawnError.
StartedChild start_with_posix_spawn(const LaunchPlan& plan, bool wait_for_exec);

}  // namespace tend::process
