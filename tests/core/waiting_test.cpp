#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

TEST(Waiting, AWaitTimeoutReturnsWithoutStoppingTheTask) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"sleep", "30"}));
  auto started = std::chrono::steady_clock::now();
  EXPECT_FALSE(sup.wait(task, Duration(200ms)));
  EXPECT_GE(std::chrono::steady_clock::now() - started, 200ms);
  EXPECT_EQ(task->state(), TaskState::running);
  EXPECT_FALSE(sup.poll(task));
  sup.stop_and_wait(task);
}

TEST(Waiting, AWaitThatIsToldToStopStopsOnTimeout) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"sleep", "30"}));
  auto status = sup.wait(task, Duration(100ms), OnTimeout::stop);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::timed_out);
  EXPECT_EQ(status->signal, SIGTERM);
}

TEST(Waiting, WaitAnyReturnsTheFirstToFinish) {
  Supervisor sup;
  auto slow = sup.run(TaskSpec::exec({"sleep", "3"}));
  auto fast = sup.run(TaskSpec::exec({"sleep", "0.2"}));
  auto middle = sup.run(TaskSpec::exec({"sleep", "1.5"}));
  auto first = sup.wait_any({slow, fast, middle}, Duration(10s));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, fast);
  EXPECT_EQ(slow->state(), TaskState::running);
  EXPECT_EQ(middle->state(), TaskState::running);
  // Once several have finished, the earliest is still the answer.
  sup.wait(middle);
  EXPECT_EQ(*sup.wait_any({middle, slow, fast}), fast);
}

TEST(Waiting, WaitAnyTimesOutWithNothing) {
  Supervisor sup;
  auto a = sup.run(TaskSpec::exec({"sleep", "30"}));
  EXPECT_FALSE(sup.wait_any({a}, Duration(100ms)));
  EXPECT_FALSE(sup.wait_any({}, Duration(100ms)));
}

TEST(Waiting, WaitAllReturnsThePartialSetOnTimeout) {
  Supervisor sup;
  auto a = sup.run(TaskSpec::exec({"true"}));
  auto b = sup.run(TaskSpec::exec({"sleep", "0.3"}));
  auto c = sup.run(TaskSpec::exec({"sleep", "30"}));
  auto done = sup.wait_all({c, b, a}, Duration(2s));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0], a);  // in the order they finished
  EXPECT_EQ(done[1], b);
  EXPECT_EQ(c->state(), TaskState::running);
  auto all = sup.wait_all({a, b}, Duration(1s));
  EXPECT_EQ(all.size(), 2u);
}

TEST(Waiting, PollNeverBlocks) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"sleep", "0.2"}));
  EXPECT_FALSE(sup.poll(task));
  sup.wait(task);
  auto status = sup.poll(task);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
}

TEST(Waiting, ManyThreadsWaitOnTheSameTask) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::exec({"sleep", "0.3"}));
  std::vector<std::thread> threads;
  std::atomic<int> woke{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (sup.wait(task, Duration(10s))) ++woke;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(woke.load(), 8);
}
