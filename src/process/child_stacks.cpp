#include "child_stacks.hpp"

#ifdef TEND_HAVE_CLONE3

#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <mutex>
#include <vector>

namespace tend::process {
namespace {

// Enough for a burst of spawns: past this many children between their clone
// and their exec, a spawn waits (up to kStackWait) for one of them first.
constexpr std::size_t kMaxStacks = 64;
constexpr auto kStackWait = std::chrono::milliseconds(100);

std::mutex g_stacks_mutex;

// Never freed: children may still be using them when we exit.
std::vector<std::unique_ptr<ChildStack>>& all_stacks() {
  static auto* stacks = new std::vector<std::unique_ptr<ChildStack>>;
  return *stacks;
}

void futex_wait(std::atomic<pid_t>& word, pid_t value, std::chrono::nanoseconds limit) {
  timespec ts{static_cast<time_t>(limit.count() / 1000000000), static_cast<long>(limit.count() % 1000000000)};
  // Not FUTEX_PRIVATE: the kernel's wake at the child's exec is a shared one.
  ::syscall(SYS_futex, reinterpret_cast<int*>(&word), FUTEX_WAIT, value, &ts, nullptr, 0);
}

}  // namespace

ChildStack::ChildStack() {
  map_ = ::mmap(nullptr, kGuard + kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (map_ == MAP_FAILED) fail(SpawnError::Kind::system, "", errno, "cannot map a stack for a child");
  ::mprotect(map_, kGuard, PROT_NONE);  // an overflow faults instead of writing into something of ours
}

ChildStack::~ChildStack() { ::munmap(map_, kGuard + kSize); }

// Finds a stack that is neither taken nor busy, or maps one. Until the
// pool is full, or once kStackWait has passed, it grows rather than waits.
ChildStack& ChildStackLease::take() {
  const auto give_up = std::chrono::steady_clock::now() + kStackWait;
  std::size_t next = 0;
  while (true) {
    ChildStack* wait_on = nullptr;
    pid_t seen = 0;
    {
      std::lock_guard lock(g_stacks_mutex);
      auto& stacks = all_stacks();
      for (auto& s : stacks) {
        if (!s->taken_ && s->busy.load(std::memory_order_acquire) == 0) {
          s->taken_ = true;
          return *s;
        }
      }
      if (stacks.size() < kMaxStacks || std::chrono::steady_clock::now() >= give_up) {
        // Past the wait, grow anyway: a child that died by a core-dumping
        // signal before its exec never has its word cleared.
        stacks.push_back(std::make_unique<ChildStack>());
        stacks.back()->taken_ = true;
        return *stacks.back();
      }
      wait_on = stacks[next++ % stacks.size()].get();
      seen = wait_on->busy.load(std::memory_order_acquire);
    }
    if (seen != 0) futex_wait(wait_on->busy, seen, std::chrono::milliseconds(1));
  }
}

ChildStackLease::ChildStackLease() : stack_(take()) {}

ChildStackLease::~ChildStackLease() {
  std::lock_guard lock(g_stacks_mutex);
  stack_.taken_ = false;
}

}  // namespace tend::process

#endif  // TEND_HAVE_CLONE3
