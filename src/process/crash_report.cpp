#include "tend/process/crash_report.hpp"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace tend::process {
namespace {

// Everything the handler reads is prepared here beforehand: it may not
// allocate, lock or call anything but async-signal-safe functions.
int report_fd = -1;
char who_text[64] = "tend";
std::uintptr_t stack_low = 0;
alignas(16) char alternate_stack[64 * 1024];

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS};

// A line built in place, cut (not overrun) when it is full.
struct Line {
  char text[512];
  std::size_t size = 0;

  void add(const char* s) {
    while (*s && size < sizeof text - 1) text[size++] = *s++;
  }
  void add_number(std::uint64_t v, int width = 1) {
    char digits[24];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    for (; n < width; --width) add("0");
    while (n > 0 && size < sizeof text - 1) text[size++] = digits[--n];
  }
  void add_hex(std::uintptr_t v) {
    add("0x");
    bool started = false;
    for (int shift = static_cast<int>(sizeof v * 8) - 4; shift >= 0; shift -= 4) {
      unsigned nibble = (v >> shift) & 0xf;
      if (!nibble && !started && shift != 0) continue;
      started = true;
      char c[2] = {static_cast<char>(nibble < 10 ? '0' + nibble : 'a' + nibble - 10), 0};
      add(c);
    }
  }
  // "2026-11-25T10:00:00Z": the civil date of a count of days (Howard Hinnant's algorithm).
  void add_utc_now() {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    std::int64_t secs = now.tv_sec;
    std::int64_t z = secs / 86400 + 719468;
    std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    auto doe = static_cast<std::uint64_t>(z - era * 146097);
    std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    std::uint64_t mp = (5 * doy + 2) / 153;
    std::uint64_t day = doy - (153 * mp + 2) / 5 + 1;
    std::uint64_t month = mp < 10 ? mp + 3 : mp - 9;
    auto year = static_cast<std::uint64_t>(static_cast<std::int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0));
    std::uint64_t in_day = static_cast<std::uint64_t>(secs % 86400);
    add_number(year, 4), add("-"), add_number(month, 2), add("-"), add_number(day, 2), add("T");
    add_number(in_day / 3600, 2), add(":"), add_number(in_day / 60 % 60, 2), add(":"), add_number(in_day % 60, 2);
    add("Z");
  }
};

const char* name_of(int sig) {
  switch (sig) {
    case SIGSEGV: return "SIGSEGV (invalid memory access)";
    case SIGBUS: return "SIGBUS (bus error)";
    case SIGILL: return "SIGILL (illegal instruction)";
    case SIGFPE: return "SIGFPE (arithmetic error)";
    case SIGABRT: return "SIGABRT (aborted)";
    case SIGSYS: return "SIGSYS (bad system call)";
  }
  return "a fatal signal";
}

// The main thread's stack grows down to its limit; a fault just below it
// (in the guard gap) or in its last pages is a stack that ran out.
bool looks_like_stack_overflow(std::uintptr_t address) {
  if (stack_low == 0) return false;
  constexpr std::uintptr_t kNear = 1u << 20;
  return address >= (stack_low > kNear ? stack_low - kNear : 0) && address < stack_low + 64 * 1024;
}

extern "C" void on_fatal_signal(int sig, siginfo_t* info, void*) {
  const int saved_errno = errno;
  Line line;
  line.add_utc_now();
  line.add(" critical ");
  line.add(who_text);
  line.add(" (pid ");
  line.add_number(static_cast<std::uint64_t>(::getpid()));
  line.add(") died of ");
  line.add(name_of(sig));
  if (info && info->si_code > 0 && sig != SIGABRT) {
    // Raised by the hardware: the address says where.
    auto address = reinterpret_cast<std::uintptr_t>(info->si_addr);
    line.add(" at address ");
    line.add_hex(address);
    if (sig == SIGSEGV && looks_like_stack_overflow(address)) {
      line.add(": a stack overflow (recursion too deep)");
    }
  } else if (info && info->si_code == SI_USER) {
    line.add(", sent by pid ");
    line.add_number(static_cast<std::uint64_t>(info->si_pid));
  }
  line.add("\n");
  for (std::size_t done = 0; done < line.size;) {
    ssize_t n = ::write(report_fd, line.text + done, line.size - done);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  errno = saved_errno;
  // SA_RESETHAND put the default action back: the signal now ends the
  // process as it would have (a fault also strikes again on return).
  ::raise(sig);
}

void remember_stack_bounds() {
  pthread_attr_t attr;
  if (::pthread_getattr_np(::pthread_self(), &attr) != 0) return;
  void* low = nullptr;
  std::size_t size = 0;
  if (::pthread_attr_getstack(&attr, &low, &size) == 0) {
    stack_low = reinterpret_cast<std::uintptr_t>(low);
  }
  ::pthread_attr_destroy(&attr);
}

}  // namespace

void report_fatal_signals(int fd, const char* who) {
  report_fd = fd;
  std::size_t i = 0;
  for (; who[i] && i < sizeof who_text - 1; ++i) who_text[i] = who[i];
  who_text[i] = '\0';
  remember_stack_bounds();
  stack_t alt{};
  alt.ss_sp = alternate_stack;
  alt.ss_size = sizeof alternate_stack;
  ::sigaltstack(&alt, nullptr);
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int sig : kFatalSignals) ::sigaction(sig, &action, nullptr);
}

}  // namespace tend::process
