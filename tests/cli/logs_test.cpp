// tend logs: both streams in the order they came, one stream by cursor, the
// last lines, a follow that ends as `tend wait` would, and logs past their
// size cap.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "cli/cli_support.hpp"

using namespace tend;
using namespace tend::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Writes far enough apart (well past the daemon's read latency) to have one order only.
const char* kAlternating =
    "printf 'out 1\\n'; sleep 0.2; printf 'err 1\\n' >&2; sleep 0.2; printf 'out 2\\n'; sleep 0.2; "
    "printf 'err 2\\n' >&2; sleep 0.2; printf 'out 3\\n'";

}  // namespace

TEST(CliLogs, ShowsStdoutAndStderrInTheOrderTheyCame) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", kAlternating}).exit_code, 0);
  auto shown = home.tend_merged({"logs", "1"});
  ASSERT_EQ(shown.exit_code, 0) << shown.out;
  EXPECT_EQ(shown.out, "out 1\nerr 1\nout 2\nerr 2\nout 3\n");
  // Each stream still goes to its own descriptor, byte-exact.
  auto apart = home.tend({"logs", "1"});
  EXPECT_EQ(apart.out, "out 1\nout 2\nout 3\n");
  EXPECT_EQ(apart.err, "err 1\nerr 2\n");
  EXPECT_EQ(home.tend({"logs", "1", "--stderr"}).err, "err 1\nerr 2\n");
}

TEST(CliLogs, TheOrderOfBothStreamsSurvivesADaemonRestart) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", kAlternating}).exit_code, 0);
  ASSERT_EQ(home.tend({"daemon", "stop"}).exit_code, 0);
  auto shown = home.tend_merged({"logs", "1"});
  EXPECT_EQ(shown.out, "out 1\nerr 1\nout 2\nerr 2\nout 3\n");
}

TEST(CliLogs, TailAndGrepWorkOnBothStreamsTogether) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", kAlternating}).exit_code, 0);
  EXPECT_EQ(home.tend_merged({"logs", "1", "--tail", "3"}).out, "out 2\nerr 2\nout 3\n");
  EXPECT_EQ(home.tend_merged({"logs", "1", "--grep", "2"}).out, "out 2\nerr 2\n");
  EXPECT_EQ(home.tend_merged({"logs", "1", "--grep", "err", "--tail", "1"}).out, "err 2\n");
}

TEST(CliLogs, FollowShowsBothStreamsInOrder) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sh", "-c", kAlternating}).exit_code, 0);
  auto follow = home.tend_merged({"logs", "-f", "1"}, 30s);
  EXPECT_EQ(follow.exit_code, 0);
  EXPECT_EQ(follow.out, "out 1\nerr 1\nout 2\nerr 2\nout 3\n");
}

TEST(CliLogs, SinceIsACursorOfOneStream) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", "echo hello; echo oops >&2"}).exit_code, 0);
  auto both = home.tend({"logs", "1", "--since", "2"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("--stdout or --stderr"), std::string::npos) << both.err;
  EXPECT_EQ(home.tend({"logs", "1", "--stdout", "--since", "2"}).out, "llo\n");
  EXPECT_EQ(home.tend({"logs", "1", "--stderr", "--since", "2"}).err, "ps\n");
}

TEST(CliLogs, MergeStderrGivesOneStreamInExactOrder) {
  TendHome home;
  auto run = home.tend({"run", "--merge-stderr", "--wait", "--", "sh", "-c", "for i in 1 2 3; do echo o$i; echo e$i >&2; done"});
  ASSERT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, "o1\ne1\no2\ne2\no3\ne3\n");
  EXPECT_EQ(home.tend({"logs", "1", "--stdout"}).out, "o1\ne1\no2\ne2\no3\ne3\n");
}

TEST(CliLogs, FollowOfATaskThatFailsSaysSoAndExitsAsWaitWould) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sh", "-c", "echo working; sleep 0.3; exit 4"}).exit_code, 0);
  auto follow = home.tend({"logs", "-f", "1"}, 30s);
  EXPECT_EQ(follow.out, "working\n");
  EXPECT_EQ(follow.err, "task 1 failed: exited with code 4\n");
  EXPECT_EQ(follow.exit_code, home.tend({"wait", "1"}).exit_code);
  EXPECT_EQ(follow.exit_code, 1);
  // A task that succeeds adds nothing.
  ASSERT_EQ(home.tend({"run", "--", "echo", "fine"}).exit_code, 0);
  auto fine = home.tend({"logs", "-f", "2"}, 30s);
  EXPECT_EQ(fine.exit_code, 0);
  EXPECT_EQ(fine.err, "");
}

TEST(CliLogs, TailOfOutputWithoutATrailingNewlineEndsUnterminated) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "printf", "one\\ntwo\\nthree\\nfour"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "1", "--tail", "3"}).out, "two\nthree\nfour");
  ASSERT_EQ(home.tend({"run", "--wait", "--", "printf", "no newline at all"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "2", "--tail", "3"}).out, "no newline at all");
}

TEST(CliLogs, TailOfAHugeLineWithoutNewlinesShowsIt) {
  // Past the 64 MiB the tail used to look back at most.
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "sh", "-c", "echo first; head -c 70000000 /dev/zero | tr '\\0' x"})
                .exit_code,
            0);
  auto tail = home.tend({"logs", "1", "--tail", "1"}, 120s);
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.out.size(), 70000000u);
  EXPECT_EQ(tail.out.find_first_not_of('x'), std::string::npos);
}

TEST(CliLogs, ALogPastItsLimitKeepsItsHeadAndTailAndSaysWhatWasDropped) {
  TendHome home;
  // 5 MiB of numbered lines with a 1 MiB cap: the first 512 KiB and the last 512 KiB stay.
  ASSERT_EQ(home.tend({"run", "--log-limit", "1M", "--wait", "--", "sh", "-c", "seq 1 2000000 | head -c 5242880"})
                .exit_code,
            0);
  auto status = home.tend_json({"status", "1", "--json"});
  EXPECT_EQ(status["log_limit"], 1 << 20);
  const json& dropped = status["output_dropped"]["stdout"];
  ASSERT_TRUE(dropped.is_object()) << status.dump();
  EXPECT_EQ(dropped["from"], 512 * 1024);
  EXPECT_EQ(dropped["to"], 5242880 - 512 * 1024);
  EXPECT_NE(status["output_note"].get<std::string>().find("dropped by its log limit"), std::string::npos);
  EXPECT_TRUE(status["output_dropped"]["stderr"].is_null());
  EXPECT_NE(home.tend({"status", "1"}).out.find("of stdout dropped by its log limit"), std::string::npos);

  std::string all;
  for (int i = 1; all.size() < 5242880; ++i) all += std::to_string(i) + "\n";
  all.resize(5242880);
  auto shown = home.tend({"logs", "1", "--stdout"});
  ASSERT_EQ(shown.exit_code, 0);
  EXPECT_TRUE(shown.out == all.substr(0, 512 * 1024) + all.substr(5242880 - 512 * 1024)) << shown.out.size();
  EXPECT_NE(shown.err.find("left out here by the task's log limit"), std::string::npos) << shown.err;
  // A cursor in the dropped range says so and goes on after it.
  auto json_read = home.tend_json({"logs", "1", "--stdout", "--json", "--since", "1000000"});
  EXPECT_EQ(json_read["data"], all.substr(5242880 - 512 * 1024));
  EXPECT_EQ(json_read["parts"][0][3], "dropped");
  // The dropped bytes no longer take disk space.
  struct stat st {};
  ASSERT_EQ(::stat((home.state() / "logs" / "1.stdout").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 5242880);
  EXPECT_LT(st.st_blocks * 512, 3 << 20);
}

TEST(CliLogs, ABadLogLimitIsAUsageError) {
  TendHome home;
  auto r = home.tend({"run", "--log-limit", "lots", "--", "true"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--log-limit"), std::string::npos) << r.err;
}
