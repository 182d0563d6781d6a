#include "tend/process/spawn.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>

#include <fmt/format.h>

#include "tend/process/orphan_reaper.hpp"

extern char** environ;

namespace tend::process {
namespace {

std::error_code errno_code(int e) { return {e, std::generic_category()}; }

[[noreturn]] void fail(SpawnError::Kind kind, const std::string& subject, int err, const std::string& what) {
  std::string message = err != 0 ? fmt::format("{}: {}", what, std::strerror(err)) : what;
  throw SpawnError(kind, subject, err != 0 ? errno_code(err) : std::error_code{}, message);
}

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

// Opens the child's working directory, so it can be checked and programs
// looked up relative to it.
UniqueFd open_cwd(const std::filesystem::path& cwd) {
  if (cwd.empty()) return {};  // ours: AT_FDCWD, nothing to open
  int fd = ::open(cwd.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string what = e == ENOTDIR ? fmt::format("working directory is not a directory: {}", cwd.string())
                                    : fmt::format("cannot use working directory {}", cwd.string());
    fail(SpawnError::Kind::bad_cwd, cwd.string(), e == ENOTDIR ? 0 : e, what);
  }
  return UniqueFd(fd);
}

bool is_executable_file(int dirfd, const std::string& path) {
  struct stat st {};
  if (::fstatat(dirfd, path.c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode)) return false;
  return ::faccessat(dirfd, path.c_str(), X_OK, AT_EACCESS) == 0;
}

std::string_view env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '=' && entry.compare(0, name.size(), name) == 0) {
      return std::string_view(entry).substr(name.size() + 1);
    }
  }
  return {};
}

// Resolves argv[0] the way execvp would, but in the child's PATH and cwd, so a
// missing program is an error here rather than an exit code later.
std::string resolve_program(const std::string& program, int cwd_fd, const std::vector<std::string>& env) {
  if (program.empty()) fail(SpawnError::Kind::invalid_argument, program, 0, "empty program name");
  // A path is exec'd as it is (after the child's chdir): posix_spawn itself
  // reports ENOENT or EACCES from the exec, which spawn() turns into the
  // same typed errors, so checking first would only cost two system calls.
  if (program.find('/') != std::string::npos) return program;
  std::string_view path = env_value(env, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  bool found_unexecutable = false;
  while (true) {
    auto colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate = dir.empty() ? program : fmt::format("{}/{}", dir, program);
    if (is_executable_file(cwd_fd, candidate)) return candidate;
    if (::faccessat(cwd_fd, candidate.c_str(), F_OK, 0) == 0) found_unexecutable = true;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (found_unexecutable) {
    fail(SpawnError::Kind::permission_denied, program, EACCES, fmt::format("cannot run {}", program));
  }
  fail(SpawnError::Kind::executable_not_found, program, 0,
       fmt::format("no such program: {} (not found in PATH={})", program, env_value(env, "PATH")));
}

void check_no_nul(const std::string& s) {
  if (s.find('\0') != std::string::npos) {
    fail(SpawnError::Kind::invalid_argument, s, 0, "an argument or variable contains a NUL byte");
  }
}

// Opens a PTY pair; the child opens the slave (its path in `slave`) as a
// session leader, which makes it its controlling terminal. No fork needed.
UniqueFd open_terminal(const TerminalOptions& terminal, std::string& slave) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) fail(SpawnError::Kind::system, "/dev/ptmx", errno, "posix_openpt");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
    fail(SpawnError::Kind::system, "/dev/ptmx", errno, "grantpt/unlockpt");
  }
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) fail(SpawnError::Kind::system, "/dev/ptmx", errno, "ptsname");
  set_window_size(master.get(), terminal.rows, terminal.cols);
  slave = name;
  return master;
}

UniqueFd open_log_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail(SpawnError::Kind::system, path.string(), errno, fmt::format("cannot open log file {}", path.string()));
  return UniqueFd(fd);
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

}  // namespace

int shared_dev_null() {
  static const int fd = [] {
    int f = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (f < 0) fail(SpawnError::Kind::system, "/dev/null", errno, "cannot open /dev/null");
    return f;
  }();
  return fd;
}

void set_window_size(int pty_master, unsigned short rows, unsigned short cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(pty_master, TIOCSWINSZ, &ws) != 0) {
    throw std::system_error(errno, std::generic_category(), "ioctl(TIOCSWINSZ)");
  }
}

std::vector<std::string> child_environment(const SpawnOptions& options) {
  std::vector<std::string> env;
  auto is_removed = [&](std::string_view entry) {
    auto eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    for (const auto& u : options.unset_env) if (u == name) return true;
    for (const auto& [k, v] : options.set_env) if (k == name) return true;
    return false;
  };
  if (options.inherit_env) {
    for (char** e = environ; e && *e; ++e) {
      if (!is_removed(*e)) env.emplace_back(*e);
    }
  }
  for (const auto& [k, v] : options.set_env) {
    bool unset = false;
    for (const auto& u : options.unset_env) unset = unset || u == k;
    if (!unset) env.push_back(k + "=" + v);
  }
  return env;
}

// ---------------------------------------------------------------------------
// What the child does between its clone and its exec, and what it reports.

namespace detail {

// Filled in by a child whose exec failed, just before it exits 127; read by
// the parent once the child has exited (its exit orders the writes).
struct ExecRecord {
  enum Step : int { none = 0, in_group, at_terminal, at_stdio, in_cwd, at_exec };
  volatile int step = none;  // a Step
  volatile int error = 0;
  std::string program;  // argv[0] as given, for the message
  std::string cwd;
};

}  // namespace detail

namespace {

// What a failed exec of `program` says, whoever found it (the exec, or the
// check made for a spawn that does not wait for it).
SpawnError exec_error(int err, const std::string& program) {
  SpawnError::Kind kind = err == ENOENT                                       ? SpawnError::Kind::executable_not_found
                          : err == EACCES || err == ENOEXEC || err == EISDIR ? SpawnError::Kind::permission_denied
                                                                               : SpawnError::Kind::system;
  return SpawnError(kind, program, errno_code(err), fmt::format("cannot run {}: {}", program, std::strerror(err)));
}

// The error a failed step of the child stands for: the same kinds and words
// as the checks made before spawning.
SpawnError error_of(const detail::ExecRecord& r) {
  std::error_code ec = errno_code(r.error);
  auto message = [&](const std::string& what) { return fmt::format("{}: {}", what, std::strerror(r.error)); };
  switch (r.step) {
    case detail::ExecRecord::at_exec:
      return exec_error(r.error, r.program);
    case detail::ExecRecord::in_cwd:
      return SpawnError(SpawnError::Kind::bad_cwd, r.cwd, ec, message("cannot use working directory " + r.cwd));
    case detail::ExecRecord::at_terminal:
      return SpawnError(SpawnError::Kind::system, r.program, ec, message("cannot open the terminal for " + r.program));
    case detail::ExecRecord::in_group:
      return SpawnError(SpawnError::Kind::system, r.program, ec, message("cannot make a process group for " + r.program));
    default:
      return SpawnError(SpawnError::Kind::system, r.program, ec, message("cannot set up stdio for " + r.program));
  }
}

// Everything a spawn hands the child, owned here so that it outlives the
// spawn() call when the child is still reading it.
struct Launch {
  std::string program;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::vector<char*> argv_ptrs;
  std::vector<char*> env_ptrs;
  std::string cwd;
  std::string terminal;     // PTY slave path: the child's stdin, stdout and stderr
  int stdio[3] = {-1, -1, -1};
  bool new_session = false;
  std::shared_ptr<detail::ExecRecord> record;

  // What the child fills in should its exec fail.
  std::shared_ptr<detail::ExecRecord> new_record() const {
    auto r = std::make_shared<detail::ExecRecord>();
    r->program = argv[0];
    r->cwd = cwd;
    return r;
  }

  void point() {
    argv_ptrs.clear();
    for (auto& a : argv) argv_ptrs.push_back(a.data());
    argv_ptrs.push_back(nullptr);
    env_ptrs.clear();
    for (auto& e : env) env_ptrs.push_back(e.data());
    env_ptrs.push_back(nullptr);
  }
};

// posix_spawn: the portable way, and the fallback. Always waits for the exec;
// throws std::system_error with what it said.
pid_t posix_spawn_child(const Launch& l) {
  FileActions fa;
  if (!l.terminal.empty()) {
    check(posix_spawn_file_actions_addopen(&fa.actions, 0, l.terminal.c_str(), O_RDWR, 0), "addopen");
    check(posix_spawn_file_actions_adddup2(&fa.actions, 0, 1), "adddup2");
    check(posix_spawn_file_actions_adddup2(&fa.actions, 0, 2), "adddup2");
  } else {
    for (int i = 0; i < 3; ++i) check(posix_spawn_file_actions_adddup2(&fa.actions, l.stdio[i], i), "adddup2");
  }
  if (!l.cwd.empty()) check(posix_spawn_file_actions_addchdir_np(&fa.actions, l.cwd.c_str()), "addchdir_np");
  check(posix_spawn_file_actions_addclosefrom_np(&fa.actions, 3), "addclosefrom_np");

  SpawnAttr sa;
  sigset_t empty;
  sigemptyset(&empty);
  check(posix_spawnattr_setsigmask(&sa.attr, &empty), "setsigmask");
  check(posix_spawnattr_setsigdefault(&sa.attr, &classic_signals()), "setsigdefault");
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (l.new_session) {
    flags |= POSIX_SPAWN_SETSID;  // session leader: the first tty it opens becomes its controlling terminal
  } else {
    check(posix_spawnattr_setpgroup(&sa.attr, 0), "setpgroup");
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  check(posix_spawnattr_setflags(&sa.attr, flags), "setflags");
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, l.program.c_str(), &fa.actions, &sa.attr, l.argv_ptrs.data(), l.env_ptrs.data());
  if (rc != 0) throw std::system_error(rc, std::generic_category());
  return pid;
}

std::atomic<bool> g_force_posix_spawn{false};

#if defined(__x86_64__) && !defined(__SANITIZE_THREAD__)
// (ThreadSanitizer keeps per-thread state that a child sharing our memory
// and our thread pointer would corrupt: it gets posix_spawn.)
#define TEND_HAVE_CLONE3 1

std::atomic<bool> g_clone3_unavailable{false};

// Waits for a child of ours that has exited or is about to, and reaps it.
void reap_blocking(int pidfd) {
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(3) /* P_PIDFD */, static_cast<id_t>(pidfd), &info, WEXITED) != 0 &&
         errno == EINTR) {
  }
}

// Starts a child with clone3 on `args->stack`; the child calls fn(arg) and
// exits with its result. Returns the child's pid, or -errno. (A C function
// cannot do this: the child must not return through the parent's frames.)
extern "C" long tend_clone3_call(clone_args* args, std::size_t size, int (*fn)(void*), void* arg);
asm(R"(
  .pushsection .text, "ax", @progbits
  .p2align 4
  .type tend_clone3_call, @function
tend_clone3_call:
  .cfi_startproc
  mov %rdx, %r8           # fn and arg survive the system call in both processes
  mov %rcx, %r9
  mov $435, %eax          # SYS_clone3
  syscall
  test %rax, %rax
  jz 1f
  ret                     # the parent: a pid, or -errno
1:
  .cfi_undefined rip      # the child, on its own stack: nothing to unwind into
  xor %ebp, %ebp
  mov %r9, %rdi
  call *%r8
  mov %eax, %edi
  mov $60, %eax           # SYS_exit
  syscall
  hlt
  .cfi_endproc
  .size tend_clone3_call, .-tend_clone3_call
  .popsection
)");

// A system call without errno: the child shares our memory and our thread
// pointer, so it must not write errno (or anything else of ours).
[[gnu::always_inline]] inline long raw(long n, long a = 0, long b = 0, long c = 0, long d = 0) {
  long ret;
  register long r10 asm("r10") = d;
  asm volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
  return ret;
}

struct KernelSigaction {  // the kernel's struct sigaction on x86-64
  unsigned long handler = 0;  // SIG_DFL
  unsigned long flags = 0;
  unsigned long restorer = 0;
  unsigned long mask = 0;
};

// What the child reads: plain pointers and numbers into the Launch its pad
// keeps, so that reading it is a load, never a call (even at -O0).
struct ChildPlan {
  const char* program;
  char* const* argv;
  char* const* envp;
  const char* cwd;       // or nullptr
  const char* terminal;  // PTY slave path, or nullptr
  int stdio[3];
  bool new_session;
  volatile int* step;    // the ExecRecord's
  volatile int* error;
};

// The child, from its clone to its exec: raw system calls on data the parent
// prepared, nothing else (no call, no thread-local: it runs on our thread's
// pointer). Signals are blocked (the parent blocked them around the clone)
// and handlers of ours are already gone (CLONE_CLEAR_SIGHAND).
[[gnu::noinline, gnu::no_stack_protector, gnu::no_sanitize("address", "undefined")]] int child_main(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  int step = detail::ExecRecord::in_group;
  long rc = plan.new_session ? raw(SYS_setsid) : raw(SYS_setpgid, 0, 0);
  if (rc >= 0) {
    // What we ignore (SIGPIPE, say) the child gets back at its default.
    KernelSigaction dfl;
    for (int sig = 1; sig < 32; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) raw(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, 8);
    }
    int fds[3] = {plan.stdio[0], plan.stdio[1], plan.stdio[2]};
    if (plan.terminal) {
      // As a session leader without a terminal, the first it opens becomes its own.
      step = detail::ExecRecord::at_terminal;
      rc = raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>(plan.terminal), O_RDWR, 0);
      fds[0] = fds[1] = fds[2] = static_cast<int>(rc);
    }
    if (rc >= 0) step = detail::ExecRecord::at_stdio;
    // (No source among 0-2 but its own: spawn() saw to that. dup2 onto
    // itself would keep close-on-exec: that is cleared instead.)
    for (int i = 0; i < 3 && rc >= 0; ++i) rc = fds[i] == i ? raw(SYS_fcntl, i, F_SETFD, 0) : raw(SYS_dup2, fds[i], i);
    if (rc >= 0 && plan.cwd) {
      step = detail::ExecRecord::in_cwd;
      rc = raw(SYS_chdir, reinterpret_cast<long>(plan.cwd));
    }
    if (rc >= 0) {
      raw(SYS_close_range, 3, ~0U, 0);  // (spawn() checked once that this kernel has it)
      unsigned long none = 0;
      raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8);
      step = detail::ExecRecord::at_exec;
      rc = raw(SYS_execve, reinterpret_cast<long>(plan.program), reinterpret_cast<long>(plan.argv),
               reinterpret_cast<long>(plan.envp));
    }
  }
  *plan.step = step;
  *plan.error = static_cast<int>(-rc);
  return 127;
}

// A child's stack and what it reads, reused once the child has exec'd.
struct Pad {
  static constexpr std::size_t kGuard = 4096;
  static constexpr std::size_t kStack = 64 * 1024;

  // Nonzero from the clone until the child has exec'd or exited: the kernel
  // zeroes it then and wakes futex waiters (CLONE_CHILD_CLEARTID).
  std::atomic<pid_t> busy{0};
  bool taken = false;  // being filled in by a spawning thread (under g_pads_mutex)
  void* map = nullptr;
  Launch launch;
  ChildPlan plan{};

  // Points the plan at `launch` (and `record`), which the pad keeps.
  void prepare() {
    const Launch& l = launch;
    plan.program = l.program.c_str();
    plan.argv = l.argv_ptrs.data();
    plan.envp = l.env_ptrs.data();
    plan.cwd = l.cwd.empty() ? nullptr : l.cwd.c_str();
    plan.terminal = l.terminal.empty() ? nullptr : l.terminal.c_str();
    for (int i = 0; i < 3; ++i) plan.stdio[i] = l.stdio[i];
    plan.new_session = l.new_session;
    plan.step = &l.record->step;
    plan.error = &l.record->error;
  }

  Pad() {
    map = ::mmap(nullptr, kGuard + kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (map == MAP_FAILED) fail(SpawnError::Kind::system, "", errno, "cannot map a stack for a child");
    ::mprotect(map, kGuard, PROT_NONE);  // an overflow faults instead of writing into something of ours
  }
  Pad(const Pad&) = delete;
  Pad& operator=(const Pad&) = delete;
  ~Pad() { ::munmap(map, kGuard + kStack); }  // never while busy: pads live as long as the process
  char* stack() const { return static_cast<char*>(map) + kGuard; }
};

// Enough for a burst of spawns: past this many children between their clone
// and their exec, a spawn waits (up to kPadWait) for one of them first.
constexpr std::size_t kMaxPads = 64;
constexpr auto kPadWait = std::chrono::milliseconds(100);

std::mutex g_pads_mutex;

// Never freed: children may still be using them when we exit.
std::vector<std::unique_ptr<Pad>>& all_pads() {
  static auto* pads = new std::vector<std::unique_ptr<Pad>>;
  return *pads;
}

void futex_wait(std::atomic<pid_t>& word, pid_t value, std::chrono::nanoseconds limit) {
  timespec ts{static_cast<time_t>(limit.count() / 1000000000), static_cast<long>(limit.count() % 1000000000)};
  // Not FUTEX_PRIVATE: the kernel's wake at the child's exec is a shared one.
  ::syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT, value, &ts, nullptr, 0);
}

Pad& take_pad() {
  const auto give_up = std::chrono::steady_clock::now() + kPadWait;
  std::size_t next = 0;
  while (true) {
    Pad* wait_on = nullptr;
    pid_t seen = 0;
    {
      std::lock_guard lock(g_pads_mutex);
      for (auto& pad : all_pads()) {
        if (!pad->taken && pad->busy.load(std::memory_order_acquire) == 0) {
          pad->taken = true;
          return *pad;
        }
      }
      if (all_pads().size() < kMaxPads || std::chrono::steady_clock::now() >= give_up) {
        // Past the wait, grow anyway: a child that died by a core-dumping
        // signal before its exec never has its word cleared.
        all_pads().push_back(std::make_unique<Pad>());
        all_pads().back()->taken = true;
        return *all_pads().back();
      }
      wait_on = all_pads()[next++ % all_pads().size()].get();
      seen = wait_on->busy.load(std::memory_order_acquire);
    }
    if (seen != 0) futex_wait(wait_on->busy, seen, std::chrono::milliseconds(1));
  }
}

void release_pad(Pad& pad) {
  std::lock_guard lock(g_pads_mutex);
  pad.taken = false;
}

// Returns the pid and the pidfd, or -errno when clone3 itself refused.
long clone_child(Pad& pad, bool wait_for_exec, int* pidfd) {
  clone_args args{};
  args.flags = CLONE_VM | CLONE_PIDFD | CLONE_CLEAR_SIGHAND | (wait_for_exec ? CLONE_VFORK : CLONE_CHILD_CLEARTID);
  args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  args.child_tid = reinterpret_cast<std::uint64_t>(&pad.busy);
  args.exit_signal = SIGCHLD;  // as any child (its exec would make it so anyway)
  args.stack = reinterpret_cast<std::uint64_t>(pad.stack());
  args.stack_size = Pad::kStack;
  // The child starts with every signal blocked; it unblocks them right before
  // its exec, when no handler of ours is left in it.
  unsigned long all = ~0UL, old = 0;
  raw(SYS_rt_sigprocmask, SIG_BLOCK, reinterpret_cast<long>(&all), reinterpret_cast<long>(&old), 8);
  pad.busy.store(wait_for_exec ? 0 : 1, std::memory_order_release);
  long rc = tend_clone3_call(&args, sizeof args, child_main, &pad.plan);
  raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, 8);
  if (rc < 0) pad.busy.store(0, std::memory_order_release);
  return rc;
}
#endif

}  // namespace

std::optional<SpawnError> ExecReport::failure() const {
  if (!record_ || record_->error == 0) return std::nullopt;
  return error_of(*record_);
}

SpawnBackend spawn_backend() {
#ifdef TEND_HAVE_CLONE3
  // The child closes what it must not inherit with close_range (5.9); a
  // kernel with clone3 but without it (5.5-5.8) gets posix_spawn, whose
  // closefrom has a fallback.
  static const bool has_close_range = ::syscall(SYS_close_range, ~0U - 1, ~0U - 1, 0) == 0;
  if (has_close_range && !g_force_posix_spawn.load() && !g_clone3_unavailable.load()) return SpawnBackend::clone3;
#endif
  return SpawnBackend::posix_spawn;
}

void use_posix_spawn(bool on) { g_force_posix_spawn.store(on); }

// Builds the child's launch, starts it with the backend of the day and hands
// back our ends.
struct Launcher {
  static SpawnedChild spawn(const SpawnOptions& options);
};

SpawnedChild Launcher::spawn(const SpawnOptions& options) {
  Launch l;
  if (options.shell_command) {
    l.argv = {"/bin/sh", "-c", *options.shell_command};
  } else {
    l.argv = options.argv;
  }
  if (l.argv.empty()) fail(SpawnError::Kind::invalid_argument, "", 0, "no program given (empty argv)");
  for (const auto& a : l.argv) check_no_nul(a);
  for (const auto& [k, v] : options.set_env) {
    check_no_nul(k);
    check_no_nul(v);
    if (k.empty() || k.find('=') != std::string::npos) {
      fail(SpawnError::Kind::invalid_argument, k, 0, fmt::format("invalid environment variable name: \"{}\"", k));
    }
  }

  UniqueFd cwd_fd = open_cwd(options.cwd);
  l.env = child_environment(options);
  if (options.terminal) {
    // What the child talks to is our PTY, not whatever terminal we were started
    // from: its TERM comes from the terminal options unless set explicitly.
    bool explicit_term = false;
    for (const auto& [k, v] : options.set_env) explicit_term = explicit_term || k == "TERM";
    if (!explicit_term) {
      std::erase_if(l.env, [](const std::string& e) { return e.rfind("TERM=", 0) == 0; });
      l.env.push_back("TERM=" + options.terminal->term);
    }
  }
  const int at = cwd_fd ? cwd_fd.get() : AT_FDCWD;
  l.program = resolve_program(l.argv[0], at, l.env);

  SpawnBackend backend = spawn_backend();
  if (!options.wait_for_exec && l.program.find('/') != std::string::npos && !is_executable_file(at, l.program)) {
    // Nobody waits for the exec to say so: say it now.
    throw exec_error(::faccessat(at, l.program.c_str(), F_OK, 0) == 0 ? EACCES : ENOENT, l.argv[0]);
  }

  UniqueFd stdin_file;
  Pipe stdin_pipe, stdout_pipe, stderr_pipe;
  UniqueFd pty_master;
  UniqueFd stdout_log, stderr_log;
  if (options.terminal) {
    pty_master = open_terminal(*options.terminal, l.terminal);
  } else {
    switch (options.stdin_mode) {
      case StdinMode::null:
        l.stdio[0] = shared_dev_null();
        break;
      case StdinMode::pipe:
        stdin_pipe = make_pipe();
        l.stdio[0] = stdin_pipe.read_end.get();
        break;
      case StdinMode::file: {
        int fd = ::openat(at, options.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          fail(SpawnError::Kind::stdin_unreadable, options.stdin_file.string(), errno,
               fmt::format("cannot open stdin file {}", options.stdin_file.string()));
        }
        stdin_file.reset(fd);
        l.stdio[0] = fd;
        break;
      }
    }
    if (options.stdout_to >= 0) {
      l.stdio[1] = options.stdout_to;
    } else if (!options.stdout_file.empty()) {
      stdout_log = open_log_file(options.stdout_file);
      l.stdio[1] = stdout_log.get();
    } else {
      stdout_pipe = make_pipe();
      l.stdio[1] = stdout_pipe.write_end.get();
    }
    if (options.merge_stderr) {
      l.stdio[2] = l.stdio[1];
    } else if (options.stderr_to >= 0) {
      l.stdio[2] = options.stderr_to;
    } else if (!options.stderr_file.empty()) {
      stderr_log = open_log_file(options.stderr_file);
      l.stdio[2] = stderr_log.get();
    } else {
      stderr_pipe = make_pipe();
      l.stdio[2] = stderr_pipe.write_end.get();
    }
  }
  // A source among 0-2 would be overwritten by an earlier dup2 onto it (say
  // our fd 0 is to be the child's stdout): hand the child a copy above 2.
  UniqueFd moved_up[3];
  for (int i = 0; i < 3; ++i) {
    if (l.stdio[i] >= 0 && l.stdio[i] < 3 && l.stdio[i] != i) {
      moved_up[i].reset(::fcntl(l.stdio[i], F_DUPFD_CLOEXEC, 3));
      if (!moved_up[i]) fail(SpawnError::Kind::system, l.argv[0], errno, "cannot set up stdio");
      l.stdio[i] = moved_up[i].get();
    }
  }
  l.cwd = options.cwd.string();
  l.new_session = options.terminal || options.new_session;
  l.point();

  SpawnedChild child;
#ifdef TEND_HAVE_CLONE3
  if (backend == SpawnBackend::clone3) {
    Pad& pad = take_pad();
    struct Lease {  // the pad goes back whatever happens; reused once `busy` is zero
      Pad& pad;
      ~Lease() { release_pad(pad); }
    } lease{pad};
    pad.launch = std::move(l);
    auto record = pad.launch.new_record();
    pad.launch.record = record;
    pad.prepare();
    int pidfd = -1;
    long rc;
    {
      auto held = SpawnedChildren::lock();
      rc = clone_child(pad, options.wait_for_exec, &pidfd);
      if (rc > 0) {
        child.pid = static_cast<pid_t>(rc);
        child.pidfd = Pidfd::adopt(child.pid, UniqueFd(pidfd));
        try {
          SpawnedChildren::add(child.pid, held);
        } catch (...) {
          // Out of memory: a child nobody knows of must not run.
          child.pidfd.send_signal(SIGKILL);
          reap_blocking(pidfd);
          throw;
        }
      }
    }
    if (rc < 0) {
      // Not this kernel, or a filter forbids it: posix_spawn from now on.
      if (rc == -ENOSYS || rc == -EPERM || rc == -EINVAL) g_clone3_unavailable.store(true);
      l = std::move(pad.launch);
      if (!g_clone3_unavailable.load()) throw exec_error(static_cast<int>(-rc), l.argv[0]);
      backend = SpawnBackend::posix_spawn;
    } else if (options.wait_for_exec && record->error != 0) {
      // It exited 127 without running anything: reap it and say why.
      reap_blocking(pidfd);
      SpawnedChildren::remove(child.pid);
      throw error_of(*record);
    } else {
      child.exec.record_ = std::move(record);
    }
  }
#endif
  if (backend == SpawnBackend::posix_spawn) {
    {
      auto held = SpawnedChildren::lock();
      try {
        child.pid = posix_spawn_child(l);
      } catch (const std::system_error& e) {
        int rc = e.code().value();
        if (options.wait_for_exec || rc == EAGAIN || rc == ENOMEM) throw exec_error(rc, l.argv[0]);
        // What only the exec could tell, to a caller that does not wait for
        // it: as with clone3, a child that exits 127 and says why. (A stand-
        // in: posix_spawn leaves no child behind. Rare, so a fork will do.)
        auto record = l.new_record();
        record->step = detail::ExecRecord::at_exec;
        record->error = rc;
        child.pid = ::fork();
        if (child.pid == 0) ::_exit(127);
        if (child.pid < 0) throw exec_error(rc, l.argv[0]);
        child.exec.record_ = std::move(record);
      }
      SpawnedChildren::add(child.pid, held);
    }
    // The child is ours and unreaped, so its PID cannot have been reused yet.
    try {
      child.pidfd = std::move(Pidfd::open(child.pid).value());
    } catch (const std::exception& e) {
      // Out of descriptors, most likely: a child we cannot watch must not live.
      ::kill(-child.pid, SIGKILL);
      ::waitpid(child.pid, nullptr, 0);
      SpawnedChildren::remove(child.pid);
      fail(SpawnError::Kind::system, l.argv[0], 0, fmt::format("cannot watch {}: {}", l.argv[0], e.what()));
    }
  }
  child.stdin_fd = std::move(stdin_pipe.write_end);
  child.stdout_fd = std::move(stdout_pipe.read_end);
  child.stderr_fd = std::move(stderr_pipe.read_end);
  child.pty_master = std::move(pty_master);
  return child;
}

SpawnedChild spawn(const SpawnOptions& options) { return Launcher::spawn(options); }

}  // namespace tend::process
