#include "tend/process/crash_report.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace {

// Runs out of any stack: the limit is never reached, but the compiler cannot
// know, and the frame is used after the call, so it cannot become a loop.
volatile int limit = 1 << 30;

__attribute__((noinline)) int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  if (depth >= limit) return frame[0];
  return recurse(depth + 1) + frame[0];
}

}  // namespace

TEST(CrashReport, AStackOverflowIsReportedInOneLineAndTheProcessStillDiesOfIt) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "TSan runs signal handlers deferred, not on the faulting stack";
#endif
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        tend::process::report_fatal_signals(STDERR_FILENO, "tend test");
        recurse(0);
      },
      testing::KilledBySignal(SIGSEGV), "tend test \\(pid [0-9]+\\) died of SIGSEGV .* a stack overflow");
}

TEST(CrashReport, ASignalSentByAnotherProcessIsReportedWithItsSender) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        tend::process::report_fatal_signals(STDERR_FILENO, "tend test");
        ::kill(::getpid(), SIGBUS);
        ::pause();
      },
      testing::KilledBySignal(SIGBUS), "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z critical tend test \\(pid [0-9]+\\) "
                                       "died of SIGBUS \\(bus error\\), sent by pid [0-9]+");
}
