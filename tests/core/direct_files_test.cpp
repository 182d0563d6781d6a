// Tasks writing their own log files (what the daemon does): what a fast
// writer wrote is all there by cursor, whether or not the Supervisor read
// every byte back on the way.

#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

SupervisorOptions small_ring(const std::filesystem::path& dir) {
  SupervisorOptions o = test::direct_files(dir);
  o.ring_capacity = 64 * 1024;  // far less than the task writes
  return o;
}

// 8 MiB of numbered lines: any byte out of place shows.
const char* kWriter = "seq 1 2000000 | head -c 8388608";

std::string expected_output() {
  std::string all;
  for (int i = 1; all.size() < 8388608; ++i) all += std::to_string(i) + "\n";
  all.resize(8388608);
  return all;
}

std::string read_all(const TaskPtr& task) {
  std::string all;
  std::uint64_t cursor = 0;
  while (true) {
    auto r = task->output(Stream::stdout_stream).read(cursor);
    if (r.data.empty()) break;
    all += r.data;
    cursor = r.next_cursor;
  }
  return all;
}

}  // namespace

TEST(DirectFiles, AFastWriterNobodyFollowsIsAllThereByCursor) {
  test::TempDir dir;
  Supervisor sup(small_ring(dir.path()));
  auto task = sup.run(TaskSpec::shell(kWriter));
  auto status = sup.wait(task, 30s);
  ASSERT_TRUE(status && status->state == TaskState::succeeded);
  const std::string expected = expected_output();
  EXPECT_EQ(task->output(Stream::stdout_stream).size(), expected.size());
  EXPECT_TRUE(read_all(task) == expected) << "the log read by cursor differs from what was written";
  EXPECT_EQ(task->output(Stream::stdout_stream).tail(1000), expected.substr(expected.size() - 1000));
  EXPECT_EQ(task->output(Stream::stdout_stream).tail_lines(2).size(), 2u);
}

TEST(DirectFiles, AnOutputSubscriberGetsEveryByteInOrder) {
  test::TempDir dir;
  Supervisor sup(small_ring(dir.path()));
  std::string seen;
  auto sub = sup.subscribe([&](const Event& e) {
    if (e.kind == Event::Kind::output && e.stream == Stream::stdout_stream) seen += e.data;
  });
  auto task = sup.run(TaskSpec::shell(kWriter));
  auto status = sup.wait(task, 30s);
  ASSERT_TRUE(status && status->state == TaskState::succeeded);
  EXPECT_TRUE(seen == expected_output()) << "events carried " << seen.size() << " bytes";
}

TEST(DirectFiles, ASubscriberWithoutOutputSeesTheEndButNoBytes) {
  test::TempDir dir;
  Supervisor sup(small_ring(dir.path()));
  int outputs = 0, exits = 0;
  auto sub = sup.subscribe(
      [&](const Event& e) {
        outputs += e.kind == Event::Kind::output;
        exits += e.kind == Event::Kind::exited;
      },
      /*with_output=*/false);
  auto task = sup.run(TaskSpec::shell(kWriter));
  ASSERT_TRUE(sup.wait(task, 30s));
  EXPECT_EQ(outputs, 0);
  EXPECT_EQ(exits, 1);
  EXPECT_TRUE(read_all(task) == expected_output());
}
