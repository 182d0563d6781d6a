#include <gtest/gtest.h>

#include <fstream>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

TEST(Queue, NeverRunsMoreThanTheGlobalLimit) {
  Supervisor sup;
  sup.set_parallel("", 4);
  std::mutex m;
  int running = 0, most = 0;
  auto sub = sup.subscribe([&](const Event& e) {
    std::lock_guard lock(m);
    if (e.kind == Event::Kind::started) most = std::max(most, ++running);
    if (e.kind == Event::Kind::exited) --running;
  });
  // All 200 wait for a gate, so they become ready in one burst: submitted one
  // by one, each `true` could end before the next arrives (on a loaded
  // machine, under a sanitizer) and the limit would never be reached.
  auto gate_spec = TaskSpec::exec({"cat"});
  gate_spec.stdin_mode = process::StdinMode::pipe;
  TaskPtr gate = sup.submit(gate_spec);
  std::vector<TaskPtr> tasks;
  for (int i = 0; i < 200; ++i) {
    auto spec = TaskSpec::exec({"true"});
    spec.after = {gate->id()};
    tasks.push_back(sup.submit(spec));
  }
  sup.close_input(gate);
  auto done = sup.wait_all(tasks, Duration(60s));
  EXPECT_EQ(done.size(), 200u);
  for (auto& t : tasks) EXPECT_EQ(t->state(), TaskState::succeeded);
  EXPECT_EQ(most, 4);
}

TEST(Queue, GroupsHaveTheirOwnLimits) {
  Supervisor sup;
  sup.set_parallel("builds", 1);
  auto spec = TaskSpec::exec({"sleep", "30"});
  spec.group = "builds";
  auto a = sup.submit(spec);
  auto b = sup.submit(spec);
  auto other = sup.submit(TaskSpec::exec({"sleep", "30"}));  // the default group has room
  EXPECT_EQ(a->state(), TaskState::running);
  EXPECT_EQ(b->state(), TaskState::queued);
  EXPECT_EQ(other->state(), TaskState::running);
  sup.stop_and_wait(a);
  EXPECT_TRUE(test::eventually([&] { return b->state() == TaskState::running; }));
  sup.stop_and_wait(b);
  sup.stop_and_wait(other);
}

TEST(Queue, DependenciesRunFirstAndAFailedOneFailsItsDependents) {
  Supervisor sup;
  auto first = sup.submit(TaskSpec::exec({"sleep", "0.2"}));
  auto spec = TaskSpec::exec({"true"});
  spec.after = {first->id()};
  auto second = sup.submit(spec);
  EXPECT_EQ(second->state(), TaskState::queued);
  auto status = sup.wait(second, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_GE(*status->started_at, *first->status().ended_at);

  auto bad = sup.submit(TaskSpec::exec({"false"}));
  auto dependent = TaskSpec::exec({"true"});
  dependent.after = {bad->id()};
  auto d = sup.submit(dependent);
  auto chained = TaskSpec::exec({"true"});
  chained.after = {d->id()};
  auto c = sup.submit(chained);
  auto ds = sup.wait(c, Duration(10s));
  ASSERT_TRUE(ds);
  EXPECT_EQ(d->state(), TaskState::failed);
  EXPECT_NE(d->status().reason.find("dependency"), std::string::npos) << d->status().reason;
  EXPECT_EQ(ds->state, TaskState::failed);
  EXPECT_THROW(sup.submit([] {
    auto s = TaskSpec::exec({"true"});
    s.after = {9999};
    return s;
  }()), TaskError);
}

TEST(Queue, HigherPriorityStartsFirst) {
  Supervisor sup;
  sup.set_parallel("", 1);
  auto blocker = sup.submit(TaskSpec::exec({"sleep", "0.3"}));
  auto low = sup.submit(TaskSpec::exec({"true"}));
  auto high_spec = TaskSpec::exec({"true"});
  high_spec.priority = 10;
  auto high = sup.submit(high_spec);
  sup.wait_all({blocker, low, high}, Duration(10s));
  EXPECT_LT(*high->status().started_at, *low->status().started_at);
}

TEST(Queue, StoppingAQueuedTaskRemovesIt) {
  Supervisor sup;
  sup.set_parallel("", 1);
  auto blocker = sup.submit(TaskSpec::exec({"sleep", "30"}));
  auto queued = sup.submit(TaskSpec::exec({"true"}));
  auto status = sup.stop_and_wait(queued);
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_EQ(status.reason, "removed from the queue by request");
  sup.stop_and_wait(blocker);
}

TEST(Queue, ASpawnErrorOfAQueuedTaskIsItsFailure) {
  Supervisor sup;
  auto task = sup.submit(TaskSpec::exec({"tend-missing-program"}));
  auto status = sup.wait(task, Duration(5s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::failed);
  EXPECT_NE(status->reason.find("tend-missing-program"), std::string::npos) << status->reason;
}

TEST(Queue, AFailureEndsAChainOfAHundredThousandDependentsWithoutExhaustingTheStack) {
  // Each failed dependent failed the next from inside its own end: one
  // level of recursion per task, and a client's long chain killed the daemon.
  Supervisor sup;
  auto gate = sup.submit(TaskSpec::exec({"sleep", "1000"}));
  TaskPtr last = gate;
  for (int i = 0; i < 100000; ++i) {
    auto spec = TaskSpec::exec({"true"});
    spec.after = {last->id()};
    last = sup.submit(spec);
  }
  ASSERT_EQ(last->state(), TaskState::queued);
  sup.kill(gate, SIGKILL);
  auto status = sup.wait(last, Duration(60s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::failed);
  EXPECT_NE(status->reason.find("dependency"), std::string::npos) << status->reason;
}

TEST(Queue, ATaskThatCannotStartEndsAtOnceWithAShellsStatusAndWhy) {
  Supervisor sup;
  auto missing = sup.submit(TaskSpec::exec({"tend-no-such-program"}));
  // Ended within submit: the caller's answer can say so.
  auto st = missing->status();
  EXPECT_EQ(st.state, TaskState::failed);
  EXPECT_EQ(st.exit_code, 127);
  ASSERT_TRUE(st.start_failure);
  EXPECT_NE(st.start_failure->find("no such program: tend-no-such-program"), std::string::npos) << *st.start_failure;
  EXPECT_EQ(st.reason, "could not start: " + *st.start_failure);

  test::TempDir dir;
  { std::ofstream(dir.path() / "script") << "#!/bin/sh\n"; }
  auto spec = TaskSpec::exec({"script"});
  spec.env = {{"PATH", dir.path().string()}};
  auto not_executable = sup.submit(spec);
  EXPECT_EQ(not_executable->status().exit_code, 126);

  auto ran = sup.submit(TaskSpec::exec({"false"}));
  sup.wait(ran);
  EXPECT_FALSE(ran->status().start_failure);
}
