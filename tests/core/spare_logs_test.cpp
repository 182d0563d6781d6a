// Discarded tasks' log files are emptied and reused for later logs, unless
// something still has one open.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

ino_t inode_of(const std::filesystem::path& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 ? st.st_ino : 0;
}

TaskPtr run_to_end(Supervisor& sup, const std::string& command) {
  auto task = sup.run(TaskSpec::shell(command));
  auto status = sup.wait(task, 10s);
  EXPECT_TRUE(status && status->state == TaskState::succeeded) << command;
  return task;
}

}  // namespace

TEST(SpareLogs, ADiscardedTasksFilesComeBackEmptyForTheNextTask) {
  test::TempDir dir;
  Supervisor sup(test::direct_files(dir.path()));
  auto first = run_to_end(sup, "echo first; echo oops >&2");
  auto first_out = first->output(Stream::stdout_stream).file();
  auto first_err = first->output(Stream::stderr_stream).file();
  ino_t out_inode = inode_of(first_out), err_inode = inode_of(first_err);
  ASSERT_NE(out_inode, 0u);
  sup.discard(first);
  EXPECT_FALSE(std::filesystem::exists(first_out));
  EXPECT_FALSE(std::filesystem::exists(first_err));
  EXPECT_EQ(sup.find(first->id()), nullptr);

  auto second = run_to_end(sup, "echo second");
  auto second_out = second->output(Stream::stdout_stream).file();
  EXPECT_EQ(test::file_text(second_out), "second\n");
  EXPECT_EQ(test::file_text(second->output(Stream::stderr_stream).file()), "");
  EXPECT_EQ(second->output(Stream::stdout_stream).read(0).data, "second\n");
  // The very same files, not new ones.
  std::set<ino_t> reused{inode_of(second_out), inode_of(second->output(Stream::stderr_stream).file())};
  EXPECT_EQ(reused, (std::set<ino_t>{out_inode, err_inode}));
}

TEST(SpareLogs, AFileSomeoneStillHasOpenIsDeletedNeverReused) {
  test::TempDir dir;
  Supervisor sup(test::direct_files(dir.path()));
  auto first = run_to_end(sup, "echo first");
  auto file = first->output(Stream::stdout_stream).file();
  ino_t held_inode = inode_of(file);
  // Stands for an escaped descendant that still holds the task's stdout.
  int held = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  ASSERT_GE(held, 0);
  sup.discard(first);
  EXPECT_FALSE(std::filesystem::exists(file));

  auto second = run_to_end(sup, "echo second");
  ASSERT_EQ(::write(held, "late\n", 5), 5);
  ::close(held);
  EXPECT_NE(inode_of(second->output(Stream::stdout_stream).file()), held_inode);
  EXPECT_EQ(test::file_text(second->output(Stream::stdout_stream).file()), "second\n");
}

TEST(SpareLogs, ALaterSupervisorTakesUpTheSparesOfAnEarlierOne) {
  test::TempDir dir;
  ino_t inode = 0;
  {
    Supervisor sup(test::direct_files(dir.path()));
    auto task = run_to_end(sup, "echo one");
    inode = inode_of(task->output(Stream::stdout_stream).file());
    sup.discard(task);
  }
  SupervisorOptions o = test::direct_files(dir.path());
  o.first_id = 100;
  Supervisor sup(o);
  auto task = run_to_end(sup, "echo two");
  std::set<ino_t> inodes{inode_of(task->output(Stream::stdout_stream).file()),
                         inode_of(task->output(Stream::stderr_stream).file())};
  EXPECT_TRUE(inodes.count(inode));
  EXPECT_EQ(test::file_text(task->output(Stream::stdout_stream).file()), "two\n");
}

TEST(SpareLogs, NewSparesNeverReplaceOnesAnEarlierRunLeft) {
  test::TempDir dir;
  // What an earlier run left: spares 1 and 2 (0 was reused since).
  std::filesystem::create_directories(dir.path() / ".spare");
  for (const char* name : {"1", "2"}) std::ofstream(dir.path() / ".spare" / name);
  Supervisor sup(test::direct_files(dir.path()));
  // A finished task taken up from a record: it takes no spare, and gives two.
  TaskStatus finished;
  finished.id = 7;
  finished.state = TaskState::succeeded;
  finished.exit_code = 0;
  auto task = sup.restore(TaskSpec::exec({"true"}), finished);
  sup.discard(task);
  auto spares = std::distance(std::filesystem::directory_iterator(dir.path() / ".spare"),
                              std::filesystem::directory_iterator());
  EXPECT_EQ(spares, 4);
}
