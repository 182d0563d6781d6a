#include <gtest/gtest.h>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

struct EventLog {
  std::mutex m;
  std::vector<Event::Kind> kinds;
  std::vector<std::string> reasons;
  void add(const Event& e) {
    if (e.kind == Event::Kind::output) return;
    std::lock_guard lock(m);
    kinds.push_back(e.kind);
    reasons.push_back(e.status.reason);
  }
  int count(Event::Kind k) {
    std::lock_guard lock(m);
    return static_cast<int>(std::count(kinds.begin(), kinds.end(), k));
  }
};

}  // namespace

TEST(HangDetection, ASilentTaskIsReportedStalledUnderWarn) {
  Supervisor sup;
  EventLog log;
  auto sub = sup.subscribe([&](const Event& e) { log.add(e); });
  auto spec = TaskSpec::shell("echo once; exec sleep 30");
  spec.idle_timeout = Duration(300ms);
  spec.idle_policy = IdlePolicy::warn;
  auto task = sup.run(spec);
  // On a loaded machine the echo itself can come after 300 ms (a first stall
  // that its output then clears): the stall that counts is the one after it.
  ASSERT_TRUE(test::eventually([&] { return task->output().read(0).data == "once\n"; }));
  // The echo's output can be readable a moment before the engine records it
  // as activity (clearing that first stall): wait until both views agree.
  ASSERT_TRUE(test::eventually([&] { return task->status().stalled && task->progress().is_stalled(); }));
  EXPECT_GE(log.count(Event::Kind::stalled), 1);
  EXPECT_EQ(task->state(), TaskState::running);  // warn: it goes on
  sup.stop_and_wait(task);
}

TEST(HangDetection, ASilentTaskIsStoppedUnderStop) {
  Supervisor sup;
  auto spec = TaskSpec::shell("echo once; exec sleep 30");
  spec.idle_timeout = Duration(300ms);
  spec.idle_policy = IdlePolicy::stop;
  auto task = sup.run(spec);
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::stalled);
  EXPECT_NE(status->reason.find("no output for 300ms"), std::string::npos) << status->reason;
}

TEST(HangDetection, ATaskThatKeepsTalkingIsNotStalled) {
  Supervisor sup;
  // It runs well past its idle timeout, so only its output keeps it alive.
  auto spec = TaskSpec::shell("for i in $(seq 30); do echo $i; sleep 0.05; done");
  spec.idle_timeout = Duration(600ms);
  spec.idle_policy = IdlePolicy::stop;
  auto task = sup.run(spec);
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
}

TEST(HangDetection, ProgressPatternDecidesWhatCountsAsProgress) {
  Supervisor sup;
  // Chatter that is not progress does not keep it alive.
  auto spec = TaskSpec::shell("echo 'step 1'; while :; do echo spinner; sleep 0.05; done");
  spec.idle_timeout = Duration(400ms);
  spec.idle_policy = IdlePolicy::stop;
  spec.progress_pattern = "^step [0-9]+";
  auto task = sup.run(spec);
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::stalled);
}

TEST(HangDetection, RecordActivityKeepsATaskAlive) {
  Supervisor sup;
  auto spec = TaskSpec::exec({"sleep", "1.2"});
  spec.idle_timeout = Duration(500ms);
  spec.idle_policy = IdlePolicy::stop;
  auto task = sup.run(spec);
  // Someone who knows better says it is making progress.
  while (!sup.wait(task, Duration(150ms))) sup.record_activity(task);
  EXPECT_EQ(task->state(), TaskState::succeeded);
}

TEST(HangDetection, AQuietHttpServerIsNotStalledByDefault) {
  Supervisor sup;
  auto spec = TaskSpec::exec({"python3", "-m", "http.server", "--bind", "127.0.0.1", "0"});
  auto task = sup.run(spec);
  // The policy gives a known server neither a wall nor an idle timeout.
  auto policy = CommandPolicy::standard();
  EXPECT_EQ(policy.classify(spec.command_line()), CommandClass::long_running);
  EXPECT_EQ(task->progress().timeout(), Duration(0));
  EXPECT_FALSE(sup.wait(task, Duration(1s)));
  EXPECT_FALSE(task->status().stalled);
  EXPECT_FALSE(task->progress().is_stalled());
  sup.stop_and_wait(task);
}

TEST(HangDetection, ProgressMonitorAnswersFromTheLastActivity) {
  ProgressMonitor monitor(Duration(50ms));
  EXPECT_FALSE(monitor.is_stalled());
  ASSERT_TRUE(test::eventually([&] { return monitor.is_stalled(); }, 2s));
  monitor.record_activity();
  EXPECT_FALSE(monitor.is_stalled());
  ProgressMonitor never(Duration(0));
  EXPECT_FALSE(never.is_stalled());
}

TEST(Restart, OnFailureBacksOffAndStopsAtTheCrashLoopLimit) {
  Supervisor sup;
  EventLog log;
  auto sub = sup.subscribe([&](const Event& e) { log.add(e); });
  auto spec = TaskSpec::shell("echo attempt; exit 3");
  spec.restart.policy = RestartPolicy::on_failure;
  spec.restart.initial_delay = Duration(50ms);
  spec.restart.burst = 4;
  spec.restart.interval = Duration(60s);
  auto started = std::chrono::steady_clock::now();
  auto task = sup.run(spec);
  auto status = sup.wait(task, Duration(20s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::failed);
  EXPECT_EQ(status->attempts, 4);
  EXPECT_NE(status->reason.find("crash loop"), std::string::npos) << status->reason;
  // Backoff 50 + 100 + 200 ms between the four attempts.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 350ms);
  EXPECT_EQ(log.count(Event::Kind::restarting), 3);
  EXPECT_EQ(log.count(Event::Kind::started), 4);
  auto history = task->history();
  ASSERT_EQ(history.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(history[i].number, i + 1);
    EXPECT_EQ(history[i].exit_code, 3);
  }
  EXPECT_EQ(task->output().read(0).data, "attempt\nattempt\nattempt\nattempt\n");
  std::lock_guard lock(log.m);
  EXPECT_NE(log.reasons[1].find("restarting in 50ms (attempt 2)"), std::string::npos) << log.reasons[1];
}

TEST(Restart, OnFailureDoesNotRestartASuccess) {
  Supervisor sup;
  auto spec = TaskSpec::exec({"true"});
  spec.restart.policy = RestartPolicy::on_failure;
  auto status = sup.wait(sup.run(spec), Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_EQ(status->attempts, 1);
}

TEST(Restart, StoppingATaskThatRestartsEndsIt) {
  Supervisor sup;
  auto spec = TaskSpec::exec({"sleep", "0.05"});
  spec.restart.policy = RestartPolicy::always;
  spec.restart.initial_delay = Duration(100ms);
  spec.restart.burst = 1000;
  auto task = sup.run(spec);
  ASSERT_TRUE(test::eventually([&] { return task->status().attempts >= 2; }));
  auto status = sup.stop_and_wait(task);
  EXPECT_EQ(status.state, TaskState::killed);
  EXPECT_FALSE(sup.wait(task, Duration(300ms)) == std::nullopt);
  auto attempts = task->status().attempts;
  sup.wait(sup.run(TaskSpec::exec({"sleep", "0.3"})));
  EXPECT_EQ(task->status().attempts, attempts);  // no restart after the stop
}
