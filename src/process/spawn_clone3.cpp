// The clone3 backend (x86-64): the child runs on a stack of ours, in our
// memory, from its clone to its exec. spawn.hpp's header comment says why.
#include "spawn_backends.hpp"

#ifdef TEND_HAVE_CLONE3

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "child_stacks.hpp"
#include "tend/process/orphan_reaper.hpp"

namespace tend::process {
namespace {

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

// What the child reads: plain pointers and numbers into the LaunchPlan and
// the ExecRecord, so that reading it is a load, never a call (even at -O0).
struct ChildArgs {
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

// One clone's plan, record and the child's view of both: kept alive by its
// stack until the stack is next taken (the child reads it until its exec).
struct Clone3Launch {
  std::shared_ptr<const LaunchPlan> plan;
  std::shared_ptr<detail::ExecRecord> record;
  ChildArgs args;

  explicit Clone3Launch(std::shared_ptr<const LaunchPlan> p)
      : plan(std::move(p)), record(new_exec_record(plan->argv[0], plan->cwd)) {
    args.program = plan->program.c_str();
    args.argv = plan->argv_data();
    args.envp = plan->env_data();
    args.cwd = plan->cwd.empty() ? nullptr : plan->cwd.c_str();
    args.terminal = plan->terminal.empty() ? nullptr : plan->terminal.c_str();
    for (int i = 0; i < 3; ++i) args.stdio[i] = plan->stdio[i];
    args.new_session = plan->new_session;
    args.step = &record->step;
    args.error = &record->error;
  }
};

// The child, from its clone to its exec: raw system calls on data the parent
// prepared, nothing else (no call, no thread-local: it runs on our thread's
// pointer). Signals are blocked (the parent blocked them around the clone)
// and handlers of ours are already gone (CLONE_CLEAR_SIGHAND).
[[gnu::noinline, gnu::no_stack_protector, gnu::no_sanitize("address", "undefined")]] int child_main(void* arg) {
  const ChildArgs& args = *static_cast<const ChildArgs*>(arg);
  int step = detail::ExecRecord::in_group;
  long rc = args.new_session ? raw(SYS_setsid) : raw(SYS_setpgid, 0, 0);
  if (rc >= 0) {
    // What we ignore (SIGPIPE, say) the child gets back at its default.
    KernelSigaction dfl;
    for (int sig = 1; sig < 32; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) raw(SYS_rt_sigaction, sig, reinterpret_cast<long>(&dfl), 0, 8);
    }
    int fds[3] = {args.stdio[0], args.stdio[1], args.stdio[2]};
    if (args.terminal) {
      // As a session leader without a terminal, the first it opens becomes its own.
      step = detail::ExecRecord::at_terminal;
      rc = raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>(args.terminal), O_RDWR, 0);
      fds[0] = fds[1] = fds[2] = static_cast<int>(rc);
    }
    if (rc >= 0) step = detail::ExecRecord::at_stdio;
    // (No source among 0-2 but its own: the plan saw to that. dup2 onto
    // itself would keep close-on-exec: that is cleared instead.)
    for (int i = 0; i < 3 && rc >= 0; ++i) rc = fds[i] == i ? raw(SYS_fcntl, i, F_SETFD, 0) : raw(SYS_dup2, fds[i], i);
    if (rc >= 0 && args.cwd) {
      step = detail::ExecRecord::in_cwd;
      rc = raw(SYS_chdir, reinterpret_cast<long>(args.cwd));
    }
    if (rc >= 0) {
      raw(SYS_close_range, 3, ~0U, 0);  // (clone3_supported() checked once that this kernel has it)
      unsigned long none = 0;
      raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&none), 0, 8);
      step = detail::ExecRecord::at_exec;
      rc = raw(SYS_execve, reinterpret_cast<long>(args.program), reinterpret_cast<long>(args.argv),
               reinterpret_cast<long>(args.envp));
    }
  }
  *args.step = step;
  *args.error = static_cast<int>(-rc);
  return 127;
}

// Returns the pid and the pidfd, or -errno when clone3 itself refused.
long clone_child(ChildStack& stack, const ChildArgs& args, bool wait_for_exec, int* pidfd) {
  clone_args ca{};
  ca.flags = CLONE_VM | CLONE_PIDFD | CLONE_CLEAR_SIGHAND | (wait_for_exec ? CLONE_VFORK : CLONE_CHILD_CLEARTID);
  ca.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
  ca.child_tid = reinterpret_cast<std::uint64_t>(&stack.busy);
  ca.exit_signal = SIGCHLD;  // as any child (its exec would make it so anyway)
  ca.stack = reinterpret_cast<std::uint64_t>(stack.base());
  ca.stack_size = ChildStack::kSize;
  // The child starts with every signal blocked; it unblocks them right before
  // its exec, when no handler of ours is left in it.
  unsigned long all = ~0UL, old = 0;
  raw(SYS_rt_sigprocmask, SIG_BLOCK, reinterpret_cast<long>(&all), reinterpret_cast<long>(&old), 8);
  stack.busy.store(wait_for_exec ? 0 : 1, std::memory_order_release);
  long rc = tend_clone3_call(&ca, sizeof ca, child_main, const_cast<ChildArgs*>(&args));
  raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(&old), 0, 8);
  if (rc < 0) stack.busy.store(0, std::memory_order_release);
  return rc;
}

}  // namespace

bool clone3_supported() {
  // The child closes what it must not inherit with close_range (5.9); a
  // kernel with clone3 but without it (5.5-5.8) gets posix_spawn, whose
  // closefrom has a fallback.
  static const bool has_close_range = ::syscall(SYS_close_range, ~0U - 1, ~0U - 1, 0) == 0;
  return has_close_range;
}

std::optional<StartedChild> start_with_clone3(std::shared_ptr<const LaunchPlan> plan, bool wait_for_exec) {
  ChildStackLease lease;
  auto launch = std::make_shared<const Clone3Launch>(std::move(plan));
  lease.stack().keep_alive = launch;
  StartedChild child;  // (before the lock: should add() throw, it is killed once the lock is gone)
  long rc;
  {
    auto held = SpawnedChildren::lock();
    int pidfd = -1;
    rc = clone_child(lease.stack(), launch->args, wait_for_exec, &pidfd);
    if (rc > 0) {
      child = StartedChild(static_cast<pid_t>(rc), Pidfd::adopt(static_cast<pid_t>(rc), UniqueFd(pidfd)));
      SpawnedChildren::add(child.pid(), held);
    }
  }
  // Not this kernel, or a filter forbids it: the caller uses posix_spawn.
  if (rc == -ENOSYS || rc == -EPERM || rc == -EINVAL) return std::nullopt;
  if (rc < 0) throw exec_error(static_cast<int>(-rc), launch->plan->argv[0]);
  child.report_exec_to(launch->record);
  return child;
}

}  // namespace tend::process

#endif  // TEND_HAVE_CLONE3
