#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include "support/test_support.hpp"
#include "tend/core/supervisor.hpp"

using namespace tend;
using namespace std::chrono_literals;
namespace asio = boost::asio;

TEST(InProcess, ACoroutineRunsAsATaskAndWritesOutput) {
  Supervisor sup;
  auto task = sup.spawn("analysis", [](TaskContext& ctx) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
    co_await timer.async_wait(asio::use_awaitable);
    ctx.write("analysed 3 files\n");
  });
  EXPECT_EQ(task->status().kind, TaskKind::coroutine);
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_EQ(task->output().read(0).data, "analysed 3 files\n");
}

TEST(InProcess, ACoroutineThatThrowsFailsWithTheMessage) {
  Supervisor sup;
  auto task = sup.spawn("broken", [](TaskContext&) -> asio::awaitable<void> {
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    throw std::runtime_error("no such file: input.csv");
  });
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::failed);
  EXPECT_NE(status->reason.find("no such file: input.csv"), std::string::npos) << status->reason;
}

TEST(InProcess, ACoroutineCancelledMidAwaitEndsCancelled) {
  Supervisor sup;
  std::atomic<bool> saw_cancel{false};
  auto task = sup.spawn("long", [&](TaskContext&) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    saw_cancel = ec == asio::error::operation_aborted;
    co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);  // throws: cancelled
  });
  EXPECT_FALSE(sup.wait(task, Duration(100ms)));
  auto status = sup.stop_and_wait(task);
  EXPECT_EQ(status.state, TaskState::cancelled);
  EXPECT_TRUE(saw_cancel);
}

TEST(InProcess, ACoroutineTimeoutEndsTimedOut) {
  Supervisor sup;
  auto task = sup.spawn(
      "slow",
      [](TaskContext&) -> asio::awaitable<void> {
        asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
        co_await timer.async_wait(asio::use_awaitable);
      },
      Duration(100ms));
  auto status = sup.wait(task, Duration(10s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::timed_out);
}

TEST(InProcess, AThreadTaskSeesAStopRequest) {
  Supervisor sup;
  auto task = sup.spawn_thread("worker", [](TaskContext& ctx) {
    int rounds = 0;
    while (!ctx.stop_requested()) {
      ctx.write("tick\n");
      std::this_thread::sleep_for(10ms);
      ++rounds;
    }
    if (rounds > 0) throw std::runtime_error("stopped");
  });
  ASSERT_TRUE(test::eventually([&] { return task->output().size() > 0; }));
  auto status = sup.stop_and_wait(task);
  EXPECT_EQ(status.state, TaskState::cancelled);

  auto done = sup.spawn_thread("quick", [](TaskContext& ctx) { ctx.write("done\n"); });
  auto s2 = sup.wait(done, Duration(10s));
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->state, TaskState::succeeded);
}

TEST(InProcess, WaitAnyOverACoroutineAProcessAndATerminal) {
  Supervisor sup;
  auto process = sup.run(TaskSpec::exec({"sleep", "5"}));
  auto terminal = sup.run(TaskSpec::terminal_shell("sleep 5"));
  auto coroutine = sup.spawn("quick", [](TaskContext&) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 200ms);
    co_await timer.async_wait(asio::use_awaitable);
  });
  auto first = sup.wait_any({process, terminal, coroutine}, Duration(10s));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, coroutine);

  auto fast_process = sup.run(TaskSpec::exec({"true"}));
  auto slow_coroutine = sup.spawn("slow", [](TaskContext&) -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 5s);
    co_await timer.async_wait(asio::use_awaitable);
  });
  first = sup.wait_any({slow_coroutine, fast_process}, Duration(10s));
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, fast_process);
}

TEST(InProcess, DestroyingTheSupervisorCancelsInProcessTasks) {
  TaskPtr coroutine, thread;
  {
    Supervisor sup;
    coroutine = sup.spawn("c", [](TaskContext&) -> asio::awaitable<void> {
      asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
      co_await timer.async_wait(asio::use_awaitable);
    });
    thread = sup.spawn_thread("t", [](TaskContext& ctx) {
      while (!ctx.stop_requested()) std::this_thread::sleep_for(5ms);
    });
  }
  EXPECT_EQ(coroutine->state(), TaskState::cancelled);
  EXPECT_EQ(thread->state(), TaskState::cancelled);
}
