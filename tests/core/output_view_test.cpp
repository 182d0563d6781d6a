// Views of a task's output: both streams in the order seen, kept across a
// restart, last lines and matches, and logs past their size cap.

#include "tend/core/output_view.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

const char* kAlternating =
    "printf 'out 1\\n'; sleep 0.2; printf 'err 1\\n' >&2; sleep 0.2; printf 'out 2\\n'; sleep 0.2; "
    "printf 'err 2\\n' >&2; sleep 0.2; printf 'out 3'";

// The bytes a view holds.
std::string text(const TaskPtr& task, OutputSlice slice) { return read_parts(*task, slice.parts); }

std::string both(const TaskPtr& task) { return text(task, view_from(*task, {}, {}, UINT64_MAX)); }

std::string streams_of(const OutputSlice& slice) {
  std::string s;
  for (const auto& p : slice.parts) s += p.stream == Stream::stdout_stream ? 'o' : 'e';
  return s;
}

}  // namespace

TEST(OutputView, BothStreamsOfAPipedTaskComeInTheOrderWritten) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell(kAlternating));
  ASSERT_TRUE(sup.wait(task, Duration(20s)));
  EXPECT_EQ(both(task), "out 1\nerr 1\nout 2\nerr 2\nout 3");
  EXPECT_EQ(streams_of(view_from(*task, {}, {}, UINT64_MAX)), "oeoeo");
}

TEST(OutputView, BothStreamsOfATaskWritingItsOwnFilesComeInOrderAndSurviveARestart) {
  test::TempDir dir;
  TaskSpec spec = TaskSpec::shell(kAlternating);
  TaskStatus ended;
  {
    Supervisor sup(test::direct_files(dir.path()));
    auto task = sup.run(spec);
    auto status = sup.wait(task, Duration(20s));
    ASSERT_TRUE(status);
    ended = *status;
    EXPECT_EQ(both(task), "out 1\nerr 1\nout 2\nerr 2\nout 3");
  }
  Supervisor later(test::direct_files(dir.path()));
  auto task = later.restore(spec, ended);
  EXPECT_EQ(both(task), "out 1\nerr 1\nout 2\nerr 2\nout 3");
  // From a pair of cursors: what comes after them, in order.
  OutputSlice rest = view_from(*task, {}, {6, 0}, UINT64_MAX);
  EXPECT_EQ(text(task, rest), "err 1\nout 2\nerr 2\nout 3");
  EXPECT_TRUE(rest.eof);
  EXPECT_EQ(rest.next.out, 17u);
  EXPECT_EQ(rest.next.err, 12u);
}

TEST(OutputView, LastLinesAndMatchesSpanBothStreams) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell(kAlternating));
  ASSERT_TRUE(sup.wait(task, Duration(20s)));
  EXPECT_EQ(text(task, view_last_lines(*task, {}, 3)), "out 2\nerr 2\nout 3");
  EXPECT_EQ(text(task, view_last_lines(*task, StreamChoice::only(Stream::stderr_stream), 1)), "err 2\n");
  auto has_1 = [](std::string_view line) { return line.find('1') != std::string_view::npos; };
  EXPECT_EQ(text(task, view_matching(*task, {}, {}, has_1, UINT64_MAX)), "out 1\nerr 1\n");
  auto has_3 = [](std::string_view line) { return line.find('3') != std::string_view::npos; };
  // The unterminated last line counts once the task has ended.
  EXPECT_EQ(text(task, view_matching(*task, {}, {}, has_3, UINT64_MAX)), "out 3");
}

TEST(OutputView, ALogPastItsCapKeepsHeadAndTailAndGivesTheDiskBack) {
  test::TempDir dir;
  Supervisor sup(test::direct_files(dir.path()));
  TaskSpec spec = TaskSpec::shell("head -c 20971520 /dev/zero | tr '\\0' x");
  spec.log_limit = 4u << 20;
  spec.log_tail = 1u << 20;
  auto task = sup.run(spec);
  auto status = sup.wait(task, Duration(60s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->stdout_dropped.from, 3u << 20);
  EXPECT_EQ(status->stdout_dropped.to, 19u << 20);
  EXPECT_TRUE(status->stderr_dropped.empty());
  OutputSlice all = view_from(*task, StreamChoice::only(Stream::stdout_stream), {}, UINT64_MAX);
  ASSERT_EQ(all.parts.size(), 3u);
  EXPECT_FALSE(all.parts[0].dropped);
  EXPECT_TRUE(all.parts[1].dropped);
  EXPECT_EQ(all.parts[1].size, 16u << 20);
  EXPECT_EQ(all.bytes(), 4u << 20);
  // Reading inside the dropped range skips to its end.
  OutputRead inside = task->output().read(5u << 20, 10);
  EXPECT_EQ(inside.skipped, (19u << 20) - (5u << 20));
  EXPECT_EQ(inside.data, std::string(10, 'x'));
  struct stat st {};
  ASSERT_EQ(::stat(task->output().file().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 20971520);
  EXPECT_LE(st.st_blocks * 512, 5 << 20);
}

TEST(OutputView, TheLastLinesOfOutputWithoutNewlinesAreAllOfIt) {
  test::TempDir dir;
  OutputLog log(OutputLog::Options{1 << 16, dir.path() / "out.log"});
  log.append("first\n");
  log.append(std::string(70u << 20, 'x'));
  EXPECT_EQ(log.start_of_last_lines(1), 6u);
  EXPECT_EQ(log.start_of_last_lines(5), 0u);
  OutputLog small;
  small.append("1\n2\n3\n4");
  EXPECT_EQ(small.tail_lines(2), (std::vector<std::string>{"3", "4"}));
}
