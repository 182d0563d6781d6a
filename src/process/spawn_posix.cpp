// The posix_spawn backend: the portable way, and clone3's fallback.
#include "spawn_backends.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

#include <exception>

#include <fmt/format.h>

#include "tend/process/orphan_reaper.hpp"

namespace tend::process {
namespace {

// RAII for the posix_spawn attribute objects.
struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};
struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

void check(int rc, const char* call) {
  if (rc != 0) fail(SpawnError::Kind::system, call, rc, call);
}

// The signals a child gets back at their defaults. exec already resets
// handlers; what it keeps is SIG_IGN, which a host (or we: SIGPIPE, SIGXFSZ)
// may have set. Every classic signal, not all 64: glibc's child makes one
// sigaction call per signal in this set while the parent waits on the vfork,
// and real-time signals ignored by a host are rare enough not to be worth 33
// more calls on every spawn. (Python's subprocess resets only SIGPIPE,
// SIGXFZ and SIGXFSZ.)
const sigset_t& classic_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    for (int sig = 1; sig < SIGRTMIN; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&s, sig);
    }
    return s;
  }();
  return set;
}

void add_file_actions(FileActions& fa, const LaunchPlan& plan) {
  if (!plan.terminal.empty()) {
    check(posix_spawn_file_actions_addopen(&fa.actions, 0, plan.terminal.c_str(), O_RDWR, 0), "addopen");
    check(posix_spawn_file_actions_adddup2(&fa.actions, 0, 1), "adddup2");
    check(posix_spawn_file_actions_adddup2(&fa.actions, 0, 2), "adddup2");
  } else {
    for (int i = 0; i < 3; ++i) check(posix_spawn_file_actions_adddup2(&fa.actions, plan.stdio[i], i), "adddup2");
  }
  if (!plan.cwd.empty()) check(posix_spawn_file_actions_addchdir_np(&fa.actions, plan.cwd.c_str()), "addchdir_np");
  check(posix_spawn_file_actions_addclosefrom_np(&fa.actions, 3), "addclosefrom_np");
}

void set_attributes(SpawnAttr& sa, const LaunchPlan& plan) {
  sigset_t empty;
  sigemptyset(&empty);
  check(posix_spawnattr_setsigmask(&sa.attr, &empty), "setsigmask");
  check(posix_spawnattr_setsigdefault(&sa.attr, &classic_signals()), "setsigdefault");
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (plan.new_session) {
    flags |= POSIX_SPAWN_SETSID;  // session leader: the first tty it opens becomes its controlling terminal
  } else {
    check(posix_spawnattr_setpgroup(&sa.attr, 0), "setpgroup");
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  check(posix_spawnattr_setflags(&sa.attr, flags), "setflags");
}

// What only the exec could tell, to a caller that does not wait for it: as
// with clone3, a child that exits 127 and says why in `record`. (A stand-in:
// posix_spawn leaves no child behind. Rare, so a fork will do.)
pid_t stand_in_for_failed_exec(int err, const LaunchPlan& plan, std::shared_ptr<detail::ExecRecord>& record) {
  record = new_exec_record(plan.argv[0], plan.cwd);
  record->step = detail::ExecRecord::at_exec;
  record->error = err;
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(127);
  if (pid < 0) throw exec_error(err, plan.argv[0]);
  return pid;
}

}  // namespace

StartedChild start_with_posix_spawn(const LaunchPlan& plan, bool wait_for_exec) {
  FileActions fa;
  add_file_actions(fa, plan);
  SpawnAttr sa;
  set_attributes(sa, plan);
  StartedChild child;  // (before the lock: should anything throw, it is killed once the lock is gone)
  {
    auto held = SpawnedChildren::lock();
    pid_t pid = -1;
    std::shared_ptr<detail::ExecRecord> record;
    int rc = ::posix_spawn(&pid, plan.program.c_str(), &fa.actions, &sa.attr, plan.argv_data(), plan.env_data());
    if (rc != 0) {
      if (wait_for_exec || rc == EAGAIN || rc == ENOMEM) throw exec_error(rc, plan.argv[0]);
      pid = stand_in_for_failed_exec(rc, plan, record);
    }
    child = StartedChild(pid, Pidfd());
    child.report_exec_to(std::move(record));
    SpawnedChildren::add(pid, held);
  }
  // The child is ours and unreaped, so its PID cannot have been reused yet.
  try {
    child.watch(std::move(Pidfd::open(child.pid()).value()));
  } catch (const std::exception& e) {
    // Out of descriptors, most likely: a child we cannot watch must not live.
    fail(SpawnError::Kind::system, plan.argv[0], 0, fmt::format("cannot watch {}: {}", plan.argv[0], e.what()));
  }
  return child;
}

}  // namespace tend::process
