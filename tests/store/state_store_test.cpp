#include "tend/store/state_store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support/test_support.hpp"
#include "tend/store/task_codec.hpp"

using namespace tend;
using namespace tend::store;

TEST(StateStore, TasksAndTransitionsSurviveReopening) {
  test::TempDir dir;
  auto db = dir.path() / "tend.db";
  TaskSpec spec = TaskSpec::exec({"echo", "a b"});
  spec.name = "greeter";
  spec.timeout = Duration(1500);
  spec.env = {{"K", "V"}};
  spec.restart.policy = RestartPolicy::on_failure;
  spec.after = {1, 2};
  spec.ready.port = 8080;
  TaskStatus st;
  st.id = 3;
  st.name = "greeter";
  st.state = TaskState::running;
  st.pid = 1234;
  st.pid_start_time = 99;
  st.started_at = Clock::now();
  {
    StateStore store(db);
    store.save(spec, st);
    st.state = TaskState::failed;
    st.exit_code = 2;
    st.reason = "exited with code 2";
    st.ended_at = Clock::now();
    store.save(spec, st);
    store.set_setting("parallel:", "4");
  }
  struct stat info {};
  ASSERT_EQ(::stat(db.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  StateStore store(db);
  auto tasks = store.load();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].status.id, 3u);
  EXPECT_EQ(tasks[0].status.state, TaskState::failed);
  EXPECT_EQ(tasks[0].status.exit_code, 2);
  EXPECT_EQ(tasks[0].status.pid_start_time, 99u);
  EXPECT_EQ(tasks[0].spec.argv, (std::vector<std::string>{"echo", "a b"}));
  EXPECT_EQ(tasks[0].spec.timeout, Duration(1500));
  EXPECT_EQ(tasks[0].spec.restart.policy, RestartPolicy::on_failure);
  EXPECT_EQ(tasks[0].spec.after, (std::vector<TaskId>{1, 2}));
  EXPECT_EQ(tasks[0].spec.ready.port, 8080);
  EXPECT_EQ(tasks[0].spec.env.at(0).second, "V");
  auto transitions = store.transitions(3);
  ASSERT_EQ(transitions.size(), 2u);
  EXPECT_EQ(transitions[0].state, TaskState::running);
  EXPECT_EQ(transitions[1].state, TaskState::failed);
  EXPECT_EQ(transitions[1].reason, "exited with code 2");
  EXPECT_EQ(store.setting("parallel:"), "4");
  store.save(spec, tasks[0].status);  // same state, after reopening: no new transition
  EXPECT_EQ(store.transitions(3).size(), 2u);
  store.remove(3);
  EXPECT_TRUE(store.load().empty());
  EXPECT_TRUE(store.transitions(3).empty());
  store.save(spec, tasks[0].status);  // an id saved again after removal starts a new history
  EXPECT_EQ(store.transitions(3).size(), 1u);
}

TEST(StateStore, AnUnwritablePlaceIsAClearError) {
  try {
    StateStore store("/nonexistent/dir/tend.db");
    FAIL();
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/tend.db"), std::string::npos);
  }
}

TEST(TaskCodec, TimesRoundTrip) {
  auto t = Clock::time_point(std::chrono::milliseconds(1'764'000'000'123));
  EXPECT_EQ(format_time(t), "2025-11-24T16:00:00.123Z");
  EXPECT_EQ(parse_time(format_time(t)), t);
  EXPECT_FALSE(parse_time("yesterday"));
}

TEST(TaskCodec, BadSpecsAreClearErrors) {
  EXPECT_THROW(spec_from_json(nlohmann::json::array()), CodecError);
  try {
    spec_from_json({{"argv", "not a list"}});
    FAIL();
  } catch (const CodecError& e) {
    EXPECT_NE(std::string(e.what()).find("argv"), std::string::npos);
  }
  EXPECT_THROW(spec_from_json({{"restart", "sometimes"}}), CodecError);
  EXPECT_THROW(spec_from_json({{"kind", "robot"}}), CodecError);
  EXPECT_THROW(spec_from_json({{"timeout_ms", "5s"}}), CodecError);
}

// A child process stands for the daemon: it groups writes, commits some,
// and dies (_exit: no destructor, as a SIGKILL) with one write uncommitted.
TEST(StateStore, GroupedWritesSurviveACrashOnceCommittedAndOnlyThen) {
  test::TempDir dir;
  auto db = dir.path() / "tend.db";
  auto status_of = [](TaskId id) {
    TaskStatus st;
    st.id = id;
    st.state = TaskState::running;
    return st;
  };
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    StateStore store(db);
    int scheduled = 0;
    store.defer_commits([&] { ++scheduled; });
    store.save(TaskSpec::exec({"true"}), status_of(1));
    store.save(TaskSpec::exec({"true"}), status_of(2));
    store.set_setting("parallel:", "2");
    if (scheduled != 1) ::_exit(3);  // one batch, one request to commit it
    store.commit();
    store.save(TaskSpec::exec({"true"}), status_of(3));
    if (scheduled != 2) ::_exit(4);
    ::_exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(::waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFEXITED(wstatus));
  ASSERT_EQ(WEXITSTATUS(wstatus), 0);
  StateStore store(db);
  auto tasks = store.load();
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].status.id, 1u);
  EXPECT_EQ(tasks[1].status.id, 2u);
  EXPECT_EQ(store.setting("parallel:"), "2");
  EXPECT_EQ(store.transitions(2).size(), 1u);
}
