// Steering the queue as a pueue user does (issue 17): groups listed and
// removed, limits shown, clean by outcome and group, tasks delayed, stashed,
// enqueued and started by hand, and all of it kept across a daemon restart.

#include <signal.h>

#include <ctime>

#include <gtest/gtest.h>

#include "cli/cli_support.hpp"
#include "tend/core/clock_time.hpp"
#include "tend/store/task_codec.hpp"

using namespace tend;
using namespace tend::test;
using nlohmann::json;

namespace {

std::vector<std::uint64_t> ids_of(const json& tasks) {
  std::vector<std::uint64_t> ids;
  for (const auto& t : tasks) ids.push_back(t["id"].get<std::uint64_t>());
  return ids;
}

json group_named(const json& listed, const std::string& name) {
  for (const auto& g : listed["groups"]) {
    if (g["name"] == name) return g;
  }
  return nullptr;
}

// How far from now a status's start_at is.
std::chrono::minutes start_in(const json& status) {
  auto at = store::parse_time(status["start_at"].get<std::string>());
  return std::chrono::duration_cast<std::chrono::minutes>(*at - Clock::now());
}

// The local time of day `offset` from now, as HH:MM.
std::string local_hh_mm(std::chrono::minutes offset) {
  std::time_t t = Clock::to_time_t(Clock::now() + offset);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char text[8];
  std::strftime(text, sizeof text, "%H:%M", &tm);
  return text;
}

}  // namespace

TEST(CliQueueSteer, GroupLsShowsEachGroupsLimitRunningQueuedAndPaused) {
  TendHome home;
  ASSERT_EQ(home.tend({"group", "add", "g2", "--parallel", "1"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--group", "g2", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--group", "g2", "--", "sleep", "60"}).out, "2\n");
  ASSERT_EQ(home.tend({"pause", "1"}).exit_code, 0);

  json listed = home.tend_json({"group", "ls", "--json"});
  json g2 = group_named(listed, "g2");
  ASSERT_FALSE(g2.is_null()) << listed.dump();
  EXPECT_EQ(g2["parallel"], 1);
  EXPECT_EQ(g2["running"], 1);
  EXPECT_EQ(g2["queued"], 1);
  EXPECT_EQ(g2["paused"], 1);
  json def = group_named(listed, "default");
  ASSERT_FALSE(def.is_null()) << listed.dump();
  EXPECT_EQ(def["parallel"], 0);
  EXPECT_EQ(def["running"], 0);
  auto text = home.tend({"group", "ls"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_TRUE(contains(text.out, "GROUP")) << text.out;
  EXPECT_TRUE(contains(text.out, "g2")) << text.out;

  // `tend parallel` with no number shows the limits instead of failing.
  auto limits = home.tend({"parallel"});
  EXPECT_EQ(limits.exit_code, 0) << limits.err;
  EXPECT_TRUE(contains(limits.out, "default: none")) << limits.out;
  EXPECT_TRUE(contains(limits.out, "g2: 1")) << limits.out;
  EXPECT_EQ(home.tend({"parallel", "--group", "g2"}).out, "1\n");
}

TEST(CliQueueSteer, GroupRmIsRefusedWhileItHasTasksAndForDefault) {
  TendHome home;
  ASSERT_EQ(home.tend({"group", "add", "g2", "--parallel", "1"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--group", "g2", "--", "sleep", "60"}).out, "1\n");
  auto busy = home.tend({"group", "rm", "g2"});
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_TRUE(contains(busy.err, "the group \"g2\" has 1 unfinished task (1)")) << busy.err;

  ASSERT_EQ(home.tend({"kill", "1"}).exit_code, 0);
  auto removed = home.tend({"group", "rm", "g2"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_TRUE(group_named(home.tend_json({"group", "ls", "--json"}), "g2").is_null());
  EXPECT_EQ(home.tend({"run", "--group", "g2", "--", "true"}).exit_code, 2);  // gone: run refuses it again

  auto def = home.tend({"group", "rm", "default"});
  EXPECT_EQ(def.exit_code, 2);
  EXPECT_TRUE(contains(def.err, "\"default\" cannot be removed")) << def.err;
  auto unknown = home.tend({"group", "rm", "bad\x01name"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(contains(unknown.err, "no group \"bad")) << unknown.err;
  EXPECT_FALSE(contains(unknown.err, "\x01")) << unknown.err;  // shown escaped
  EXPECT_EQ(home.tend({"daemon", "status"}).exit_code, 0);
}

TEST(CliQueueSteer, CleanSuccessfulOnlyAndByGroupAndLsByGroup) {
  TendHome home;
  ASSERT_EQ(home.tend({"group", "add", "g2", "--parallel", "2"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--wait", "--", "true"}).exit_code, 0);                  // 1
  ASSERT_EQ(home.tend({"run", "--wait", "--", "false"}).exit_code, 1);                 // 2
  ASSERT_EQ(home.tend({"run", "--wait", "--group", "g2", "--", "true"}).exit_code, 0);   // 3
  ASSERT_EQ(home.tend({"run", "--wait", "--group", "g2", "--", "false"}).exit_code, 1);  // 4

  EXPECT_EQ(ids_of(home.tend_json({"ls", "--group", "g2", "--json"})["tasks"]), (std::vector<std::uint64_t>{3, 4}));
  auto in_g2 = home.tend({"clean", "--successful-only", "--group", "g2"});
  EXPECT_EQ(in_g2.exit_code, 0) << in_g2.err;
  EXPECT_EQ(in_g2.out, "removed 1 succeeded tasks\n");
  EXPECT_EQ(ids_of(home.tend_json({"ls", "--all", "--json"})["tasks"]), (std::vector<std::uint64_t>{1, 2, 4}));
  EXPECT_EQ(home.tend({"clean", "--successful-only"}).exit_code, 0);
  EXPECT_EQ(ids_of(home.tend_json({"ls", "--all", "--json"})["tasks"]), (std::vector<std::uint64_t>{2, 4}));
  EXPECT_EQ(home.tend({"clean", "--group", "g2"}).exit_code, 0);
  EXPECT_EQ(ids_of(home.tend_json({"ls", "--all", "--json"})["tasks"]), (std::vector<std::uint64_t>{2}));

  auto nosuch = home.tend({"clean", "--group", "nosuch"});
  EXPECT_EQ(nosuch.exit_code, 2);
  EXPECT_TRUE(contains(nosuch.err, "no group \"nosuch\"")) << nosuch.err;
  EXPECT_EQ(home.tend({"ls", "--group", "nosuch"}).exit_code, 2);
}

TEST(CliQueueSteer, ADelayedTaskStaysQueuedUntilItsTimeThenRuns) {
  // 20 s: the checks below must all see it still queued, under ASan on a busy machine too.
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--delay", "20s", "--", "true"}).out, "1\n");
  json queued = status_of(home, "1");
  EXPECT_EQ(queued["state"], "queued");
  ASSERT_TRUE(queued["start_at"].is_string()) << queued.dump();
  EXPECT_FALSE(queued["stashed"].get<bool>());
  auto ls = home.tend({"ls"});
  EXPECT_TRUE(contains(ls.out, "queued (until ")) << ls.out;
  EXPECT_TRUE(contains(home.tend({"status", "1"}).out, "starts at")) << home.tend({"status", "1"}).out;

  auto waited = home.tend({"wait", "1", "--timeout", "60s"});
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  json ran = status_of(home, "1");
  EXPECT_EQ(ran["state"], "succeeded");
  EXPECT_GE(ran["started_at"].get<std::string>(), queued["start_at"].get<std::string>());
}

TEST(CliQueueSteer, AStashedTaskWaitsForEnqueueWhichMayGiveItADelay) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--stashed", "--", "true"}).out, "1\n");
  json stashed = status_of(home, "1");
  EXPECT_EQ(stashed["state"], "queued");
  EXPECT_TRUE(stashed["stashed"].get<bool>());
  EXPECT_TRUE(contains(home.tend({"ls"}).out, "queued (stashed)"));
  EXPECT_EQ(home.tend({"wait", "1", "--timeout", "1s"}).exit_code, 124);  // held, not started

  auto enqueued = home.tend({"enqueue", "1"});
  EXPECT_EQ(enqueued.exit_code, 0) << enqueued.err;
  EXPECT_EQ(home.tend({"wait", "1", "--timeout", "60s"}).exit_code, 0);

  ASSERT_EQ(home.tend({"run", "--stashed", "--", "true"}).out, "2\n");
  ASSERT_EQ(home.tend({"enqueue", "2", "--delay", "1h"}).exit_code, 0);
  json delayed = status_of(home, "2");
  EXPECT_EQ(delayed["state"], "queued");
  EXPECT_FALSE(delayed["stashed"].get<bool>());
  EXPECT_GE(start_in(delayed).count(), 58);
  // tend start goes past the delay.
  EXPECT_EQ(home.tend({"start", "2"}).exit_code, 0);
  EXPECT_EQ(home.tend({"wait", "2", "--timeout", "60s"}).exit_code, 0);
  auto again = home.tend({"enqueue", "2"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_TRUE(contains(again.err, "task 2 is succeeded: only a queued task can be enqueued")) << again.err;
}

TEST(CliQueueSteer, StartRunsAQueuedTaskPastItsGroupsLimitButNotPastAfter) {
  TendHome home;
  ASSERT_EQ(home.tend({"parallel", "1", "--group", "default"}).exit_code, 0);
  ASSERT_EQ(home.tend({"run", "--", "sleep", "60"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--", "true"}).out, "2\n");
  ASSERT_EQ(status_of(home, "2")["state"], "queued");
  auto started = home.tend({"start", "2"});
  EXPECT_EQ(started.exit_code, 0) << started.err;
  EXPECT_EQ(home.tend({"wait", "2", "--timeout", "60s"}).exit_code, 0);
  EXPECT_EQ(status_of(home, "1")["state"], "running");

  ASSERT_EQ(home.tend({"run", "--after", "1", "--", "true"}).out, "3\n");
  auto blocked = home.tend({"start", "3"});
  EXPECT_EQ(blocked.exit_code, 1);
  EXPECT_TRUE(contains(blocked.err, "task 3 waits for task 1 (--after), which is running")) << blocked.err;
  auto running = home.tend({"start", "1"});
  EXPECT_EQ(running.exit_code, 1);
  EXPECT_TRUE(contains(running.err, "only a queued task can be started")) << running.err;
  EXPECT_EQ(home.tend({"start", "99"}).exit_code, 2);
  EXPECT_EQ(home.tend({"kill", "1"}).exit_code, 0);
}

// Kept as the rest of a queued task is: a daemon that dies (SIGKILL) leaves
// them in the store, and the next one queues them again, held as before. (A
// graceful `daemon stop` still ends queued tasks, "never started: shut down
// first"; that is another part of issue 17.)
TEST(CliQueueSteer, DelayAndStashSurviveTheDaemonsDeath) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--delay", "1h", "--", "true"}).out, "1\n");
  ASSERT_EQ(home.tend({"run", "--stashed", "--", "true"}).out, "2\n");
  const std::string start_at = status_of(home, "1")["start_at"].get<std::string>();

  auto daemon_pid = home.tend_json({"daemon", "status", "--json"})["pid"].get<pid_t>();
  ASSERT_GT(daemon_pid, 1);  // never kill(0) or kill(-1): that would hit the test itself
  ASSERT_EQ(::kill(daemon_pid, SIGKILL), 0);
  ASSERT_TRUE(eventually([&] { return ::kill(daemon_pid, 0) != 0; }));
  json delayed = status_of(home, "1");
  EXPECT_EQ(delayed["state"], "queued");
  EXPECT_EQ(delayed["start_at"], start_at);
  json stashed = status_of(home, "2");
  EXPECT_EQ(stashed["state"], "queued");
  EXPECT_TRUE(stashed["stashed"].get<bool>());
  EXPECT_EQ(home.tend({"wait", "1", "2", "--any", "--timeout", "1s"}).exit_code, 124);  // both still held

  EXPECT_EQ(home.tend({"enqueue", "2"}).exit_code, 0);
  EXPECT_EQ(home.tend({"start", "1"}).exit_code, 0);
  EXPECT_EQ(home.tend({"wait", "1", "2", "--timeout", "60s"}).exit_code, 0);
}

TEST(CliQueueSteer, AtTakesATimeOfDayAndOneAlreadyPastMeansTomorrow) {
  TendHome home;
  ASSERT_EQ(home.tend({"run", "--at", local_hh_mm(std::chrono::minutes(-2)), "--", "true"}).out, "1\n");
  auto tomorrow = start_in(status_of(home, "1"));
  EXPECT_GE(tomorrow.count(), 23 * 60 + 50);
  EXPECT_LE(tomorrow.count(), 24 * 60);
  ASSERT_EQ(home.tend({"run", "--at", local_hh_mm(std::chrono::minutes(120)), "--", "true"}).out, "2\n");
  auto later = start_in(status_of(home, "2"));
  EXPECT_GE(later.count(), 118);
  EXPECT_LE(later.count(), 120);
  EXPECT_EQ(status_of(home, "2")["state"], "queued");
}

TEST(ClockTime, ATimeOfDayPastTodayIsTomorrowsAndALaterOneToday) {
  std::time_t now_t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now_t, &tm);
  tm.tm_hour = 12;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  const auto noon = Clock::from_time_t(std::mktime(&tm));
  using std::chrono::hours;
  using std::chrono::minutes;
  EXPECT_EQ(next_clock_time("13:00", noon) - noon, hours(1));
  EXPECT_EQ(next_clock_time("13:00:30", noon) - noon, hours(1) + std::chrono::seconds(30));
  EXPECT_EQ(next_clock_time("0:00", noon) - noon, hours(12));  // midnight: tomorrow's
  // Noon itself has come (it is now): the next one is tomorrow's.
  EXPECT_GE(next_clock_time("12:00", noon) - noon, hours(23));
  EXPECT_GE(next_clock_time("11:59", noon) - noon, hours(22) + minutes(59));
  for (const char* bad : {"", "25:00", "12:60", "12:00:60", "12", "1:2:3:4", "12:5", "ab:cd", "-1:00", "123:00",
                          "12:00 ", "99999999999999:00"}) {
    EXPECT_THROW(next_clock_time(bad, noon), ClockTimeError) << bad;
  }
}

TEST(CliQueueSteer, HostileTimesAndNamesAreRefusedClearlyAndTheDaemonStaysUp) {
  TendHome home;
  auto negative = home.tend({"run", "--delay=-1s", "--", "true"});
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_TRUE(contains(negative.err, "--delay")) << negative.err;
  auto huge = home.tend({"run", "--delay", "99999999999999999999h", "--", "true"});
  EXPECT_EQ(huge.exit_code, 2);
  EXPECT_TRUE(contains(huge.err, "--delay")) << huge.err;
  auto hour = home.tend({"run", "--at", "25:99", "--", "true"});
  EXPECT_EQ(hour.exit_code, 2);
  EXPECT_TRUE(contains(hour.err, "--at: \"25:99\": the hour must be 0 to 23")) << hour.err;
  auto empty = home.tend({"run", "--at", "", "--", "true"});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_TRUE(contains(empty.err, "--at: empty")) << empty.err;
  auto both = home.tend({"run", "--delay", "1s", "--at", "12:00", "--", "true"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(contains(both.err, "not both")) << both.err;
  auto controls = home.tend({"run", "--at", "1\x1b[2J:00", "--", "true"});
  EXPECT_EQ(controls.exit_code, 2);
  EXPECT_FALSE(contains(controls.err, "\x1b")) << controls.err;

  // What the CLI would never send (the CLI refused all of the above itself:
  // no daemon was needed yet).
  ASSERT_EQ(home.tend({"daemon", "start"}).exit_code, 0);
  RawConnection raw(home.socket());
  ASSERT_TRUE(raw.connected());
  auto refused = [&](json params) {
    params["argv"] = {"true"};
    auto answer = raw.call("task.run", params);
    return answer.contains("error") && answer["error"]["code"] == -32602;
  };
  EXPECT_TRUE(refused({{"delay_ms", -5}}));
  EXPECT_TRUE(refused({{"delay_ms", 1'000'000'000'000'000'000}}));
  EXPECT_TRUE(refused({{"delay_ms", "10m"}}));
  EXPECT_TRUE(refused({{"start_at", "2026-13-45T99:00:00.000Z"}}));
  EXPECT_TRUE(refused({{"start_at", ""}}));
  EXPECT_TRUE(refused({{"start_at", "2026-12-02T14:30:00.000Z"}, {"delay_ms", 5}}));
  EXPECT_TRUE(refused({{"stashed", "yes"}}));
  auto rm = raw.call("group.remove", {{"name", 5}});
  EXPECT_EQ(rm["error"]["code"], -32602);
  auto enqueue = raw.call("task.enqueue", {{"ids", {1}}, {"delay_ms", -1}});
  EXPECT_EQ(enqueue["error"]["code"], -32602);

  EXPECT_EQ(home.tend({"daemon", "status"}).exit_code, 0);
  EXPECT_EQ(home.tend_json({"ls", "--all", "--json"}), json({{"tasks", json::array()}}));
}
