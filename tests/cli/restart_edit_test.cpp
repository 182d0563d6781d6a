// tend edit and tend restart (issue 17): change a queued task before it
// starts, run an ended one again as a new task, and refuse both, with the
// reason, for a task in the wrong state or input that makes no sense.

#include <signal.h>

#include <gtest/gtest.h>

#include "cli/cli_support.hpp"

using namespace tend;
using namespace tend::test;
using nlohmann::json;

namespace {

void kill_daemon(TendHome& home) {
  auto pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  ASSERT_GT(pid, 1);  // never kill(0) or kill(-1)
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return ::kill(pid, 0) != 0; }));
}

}  // namespace

TEST(CliEdit, EditChangesAQueuedTaskAndTheStoreKeepsTheChange) {
  TendHome home;
  TempDir elsewhere;
  ASSERT_EQ(home.tend({"parallel", "1", "--group", "default"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--env", "KEEP=k", "--env", "GONE=g", "--", "echo", "old"}).out, "2\n");
  ASSERT_EQ(status_of(home, "2")["state"], "queued");

  auto edit = home.tend({"edit", "2", "--command", "echo \"$KEEP-$NEW-$GONE\"; pwd", "--env", "NEW=n", "--unset-env",
                         "GONE", "--priority", "5", "--name", "renamed", "--cwd", elsewhere.path().string()});
  ASSERT_EQ(edit.exit_code, 0) << edit.err;
  EXPECT_TRUE(contains(edit.out, "2 edited: ")) << edit.out;

  // The edit is in the store: a daemon that died takes the queued task up as edited.
  kill_daemon(home);
  // (Whether it is still queued then is not this test's: a re-adopted task
  // does not count against its group's limit today.)
  auto st = status_of(home, "renamed");
  EXPECT_EQ(st["id"], 2);
  EXPECT_EQ(st["command"], "echo \"$KEEP-$NEW-$GONE\"; pwd");
  ASSERT_EQ(home.tend({"kill", "1"}).exit_code, 0);
  EXPECT_EQ(home.tend({"wait", "2"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "2", "--stdout"}).out, "k-n-\n" + elsewhere.path().string() + "\n");
}

TEST(CliEdit, EditOfATaskThatStartedIsRefusedWithItsState) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);

  auto running = home.tend({"edit", "1", "--priority", "3"});
  EXPECT_EQ(running.exit_code, 1);
  EXPECT_TRUE(contains(running.err, "task 1 is running: only a queued task")) << running.err;
  auto ended = home.tend({"edit", "2", "--command", "echo x"});
  EXPECT_EQ(ended.exit_code, 1);
  EXPECT_TRUE(contains(ended.err, "task 2 is succeeded")) << ended.err;
  EXPECT_TRUE(contains(ended.err, "tend restart 2")) << ended.err;
  EXPECT_EQ(status_of(home, "2")["command"], "true");
}

TEST(CliEdit, EditRefusesBadInputClearlyAndTheDaemonStaysUp) {
  TendHome home;
  ASSERT_EQ(home.tend({"parallel", "1", "--group", "default"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--name", "b", "--", "echo", "b"}).out, "2\n");
  ASSERT_EQ(home.tend({"run", "--", "echo", "c"}).out, "3\n");

  auto expect_refused = [&](std::vector<std::string> args, const std::string& why) {
    auto r = home.tend(args);
    EXPECT_EQ(r.exit_code, 2) << args.back() << ": " << r.err;
    EXPECT_TRUE(contains(r.err, why)) << args.back() << ": " << r.err;
  };
  expect_refused({"edit", "2", "--env", "NOEQUALS"}, "--env: expected NAME=VALUE, not \"NOEQUALS\"");
  expect_refused({"edit", "2", "--env", "=v"}, "--env: expected NAME=VALUE");
  expect_refused({"edit", "2", "--command", ""}, "\"shell\" must be a non-empty command line");
  expect_refused({"edit", "2", "--command", "  "}, "\"shell\" must be a non-empty command line");
  expect_refused({"edit", "99", "--priority", "1"}, "no task 99");
  expect_refused({"edit", "2", "--priority", "99999999999"}, "\"priority\" must be a whole number from");
  expect_refused({"edit", "2", "--cwd", "/no/such/dir"}, "\"cwd\" must be an absolute path to a directory");
  expect_refused({"edit", "2", "--unset-env", "A=B"}, "\"unset_env\": \"A=B\" is no variable name");
  expect_refused({"edit", "2", "--name", "123"}, "\"name\"");
  expect_refused({"edit", "3", "--name", "b"}, "belongs to task 2");
  expect_refused({"edit", "2"}, "nothing to change");

  EXPECT_EQ(home.tend({"daemon", "status"}).exit_code, 0);
  auto st = status_of(home, "2");
  EXPECT_EQ(st["state"], "queued");
  EXPECT_EQ(st["command"], "echo b");
}

TEST(CliRestart, RestartRunsAnEndedTaskAgainAsANewTaskWithChangesOnTheWay) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--name", "job", "--env", "X=1", "--", "sh", "-c", "echo $X"}).exit_code, 0);

  auto again = home.tend({"restart", "job"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, "1 restarted as 2\n");
  EXPECT_EQ(home.tend({"wait", "2"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "2", "--stdout"}).out, "1\n");
  EXPECT_EQ(status_of(home, "2")["name"], "job");

  auto changed = home.tend({"restart", "1", "--env", "X=2", "--name", "job2"});
  ASSERT_EQ(changed.exit_code, 0) << changed.err;
  EXPECT_EQ(changed.out, "1 restarted as 3\n");
  EXPECT_EQ(home.tend({"wait", "3"}).exit_code, 0);
  EXPECT_EQ(home.tend({"logs", "job2", "--stdout"}).out, "2\n");

  EXPECT_EQ(status_of(home, "1")["state"], "succeeded");  // the old task is left as it was
}

TEST(CliRestart, RestartOfSeveralAnswersEachAndRefusesTasksThatHaveNotEnded) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "2\n");

  auto several = home.tend({"restart", "1", "2", "99"});
  EXPECT_EQ(several.exit_code, 1);
  EXPECT_EQ(several.out, "1 restarted as 3\n");
  EXPECT_TRUE(contains(several.err, "task 2 is running: only a task that has ended can be restarted")) << several.err;
  EXPECT_TRUE(contains(several.err, "no task 99")) << several.err;

  auto running = home.tend({"restart", "2"});
  EXPECT_EQ(running.exit_code, 1);
  EXPECT_TRUE(contains(running.err, "tend kill 2")) << running.err;
  EXPECT_EQ(home.tend({"restart", "99"}).exit_code, 2);
  auto in_place = home.tend({"restart", "--in-place", "1"});
  EXPECT_EQ(in_place.exit_code, 2);
  EXPECT_TRUE(contains(in_place.err, "--in-place is not supported yet")) << in_place.err;
  auto bad_env = home.tend({"restart", "1", "--env", "NOEQUALS"});
  EXPECT_EQ(bad_env.exit_code, 2);
  EXPECT_TRUE(contains(bad_env.err, "--env: expected NAME=VALUE")) << bad_env.err;
  auto huge = home.tend({"restart", "1", "--priority", "99999999999"});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_TRUE(contains(huge.err, "\"priority\" must be")) << huge.err;
  auto empty = home.tend({"restart", "1", "--command", ""});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_TRUE(contains(empty.err, "non-empty command line")) << empty.err;

  EXPECT_EQ(home.tend({"daemon", "status"}).exit_code, 0);
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"})["tasks"].size(), 3u);  // the refusals made no task
}
