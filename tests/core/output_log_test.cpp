#include "tend/core/output_log.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "support/test_support.hpp"

using namespace tend;

TEST(OutputLog, CursorReadsReturnEachByteOnce) {
  OutputLog log;
  log.append("hello ");
  auto r = log.read(0);
  EXPECT_EQ(r.data, "hello ");
  log.append("world");
  auto r2 = log.read(r.next_cursor);
  EXPECT_EQ(r2.data, "world");
  EXPECT_EQ(r2.next_cursor, 11u);
  EXPECT_FALSE(r2.eof);
  log.close();
  EXPECT_TRUE(log.read(r2.next_cursor).eof);
}

TEST(OutputLog, RingKeepsTheTailAndSaysWhatWasSkipped) {
  OutputLog log(OutputLog::Options{8, {}});
  log.append("0123456789");
  auto r = log.read(0);
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_EQ(r.data, "23456789");
  log.append("ab");
  EXPECT_EQ(log.read(8).data, "89ab");
  EXPECT_EQ(log.tail(3), "9ab");
}

TEST(OutputLog, FileKeepsEverythingTheRingDropped) {
  test::TempDir dir;
  OutputLog log(OutputLog::Options{4, dir.path() / "out.log"});
  std::string all;
  for (int i = 0; i < 100; ++i) {
    std::string piece = std::to_string(i) + ",";
    log.append(piece);
    all += piece;
  }
  EXPECT_EQ(log.read(0, 1 << 20).data, all);
  EXPECT_EQ(log.read(0).skipped, 0u);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "out.log"), all.size());
  EXPECT_EQ(std::filesystem::status(dir.path() / "out.log").permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

namespace {
std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}
}  // namespace

// A daemon keeps thousands of logs whose tasks write the files themselves:
// each descriptor held per log cost it tasks (bench/daemon_cost found 2856).
TEST(OutputLog, HoldsNoDescriptorUntilItWritesAndStillReadsFromTheFile) {
  test::TempDir dir;
  std::size_t before = open_descriptors();
  std::vector<std::unique_ptr<OutputLog>> logs;
  for (int i = 0; i < 50; ++i)
    logs.push_back(std::make_unique<OutputLog>(OutputLog::Options{4, dir.path() / (std::to_string(i) + ".log")}));
  EXPECT_EQ(open_descriptors(), before);
  // Bytes the task appended itself, then noted: older than the ring, they come from the file.
  std::ofstream(dir.path() / "0.log") << "written by the task";
  logs[0]->note_appended("written by the task");
  EXPECT_EQ(logs[0]->read(0).data, "written by the task");
  EXPECT_EQ(open_descriptors(), before);
  logs[1]->append("ours");
  EXPECT_EQ(logs[1]->read(0).data, "ours");
  EXPECT_EQ(open_descriptors(), before + 1);
}

TEST(OutputLog, BinaryAndInvalidUtf8PassThrough) {
  OutputLog log(OutputLog::Options{16, {}});
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  std::string out;
  std::uint64_t cursor = 0;
  for (size_t i = 0; i < bytes.size(); i += 7) {
    log.append(std::string_view(bytes).substr(i, 7));
    auto r = log.read(cursor);
    out += r.data;
    cursor = r.next_cursor;
  }
  EXPECT_EQ(out, bytes);
}

TEST(OutputLog, LineViewWaitsForCompleteLinesAndFilters) {
  OutputLog log;
  log.append("alpha\nbeta\ngam");
  auto lines = log.read_lines(0);
  EXPECT_EQ(lines.lines, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(lines.next_cursor, 11u);
  log.append("ma\ndelta");
  Pattern filter("^(gamma|delta)$");
  auto more = log.read_lines(lines.next_cursor, SIZE_MAX, &filter);
  EXPECT_EQ(more.lines, (std::vector<std::string>{"gamma"}));
  log.close();
  auto last = log.read_lines(more.next_cursor, SIZE_MAX, &filter);
  EXPECT_EQ(last.lines, (std::vector<std::string>{"delta"}));
  EXPECT_TRUE(last.eof);
}

TEST(OutputLog, TailLines) {
  OutputLog log;
  log.append("1\n2\n3\n4");
  EXPECT_EQ(log.tail_lines(2), (std::vector<std::string>{"3", "4"}));
  EXPECT_EQ(log.tail_lines(10), (std::vector<std::string>{"1", "2", "3", "4"}));
}
