#include <gtest/gtest.h>
#include <signal.h>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

TaskSpec tagged(TaskSpec spec, const std::string& tag) {
  auto eq = tag.find('=');
  spec.env.emplace_back(tag.substr(0, eq), tag.substr(eq + 1));
  return spec;
}

}  // namespace

TEST(Stopping, ATaskThatIgnoresTermIsKilledAfterTheGrace) {
  Supervisor sup;
  auto spec = TaskSpec::shell("trap '' TERM; echo ready; while :; do sleep 0.05; done");
  spec.stop = StopLadder::standard(Duration(300ms));
  auto task = sup.run(spec);
  test::eventually([&] { return task->output().size() > 0; });
  auto started = std::chrono::steady_clock::now();
  auto status = sup.stop_and_wait(task);
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_EQ(status.signal, SIGKILL);
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);
}

TEST(Stopping, ATaskThatHonoursTermEndsAtOnce) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"sleep", "30"}));
  auto started = std::chrono::steady_clock::now();
  auto status = sup.stop_and_wait(task);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_EQ(status.signal, SIGTERM);
  EXPECT_NE(status.reason.find("stopped by request"), std::string::npos) << status.reason;
}

TEST(Stopping, BackgroundChildrenOfAShellDieWithIt) {
  auto tag = test::unique_tag();
  Supervisor sup;
  auto task = sup.run(tagged(TaskSpec::shell("sleep 1000 & sleep 1000"), tag));
  ASSERT_TRUE(test::eventually([&] { return test::processes_with(tag).size() == 3; }));
  sup.stop_and_wait(task);
  EXPECT_TRUE(test::eventually([&] { return test::processes_with(tag).empty(); }))
      << test::processes_with(tag).size() << " processes left";
}

TEST(Stopping, ADoubleForkedSetsidEscapeeIsFoundAndStopped) {
  auto tag = test::unique_tag();
  Supervisor sup;
  // The grandchild leaves the task's process group and session, and its
  // parent exits: only the inherited marker ties it to the task.
  auto task = sup.run(tagged(TaskSpec::shell("(setsid sleep 1000 &) ; exec sleep 1000"), tag));
  // Not just two processes: the subshell may still be there and the escapee not yet.
  ASSERT_TRUE(test::eventually([&] { return !test::settled_processes_with(tag, 2, "sleep").empty(); }));
  sup.stop_and_wait(task);
  EXPECT_TRUE(test::eventually([&] { return test::processes_with(tag).empty(); }))
      << test::processes_with(tag).size() << " processes left";
  EXPECT_TRUE(test::eventually([] { return test::zombie_children() == 0; }));
}

TEST(Stopping, LeftoversOfATaskThatExitedAreStopped) {
  auto tag = test::unique_tag();
  Supervisor sup;
  // The shell exits at once; its background child would hold the pipe forever.
  auto task = sup.run(tagged(TaskSpec::shell("sleep 1000 & echo started"), tag));
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_TRUE(test::eventually([&] { return test::processes_with(tag).empty(); }));
  EXPECT_EQ(task->output().read(0).data, "started\n");
}

TEST(Stopping, KillSendsOneSignalAndTheTaskEndsKilled) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"sleep", "30"}));
  EXPECT_TRUE(sup.kill(task, SIGINT));
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::killed);
  EXPECT_EQ(status->signal, SIGINT);
  EXPECT_FALSE(sup.kill(task, SIGINT));
}

TEST(Stopping, DestroyingASupervisorWithFiftyTasksLeavesNothingBehind) {
  auto tag = test::unique_tag();
  process::shared_dev_null();  // the process keeps this one for good: not the Supervisor's
  auto fds_before = test::open_fds();
  std::vector<TaskPtr> tasks;
  {
    Supervisor sup;
    for (int i = 0; i < 50; ++i) {
      tasks.push_back(sup.run(tagged(TaskSpec::shell(i % 2 ? "exec sleep 1000" : "sleep 1000 & exec sleep 1000"), tag)));
    }
    ASSERT_TRUE(test::eventually([&] { return test::processes_with(tag).size() == 75; }))
        << test::processes_with(tag).size();
  }
  EXPECT_TRUE(test::processes_with(tag).empty()) << test::processes_with(tag).size() << " left";
  EXPECT_EQ(test::zombie_children(), 0);
  EXPECT_EQ(test::open_fds(), fds_before);
  for (const auto& t : tasks) {
    EXPECT_EQ(t->state(), TaskState::killed);
    EXPECT_NE(t->status().reason.find("shutdown"), std::string::npos) << t->status().reason;
  }
}

TEST(Stopping, ShutdownStopsEverythingAndRefusesNewTasks) {
  auto tag = test::unique_tag();
  Supervisor sup;
  auto a = sup.run(tagged(TaskSpec::exec({"sleep", "30"}), tag));
  auto b = sup.run(tagged(TaskSpec::shell("sleep 30 & sleep 30"), tag));
  sup.shutdown();
  EXPECT_EQ(a->state(), TaskState::killed);
  EXPECT_EQ(b->state(), TaskState::killed);
  EXPECT_TRUE(test::processes_with(tag).empty());
  EXPECT_THROW(sup.run(TaskSpec::exec({"true"})), std::logic_error);
}

TEST(Stopping, AnEscapeeOfATaskThatEndedIsStoppedToo) {
  auto tag = test::unique_tag();
  Supervisor sup;
  // The task ends at once; its grandchild left its group and session and was
  // reparented to us: only the orphan scan can tell whose it is.
  auto task = sup.run(tagged(TaskSpec::shell("(setsid sleep 1000 &); echo started"), tag));
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_TRUE(test::eventually([&] { return test::processes_with(tag).empty(); }))
      << test::processes_with(tag).size() << " processes left";
}
