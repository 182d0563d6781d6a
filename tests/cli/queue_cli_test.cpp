// The queue as a pueue user meets it (issue 17): commands on several tasks
// do what they can and say why not for the rest, a queued task can be
// removed, groups are added before use, and each task knows its id, group
// and worker slot.

#include <gtest/gtest.h>

#include "cli/cli_support.hpp"

using namespace tend;
using namespace tend::test;
using nlohmann::json;

TEST(CliQueue, RmOfSeveralRemovesWhatItCanAndSaysWhyNotForTheRest) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "3\n");

  auto rm = home.tend({"rm", "1", "2", "3"});
  EXPECT_EQ(rm.exit_code, 1);
  EXPECT_EQ(rm.out, "removed 1\nremoved 2\n");
  EXPECT_EQ(rm.err, "tend: task 3 is running; stop it first (tend kill 3)\n");
  auto listed = home.tend_json({"ls", "--all", "--json"})["tasks"];
  ASSERT_EQ(listed.size(), 1u) << listed.dump();
  EXPECT_EQ(listed[0]["id"], 3);

  // One reference that names no task is still a usage error.
  auto unknown = home.tend({"rm", "99"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "no task 99")) << unknown.err;
  EXPECT_EQ(home.tend({"kill", "3"}).exit_code, 0);
  auto both = home.tend({"rm", "3", "98"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_EQ(both.out, "removed 3\n");
  EXPECT_EQ(both.err, "tend: no task 98\n");
}

TEST(CliQueue, KillOfSeveralKillsTheKnownOnesAndReportsTheUnknown) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--name", "second", "--", "sleep", "60"}).out, "2\n");

  auto kill = home.tend({"kill", "1", "second", "99"});
  EXPECT_EQ(kill.exit_code, 1);
  EXPECT_TRUE(contains(kill.out, "1 killed: ")) << kill.out;
  EXPECT_TRUE(contains(kill.out, "2 killed: ")) << kill.out;
  EXPECT_EQ(kill.err, "tend: no task 99\n");
  EXPECT_EQ(state_of(home, "1"), "killed");
  EXPECT_EQ(state_of(home, "2"), "killed");

  auto one_signal = home.tend({"kill", "--signal", "USR1", "1", "nobody"});
  EXPECT_EQ(one_signal.exit_code, 1);
  EXPECT_EQ(one_signal.out, "1: not running\n");
  EXPECT_EQ(one_signal.err, "tend: no task named \"nobody\"\n");
  EXPECT_EQ(home.tend({"kill", "99"}).exit_code, 2);
}

TEST(CliQueue, RmOfAQueuedTaskRemovesItAndFailsTheTasksAfterIt) {
  TendHome home;
  ASSERT_EQ(home.tend({"parallel", "1", "--group", "default"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--", "true"}).out, "2\n");
  ASSERT_EQ(home.tend({"run", "--after", "2", "--", "true"}).out, "3\n");
  ASSERT_EQ(state_of(home, "2"), "queued");

  auto rm = home.tend({"rm", "2"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(rm.out, "removed 2\n");
  EXPECT_EQ(home.tend({"status", "2"}).exit_code, 2);  // gone, as a finished task's rm leaves it
  auto after = home.tend_json({"status", "3", "--json"});
  EXPECT_EQ(after["state"], "failed");
  EXPECT_EQ(after["reason"], "dependency 2 was removed");
  EXPECT_EQ(state_of(home, "1"), "running");  // the rest of the queue is untouched
  EXPECT_EQ(home.tend({"kill", "1"}).exit_code, 0);
}

TEST(CliQueue, RunInAGroupThatWasNeverAddedIsRefused) {
  TendHome home;
  auto refused = home.tend({"run", "--group", "nosuch", "--", "true"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_TRUE(contains(refused.err, "no group \"nosuch\"")) << refused.err;
  EXPECT_TRUE(contains(refused.err, "tend group add nosuch")) << refused.err;
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"}), json({{"tasks", json::array()}}));

  ASSERT_EQ(home.tend({"group", "add", "nosuch", "--parallel", "2"}).exit_code, 0);
  EXPECT_EQ(home.tend({"run", "--wait", "--group", "nosuch", "--", "true"}).exit_code, 0);
  ASSERT_EQ(home.tend({"parallel", "3", "--group", "limited"}).exit_code, 0);  // a limit makes a group too
  EXPECT_EQ(home.tend({"run", "--wait", "--group", "limited", "--", "true"}).exit_code, 0);
  EXPECT_EQ(home.tend({"run", "--wait", "--group", "default", "--", "true"}).exit_code, 0);
}

TEST(CliQueue, EachTaskKnowsItsIdGroupAndWorkerSlot) {
  TendHome home;
  ASSERT_EQ(home.tend({"group", "add", "gpu", "--parallel", "2"}).exit_code, 0);
  // Each says who it is, then runs until killed.
  const std::string says = "echo \"$TEND_TASK_ID $TEND_GROUP $TEND_WORKER_SLOT\"; exec sleep 60";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(home.tend({"run", "--group", "gpu", "--", "sh", "-c", says}).exit_code, 0);
  }
  auto said = [&](const std::string& id) { return home.tend({"logs", id, "--stdout"}).out; };
  ASSERT_TRUE(eventually([&] { return said("1") == "1 gpu 0\n" && said("2") == "2 gpu 1\n"; }))
      << said("1") << said("2");
  EXPECT_EQ(state_of(home, "3"), "queued");

  // The first ends; the third takes its slot while the second still holds 1.
  ASSERT_EQ(home.tend({"kill", "1"}).exit_code, 0);
  ASSERT_TRUE(eventually([&] { return said("3") == "3 gpu 0\n"; })) << said("3");
  EXPECT_EQ(state_of(home, "2"), "running");
  ASSERT_EQ(home.tend({"kill", "2", "3"}).exit_code, 0);

  auto plain = home.tend({"run", "--wait", "--", "sh", "-c", "echo \"$TEND_TASK_ID $TEND_GROUP $TEND_WORKER_SLOT\""});
  EXPECT_EQ(plain.out, "4 default 0\n") << plain.err;
}
