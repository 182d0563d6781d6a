#include "tend/core/supervisor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <random>

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "support/test_support.hpp"
#include "tend/process/testing.hpp"

using namespace tend;
using namespace std::chrono_literals;

namespace {

TaskStatus run_to_end(Supervisor& sup, TaskSpec spec) {
  auto task = sup.run(std::move(spec));
  auto status = sup.wait(task, Duration(30s));
  EXPECT_TRUE(status.has_value());
  return status.value_or(task->status());
}

std::string all_output(const Task& task, Stream s = Stream::stdout_stream) {
  std::string out;
  std::uint64_t cursor = 0;
  while (true) {
    auto r = task.output(s).read(cursor);
    out += r.data;
    cursor = r.next_cursor;
    if (r.data.empty()) return out;
  }
}

std::uint64_t fnv1a(std::string_view data, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : data) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

TEST(Supervisor, ExitCodesAndSignalsMapToTheRightStateAndReason) {
  Supervisor sup;
  auto ok = run_to_end(sup, TaskSpec::exec({"true"}));
  EXPECT_EQ(ok.state, TaskState::succeeded);
  EXPECT_EQ(ok.exit_code, 0);
  EXPECT_EQ(ok.reason, "exited with code 0");

  auto bad = run_to_end(sup, TaskSpec::exec({"false"}));
  EXPECT_EQ(bad.state, TaskState::failed);
  EXPECT_EQ(bad.exit_code, 1);

  auto code = run_to_end(sup, TaskSpec::shell("exit 42"));
  EXPECT_EQ(code.state, TaskState::failed);
  EXPECT_EQ(code.exit_code, 42);
  EXPECT_EQ(code.reason, "exited with code 42");

  auto sig = run_to_end(sup, TaskSpec::shell("kill -SEGV $$"));
  EXPECT_EQ(sig.state, TaskState::failed);
  EXPECT_FALSE(sig.exit_code);
  EXPECT_EQ(sig.signal, SIGSEGV);
  EXPECT_NE(sig.reason.find("SIGSEGV"), std::string::npos) << sig.reason;

  EXPECT_TRUE(ok.started_at && ok.ended_at);
  EXPECT_GE(*ok.ended_at, *ok.started_at);
}

TEST(Supervisor, TimeoutEndsTimedOutNeverExitZero) {
  Supervisor sup;
  // The shell exits 0 when TERM arrives: the state must still say timed_out.
  auto spec = TaskSpec::shell("trap 'exit 0' TERM; while :; do sleep 0.05; done");
  spec.timeout = Duration(300ms);
  auto status = run_to_end(sup, spec);
  EXPECT_EQ(status.state, TaskState::timed_out);
  EXPECT_NE(status.reason.find("timed out after 300ms"), std::string::npos) << status.reason;
}

TEST(Supervisor, PolicyGivesQuickCommandsADefaultTimeoutAndServersNone) {
  SupervisorOptions options;
  options.policy.quick.wall = Duration(200ms);
  Supervisor sup(options);
  auto quick = run_to_end(sup, TaskSpec::exec({"sleep", "30"}));
  EXPECT_EQ(quick.state, TaskState::timed_out);

  // A known long-running command is not timed out by the default.
  options.policy.add_rule("^sleep 31$", CommandClass::long_running);
  Supervisor sup2(options);
  auto server = sup2.run(TaskSpec::exec({"sleep", "31"}));
  EXPECT_FALSE(sup2.wait(server, Duration(600ms)));
  EXPECT_EQ(server->state(), TaskState::running);
}

TEST(Supervisor, ASpecWithoutTheCommandPolicyRunsUntilItEnds) {
  SupervisorOptions options;
  options.policy.quick.wall = Duration(200ms);
  options.policy.quick.idle = Duration(200ms);
  Supervisor sup(options);
  auto spec = TaskSpec::exec({"sleep", "0.8"});
  spec.command_policy = false;
  auto task = sup.run(spec);
  auto st = sup.wait(task, Duration(30s));
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, TaskState::succeeded) << st->reason;
  EXPECT_FALSE(st->stalled);
  EXPECT_EQ(st->limits.wall.source, LimitSource::none);
  EXPECT_FALSE(st->limits.wall.value);
  EXPECT_EQ(st->limits.idle.source, LimitSource::none);

  // With it (the default), the same command gets the policy's limits, and says so.
  auto bounded = sup.run(TaskSpec::exec({"sleep", "30"}));
  EXPECT_EQ(bounded->status().limits.wall.source, LimitSource::policy);
  EXPECT_EQ(bounded->status().limits.wall.value.value_or(Duration(0)).count(), 200);
  EXPECT_EQ(sup.wait(bounded, Duration(30s))->state, TaskState::timed_out);
}

TEST(Supervisor, StdoutAndStderrAreKeptApart) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell("echo out1; echo err1 >&2; echo out2; echo err2 >&2"));
  sup.wait(task);
  EXPECT_EQ(all_output(*task), "out1\nout2\n");
  EXPECT_EQ(all_output(*task, Stream::stderr_stream), "err1\nerr2\n");
}

TEST(Supervisor, CapturesHundredMegabytesByteExact) {
  test::TempDir dir;
  std::string chunk(1 << 20, '\0');
  std::mt19937_64 rng(42);
  std::uint64_t expected = 1469598103934665603ull;
  {
    std::ofstream file(dir.path() / "input.bin", std::ios::binary);
    for (int i = 0; i < 100; ++i) {
      for (auto& c : chunk) c = static_cast<char>(rng());
      file.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      expected = fnv1a(chunk, expected);
    }
  }
  SupervisorOptions options;
  options.log_dir = dir.path();
  Supervisor sup(options);
  auto task = sup.run(TaskSpec::exec({"cat", (dir.path() / "input.bin").string()}));
  auto status = sup.wait(task, Duration(60s));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  EXPECT_EQ(task->output().size(), 100u << 20);
  std::uint64_t got = 1469598103934665603ull, cursor = 0;
  while (true) {
    auto r = task->output().read(cursor, 4 << 20);
    if (r.data.empty()) break;
    got = fnv1a(r.data, got);
    cursor = r.next_cursor;
  }
  EXPECT_EQ(cursor, 100u << 20);
  EXPECT_EQ(got, expected);
}

TEST(Supervisor, CursorReadsSeeEveryByteOnceWhileTheTaskWrites) {
  Supervisor sup;
  auto task = sup.run(TaskSpec::shell("i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done"));
  std::string seen;
  std::uint64_t cursor = 0;
  int reads = 0;
  while (true) {
    bool done = task->finished();
    auto r = task->output().read(cursor, 777);  // small, odd-sized reads
    seen += r.data;
    cursor = r.next_cursor;
    ++reads;
    if (done && r.data.empty()) break;
    if (r.data.empty()) sup.wait(task, Duration(5ms));
  }
  std::string expected;
  for (int i = 0; i < 3000; ++i) expected += "line" + std::to_string(i) + "\n";
  EXPECT_EQ(seen, expected);
  EXPECT_GT(reads, 10);
}

TEST(Supervisor, SpawnErrorsAreTypedAndNameTheProblem) {
  Supervisor sup;
  try {
    sup.run(TaskSpec::exec({"tend-definitely-missing"}));
    FAIL();
  } catch (const process::SpawnError& e) {
    EXPECT_EQ(e.kind(), process::SpawnError::Kind::executable_not_found);
    EXPECT_NE(std::string(e.what()).find("tend-definitely-missing"), std::string::npos);
  }
  auto spec = TaskSpec::exec({"true"});
  spec.cwd = "/no/such/dir";
  EXPECT_THROW(sup.run(spec), process::SpawnError);
  EXPECT_TRUE(sup.tasks().empty());
}

TEST(Supervisor, AFileThatIsNoProgramFailsTheTaskAndSaysWhy) {
  // Only the exec can tell, and run() does not wait for it: the task says it.
  test::TempDir dir;
  std::ofstream(dir.path() / "data") << "\x01\x02 not a program\n";
  std::filesystem::permissions(dir.path() / "data", std::filesystem::perms::owner_all);
  for (bool posix_spawn : {false, true}) {  // the same with the fallback
    process::use_posix_spawn(posix_spawn);
    Supervisor sup;
    TaskStatus st = run_to_end(sup, TaskSpec::exec({(dir.path() / "data").string()}));
    EXPECT_EQ(st.state, TaskState::failed);
    EXPECT_EQ(st.exit_code, 127);
    EXPECT_NE(st.reason.find("could not start"), std::string::npos) << st.reason;
    EXPECT_NE(st.reason.find("Exec format error"), std::string::npos) << st.reason;
    // Nor is it restarted: it would fail the same way every time.
    TaskSpec again = TaskSpec::exec({(dir.path() / "data").string()});
    again.restart.policy = RestartPolicy::always;
    st = run_to_end(sup, again);
    EXPECT_EQ(st.state, TaskState::failed);
    EXPECT_EQ(st.attempts, 1);
    EXPECT_EQ(st.reason.find("crash loop"), std::string::npos) << st.reason;
  }
  process::use_posix_spawn(false);
}

TEST(Supervisor, EventsArriveInOrderAndAThrowingSubscriberBreaksNothing) {
  Supervisor sup;
  std::mutex m;
  std::vector<std::string> events;
  auto thrower = sup.subscribe([](const Event&) { throw std::runtime_error("subscriber bug"); });
  auto recorder = sup.subscribe([&](const Event& e) {
    std::lock_guard lock(m);
    events.push_back(std::string(to_string(e.kind)) + (e.kind == Event::Kind::output ? ":" + std::string(e.data) : ""));
  });
  auto task = sup.run(TaskSpec::shell("echo hi"));
  auto status = sup.wait(task);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->state, TaskState::succeeded);
  std::lock_guard lock(m);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], "started");
  EXPECT_EQ(events[1], "output:hi\n");
  EXPECT_EQ(events[2], "exited");
}

TEST(Supervisor, CoroutinesAwaitTasksOnTheExecutor) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  asio::io_context io;
  Supervisor sup(io);
  std::string result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto fast = sup.run(TaskSpec::shell("echo fast"));
        auto status = co_await sup.async_wait(fast);
        result = status ? std::string(to_string(status->state)) : "timeout";
        // A wait raced against a timer: the timer wins, the task keeps running.
        auto slow = sup.run(TaskSpec::exec({"sleep", "30"}));
        asio::steady_timer timer(io, 100ms);
        auto winner = co_await (sup.async_wait(slow) || timer.async_wait(asio::use_awaitable));
        result += winner.index() == 1 ? " timer" : " task";
        result += slow->finished() ? " finished" : " running";
        co_await sup.async_stop(slow);
        co_await sup.async_shutdown();
      },
      asio::detached);
  io.run();
  EXPECT_EQ(result, "succeeded timer running");
}

TEST(Supervisor, BlockingCallsOnTheExecutorThreadAreRefused) {
  namespace asio = boost::asio;
  asio::io_context io;
  Supervisor sup(io);
  bool refused = false;
  asio::post(io, [&] {
    auto task = sup.run(TaskSpec::exec({"true"}));
    try {
      sup.wait(task);
    } catch (const std::logic_error&) {
      refused = true;
    }
  });
  io.run_for(std::chrono::seconds(2));
  EXPECT_TRUE(refused);
}

TEST(Supervisor, IdleSupervisorWithManySleepingTasksUsesNoCpu) {
  Supervisor sup;
  std::vector<TaskPtr> tasks;
  for (int i = 0; i < 200; ++i) tasks.push_back(sup.run(TaskSpec::exec({"sleep", "60"})));
  // Let the spawns settle (children exec'd, nothing pending).
  sup.wait(tasks.back(), Duration(300ms));
  rusage before{}, after{};
  ::getrusage(RUSAGE_SELF, &before);
  sup.wait(tasks.front(), Duration(2s));  // two idle seconds, blocked on a real wait
  ::getrusage(RUSAGE_SELF, &after);
  auto cpu_us = [](const rusage& r) {
    return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1'000'000L + r.ru_utime.tv_usec + r.ru_stime.tv_usec;
  };
  long used = cpu_us(after) - cpu_us(before);
  EXPECT_LT(used, 20'000) << "an idle supervisor used " << used << " us of CPU in 2 s";
  for (const auto& t : tasks) EXPECT_EQ(t->state(), TaskState::running);
}

TEST(Supervisor, WithoutAdoptingOrphansTheHostsOwnChildrenKeepTheirExitStatus) {
  // The host (a Python program's subprocess.run) spawns a child of its own,
  // which exits while a Supervisor lives and shuts down; the host reaps it
  // afterwards and must still see its exit code.
  pid_t host_child = 0;
  char sh[] = "/bin/sh", dash_c[] = "-c", body[] = "exit 3";
  char* argv[] = {sh, dash_c, body, nullptr};
  ASSERT_EQ(::posix_spawn(&host_child, "/bin/sh", nullptr, nullptr, argv, environ), 0);
  siginfo_t exited{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(host_child), &exited, WEXITED | WNOWAIT), 0);  // a zombie now
  {
    Supervisor sup(SupervisorOptions{.adopt_orphans = false});
    EXPECT_EQ(run_to_end(sup, TaskSpec::shell("sleep 0.05 & exit 0")).state, TaskState::succeeded);
    sup.shutdown();
  }
  int status = 0;
  ASSERT_EQ(::waitpid(host_child, &status, 0), host_child) << "the Supervisor reaped the host's child";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
}
