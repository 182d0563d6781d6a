#pragma once
// Adopting and reaping descendants that escape their task.
//
// A task's child may double-fork or setsid away from its process group. As a
// child subreaper (PR_SET_CHILD_SUBREAPER), such orphans are reparented to us
// instead of to init, so they stay inside our tree while they run and we reap
// them when they die. Children that tend spawned itself are reaped through
// their pidfd (Pidfd::try_reap); reap_orphans() leaves those alone and reaps
// every other exited child.
//
// A host program that forks and waits for children of its own should not make
// itself a subreaper (SupervisorOptions::adopt_orphans = false): reap_orphans()
// cannot tell the host's children from adopted ones.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <vector>

namespace tend::process {

/// Makes this process a child subreaper. Throws std::system_error on failure.
void become_subreaper();

/// Whether this process is a child subreaper.
bool is_subreaper();

/// The children tend spawned itself. spawn() registers a child under the lock,
/// in the same critical section as the clone (or posix_spawn), so
/// reap_orphans() can never see a fresh child before it is known.
class SpawnedChildren {
 public:
  /// The process-wide lock over the set; add() needs it held (so the caller can
  /// register a child in the same critical section as making it).
  static std::unique_lock<std::mutex> lock();
  static void add(pid_t pid, const std::unique_lock<std::mutex>& held);
  /// Forgets a child once it is reaped, and asks whether `pid` is one of ours;
  /// each takes the lock itself.
  static void remove(pid_t pid);
  static bool contains(pid_t pid);
};

/// The direct children of this process (all threads), from /proc.
std::vector<pid_t> list_children();

/// Reaps every exited child that tend did not spawn; returns how many.
std::size_t reap_orphans();

/// Like reap_orphans(), but first waits (up to `limit`, on their pidfds) for
/// adopted children still alive to exit: for the end of a shutdown, when the
/// last ones have just been KILLed and must not be left as zombies.
std::size_t reap_orphans_within(std::chrono::milliseconds limit);

}  // namespace tend::process
