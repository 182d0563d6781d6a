#include "tend/agents/manager.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/git_repo.hpp"
#include "tend/agents/secrets.hpp"

namespace tend::agents {
namespace {

using namespace std::chrono_literals;
using test::TestRepo;

WorkerSpec shell_worker(const std::string& script) {
  WorkerSpec spec;
  spec.command = {"/bin/sh", "-c", script};
  return spec;
}

class ManagerTest : public ::testing::Test {
 protected:
  TestRepo repo;
  Supervisor sup;
  ManagerOptions options() {
    ManagerOptions o;
    o.work_dir = repo.temp() / "work";
    o.default_repo = repo.path();
    return o;
  }
  Manager manager{sup, options()};
  std::string tag = test::unique_tag();

  std::string ticket(const std::string& task, Priority priority = Priority::normal) {
    TicketSpec spec;
    spec.task = task;
    spec.priority = priority;
    return manager.create_ticket(spec).id;
  }
};

TEST(TicketTest, PromptHasTheTaskFilesConstraintsAndContext) {
  Ticket t;
  t.id = "4";
  t.spec.task = "Add a --verbose flag";
  t.spec.handles = {"src/main.cpp"};
  t.spec.constraints = {{"tests", "must pass"}};
  t.spec.parent = "2";
  t.spec.context = "Users asked for it.";
  std::string prompt = t.to_prompt();
  EXPECT_NE(prompt.find("# Ticket 4"), std::string::npos);
  EXPECT_NE(prompt.find("## Task\n\nAdd a --verbose flag"), std::string::npos);
  EXPECT_NE(prompt.find("- `src/main.cpp`"), std::string::npos);
  EXPECT_NE(prompt.find("**tests**: must pass"), std::string::npos);
  EXPECT_NE(prompt.find("Follows ticket 2"), std::string::npos);
  EXPECT_NE(prompt.find("Users asked for it."), std::string::npos);
}

TEST_F(ManagerTest, PendingTicketsComeMostUrgentFirst) {
  ticket("low", Priority::low);
  ticket("normal");
  ticket("critical", Priority::critical);
  ticket("high", Priority::high);
  std::vector<std::string> tasks;
  for (const auto& t : manager.pending_tickets()) tasks.push_back(t.spec.task);
  EXPECT_EQ(tasks, (std::vector<std::string>{"critical", "high", "normal", "low"}));
}

TEST_F(ManagerTest, ACommandWorkerCommitsItsWorkAndReportsItsResultFile) {
  std::string id = ticket("write hello.txt");
  WorkerResult r = manager.delegate(id, shell_worker(
      "grep -q 'write hello.txt' \"$TEND_TICKET_FILE\" && echo \"hello from $TEND_TICKET_ID\" > hello.txt && "
      "echo 'wrote hello.txt' > \"$TEND_RESULT_FILE\""));
  EXPECT_TRUE(r.success) << r.summary;
  EXPECT_EQ(r.status, TicketStatus::completed);
  EXPECT_EQ(r.summary, "wrote hello.txt\n");
  EXPECT_EQ(r.branch, "tend/" + id);
  EXPECT_EQ(repo.show(r.commit, "hello.txt"), "hello from " + id);
  EXPECT_EQ(repo.head("tend/" + id), r.commit);
  EXPECT_EQ(manager.ticket(id)->status, TicketStatus::completed);
  EXPECT_EQ(repo.git({"status", "--porcelain"}), "");  // the user's tree saw nothing
}

TEST_F(ManagerTest, AFailingAgentReportsItsExitAndOutputTail) {
  std::string id = ticket("fail");
  WorkerResult r = manager.delegate(id, shell_worker("echo 'compiler says no' >&2; exit 3"));
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.status, TicketStatus::failed);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.agent_state, TaskState::failed);
  EXPECT_NE(r.summary.find("compiler says no"), std::string::npos) << r.summary;
  EXPECT_EQ(r.reason, "the agent exited with code 3");
  EXPECT_EQ(manager.worker_task(id)->state(), TaskState::failed);
}

TEST_F(ManagerTest, CancelMidRunStopsTheAgentAndKeepsTheBranch) {
  std::string id = ticket("long job");
  WorkerSpec spec = shell_worker("echo started > progress.txt; sleep 1000 & sleep 1000");
  spec.env = {{tag.substr(0, tag.find('=')), tag.substr(tag.find('=') + 1)}};
  manager.spawn_async(id, spec);
  ASSERT_TRUE(test::eventually([&] { return test::processes_with(tag).size() == 3; }, 20s));
  ASSERT_TRUE(manager.is_running(id));
  manager.cancel_and_wait(id);

  EXPECT_EQ(manager.ticket(id)->status, TicketStatus::cancelled);
  EXPECT_EQ(manager.worker_task(id)->state(), TaskState::cancelled);
  EXPECT_TRUE(test::processes_with(tag).empty());
  auto r = manager.get_result(id);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->success);
  EXPECT_EQ(r->agent_state, TaskState::killed);
  EXPECT_EQ(repo.show("tend/" + id, "progress.txt"), "started");  // what it did is kept, committed

  try {
    manager.remove(id);
    FAIL();
  } catch (const ShadowGitError& e) {
    EXPECT_EQ(e.kind(), ShadowGitError::Kind::unsafe_removal);
  }
  GcResult gc = manager.gc();
  EXPECT_TRUE(gc.removed.empty());
  EXPECT_EQ(repo.git({"branch", "--list", "--format=%(refname:short)", "tend/" + id}), "tend/" + id);
}

TEST_F(ManagerTest, ASilentlyHangingAgentIsStalledAndStopped) {
  std::string id = ticket("hang");
  WorkerSpec spec = shell_worker("echo thinking; exec sleep 1000");
  spec.idle_timeout = 300ms;
  WorkerResult r = manager.delegate(id, spec);
  EXPECT_FALSE(r.success);
  EXPECT_EQ(r.agent_state, TaskState::stalled);
  EXPECT_EQ(r.status, TicketStatus::failed);
  EXPECT_NE(r.summary.find("thinking"), std::string::npos) << r.summary;
}

TEST_F(ManagerTest, WaitAnyReturnsTheFastestWorker) {
  std::string slow1 = ticket("slow");
  std::string fast = ticket("fast");
  std::string slow2 = ticket("slower");
  manager.spawn_async(slow1, shell_worker("sleep 30"));
  manager.spawn_async(fast, shell_worker("sleep 0.2"));
  manager.spawn_async(slow2, shell_worker("sleep 40"));
  auto first = manager.wait_any({slow1, fast, slow2}, 60s);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, fast);
  EXPECT_FALSE(manager.wait_for(slow1, 50ms));  // a wait's timeout does not cancel
  EXPECT_TRUE(manager.is_running(slow1));
  EXPECT_EQ(manager.running_count(), 2u);
  auto done = manager.wait_all({slow1, fast, slow2}, 50ms);
  EXPECT_EQ(done, std::vector<std::string>{fast});
}

TEST_F(ManagerTest, AFireAndForgetCallbackThatThrowsDisturbsNothing) {
  std::atomic<int> called{0};
  std::string a = ticket("a");
  manager.spawn_async(a, shell_worker("echo a > a.txt"), [&](const WorkerResult&) {
    ++called;
    throw std::runtime_error("callback bug");
  });
  ASSERT_TRUE(manager.wait_for(a, 60s));
  EXPECT_EQ(called, 1);
  EXPECT_TRUE(manager.get_result(a)->success);
  std::string b = ticket("b");
  WorkerResult rb = manager.delegate(b, shell_worker("echo b > b.txt"));
  EXPECT_TRUE(rb.success);
  EXPECT_TRUE(manager.merge(a, "main").merged);
}

TEST_F(ManagerTest, ACoroutineWorkerWorksInItsWorktree) {
  std::string id = ticket("coroutine");
  WorkerSpec spec;
  spec.coroutine = [](const Ticket& t, const std::filesystem::path& tree, TaskContext& ctx) -> asio::awaitable<WorkerOutcome> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 20ms);
    co_await timer.async_wait(asio::use_awaitable);
    TestRepo::write_in(tree, "by-coroutine.txt", "ticket " + t.id + "\n");
    ctx.write("done\n");
    co_return WorkerOutcome{true, "wrote by-coroutine.txt"};
  };
  WorkerResult r = manager.delegate(id, spec);
  EXPECT_TRUE(r.success) << r.summary;
  EXPECT_EQ(r.summary, "wrote by-coroutine.txt");
  EXPECT_EQ(repo.show(r.commit, "by-coroutine.txt"), "ticket " + id);
}

TEST_F(ManagerTest, TheRunningLimitHoldsWorkersBack) {
  ManagerOptions o = options();
  o.max_running = 1;
  o.work_dir = repo.temp() / "limited";
  Manager limited(sup, o);
  std::string lock = (repo.temp() / "lock").string();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    TicketSpec t;
    t.task = "one at a time";
    ids.push_back(limited.create_ticket(t).id);
    limited.spawn_async(ids.back(), shell_worker("mkdir " + lock + " || exit 9; sleep 0.2; rmdir " + lock));
  }
  EXPECT_EQ(limited.wait_all(ids, 60s).size(), 3u);
  for (const auto& id : ids) EXPECT_TRUE(limited.get_result(id)->success) << limited.get_result(id)->summary;
}

TEST_F(ManagerTest, EightWorkersInParallelOnOneRepositoryAllCommitAndMerge) {
  ManagerOptions o = options();
  o.max_running = 8;
  o.work_dir = repo.temp() / "eight";
  Manager eight(sup, o);
  std::vector<std::pair<TicketSpec, WorkerSpec>> work;
  for (int i = 0; i < 8; ++i) {
    TicketSpec t;
    t.task = "file " + std::to_string(i);
    work.emplace_back(t, shell_worker("for j in 1 2 3; do echo $j >> w" + std::to_string(i) +
                                      ".txt; git add -A && git commit -qm step$j; done"));
  }
  std::vector<std::string> ids = eight.spawn_many_async(work);
  ASSERT_EQ(eight.wait_all(ids, 120s).size(), 8u);
  for (const auto& id : ids) {
    WorkerResult r = *eight.get_result(id);
    EXPECT_TRUE(r.success) << id << ": " << r.summary;
    EXPECT_TRUE(eight.merge(id, "main").merged) << id;
  }
  for (int i = 0; i < 8; ++i) EXPECT_EQ(repo.show("main", "w" + std::to_string(i) + ".txt"), "1\n2\n3");
  ManagerStats stats = eight.stats();
  EXPECT_EQ(stats.tickets, 8u);
  EXPECT_EQ(stats.completed, 8u);
  EXPECT_EQ(stats.merged, 8u);
  EXPECT_EQ(stats.running, 0u);
}

TEST(SecretsTest, KnownCredentialNamesAreSecret) {
  for (const char* name : {"AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "GITHUB_TOKEN", "OPENAI_API_KEY", "SLACK_TOKEN",
                           "DB_PASSWORD", "STRIPE_SECRET_KEY"}) {
    EXPECT_TRUE(is_secret_name(name)) << name;
  }
  for (const char* name : {"PATH", "HOME", "TOKENIZERS_PARALLELISM", "LANG", "EDITOR"}) {
    EXPECT_FALSE(is_secret_name(name)) << name;
  }
}

TEST_F(ManagerTest, ScrubbedWorkersDoNotSeeSecrets) {
  ::setenv("TEND_TEST_INHERITED_TOKEN", "from-the-daemon", 1);
  std::string id = ticket("show env");
  WorkerSpec spec = shell_worker("env > \"$TEND_RESULT_FILE\"");
  spec.env = {{"GITHUB_TOKEN", "ghp_x"}, {"MY_API_KEY", "k"}, {"AWS_SECRET_ACCESS_KEY", "a"},
              {"ANTHROPIC_API_KEY", "needed"}, {"GREETING", "hi"}};
  spec.scrub_secrets = true;
  spec.keep_env = {"ANTHROPIC_API_KEY"};
  WorkerResult r = manager.delegate(id, spec);
  ::unsetenv("TEND_TEST_INHERITED_TOKEN");
  ASSERT_TRUE(r.success) << r.summary;
  EXPECT_EQ(r.summary.find("GITHUB_TOKEN"), std::string::npos);
  EXPECT_EQ(r.summary.find("MY_API_KEY"), std::string::npos);
  EXPECT_EQ(r.summary.find("AWS_SECRET_ACCESS_KEY"), std::string::npos);
  EXPECT_EQ(r.summary.find("TEND_TEST_INHERITED_TOKEN"), std::string::npos);
  EXPECT_NE(r.summary.find("ANTHROPIC_API_KEY=needed"), std::string::npos);
  EXPECT_NE(r.summary.find("GREETING=hi"), std::string::npos);
}

TEST_F(ManagerTest, BadRequestsAreTypedErrors) {
  EXPECT_THROW(manager.spawn_async("99", shell_worker("true")), ManagerError);
  std::string id = ticket("x");
  EXPECT_THROW(manager.spawn_async(id, WorkerSpec{}), ManagerError);
  EXPECT_THROW(manager.merge(id), ManagerError);  // no workspace yet
  WorkerSpec elsewhere = shell_worker("true");
  elsewhere.repo = repo.temp();
  EXPECT_THROW(manager.spawn_async(id, elsewhere), ShadowGitError);
  EXPECT_TRUE(manager.cancel(id));
  EXPECT_EQ(manager.ticket(id)->status, TicketStatus::cancelled);
}

TEST_F(ManagerTest, SetupRunsFirstAndCopiedFilesArrive) {
  repo.write(".gitignore", ".env\n");
  repo.commit_all("ignore .env");
  repo.write(".env", "TOKEN=abc\n");
  std::string id = ticket("use setup");
  WorkerSpec spec = shell_worker("test -f setup-ran && grep -q TOKEN=abc .env");
  spec.copy_files = {".env"};
  spec.setup = "touch setup-ran";
  WorkerResult r = manager.delegate(id, spec);
  EXPECT_TRUE(r.success) << r.summary;

  std::string bad = ticket("bad setup");
  WorkerSpec failing = shell_worker("true");
  failing.setup = "echo no luck; exit 1";
  WorkerResult rb = manager.delegate(bad, failing);
  EXPECT_FALSE(rb.success);
  EXPECT_NE(rb.summary.find("setup command"), std::string::npos) << rb.summary;
  EXPECT_EQ(rb.reason.rfind("setup command `echo no luck; exit 1` exited with code 1", 0), 0u) << rb.reason;
}

TEST_F(ManagerTest, ABadBaseOrCopyIsRefusedAtSpawnNotByTheWorker) {
  repo.git({"tag", "v1"});
  for (const std::string base : {"main~1", "v1", "nosuch"}) {
    std::string id = ticket("from " + base);
    WorkerSpec spec = shell_worker("true");
    spec.base = base;
    try {
      manager.spawn_async(id, spec);
      FAIL() << base;
    } catch (const ManagerError& e) {
      EXPECT_EQ(e.kind(), ManagerError::Kind::bad_spec);
      EXPECT_NE(std::string(e.what()).find("base \"" + base + "\" is not a local branch"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(manager.worker_task(id));
    EXPECT_EQ(manager.ticket(id)->status, TicketStatus::pending);
  }
  WorkerSpec copying = shell_worker("true");
  copying.copy_files = {".git/config"};
  try {
    manager.check_spec(copying);
    FAIL();
  } catch (const ManagerError& e) {
    EXPECT_EQ(e.kind(), ManagerError::Kind::bad_spec);
    EXPECT_NE(std::string(e.what()).find(".git is git's own"), std::string::npos) << e.what();
  }
}

TEST_F(ManagerTest, WithoutABaseAWorkerStartsFromTheBranchCurrentAtSpawn) {
  repo.git({"checkout", "--quiet", "-b", "feature"});
  ManagerOptions o = options();
  o.max_running = 1;
  o.work_dir = repo.temp() / "work-one-at-a-time";
  Manager one{sup, o};
  TicketSpec first;
  first.task = "hold the only slot";
  std::string holder = one.create_ticket(first).id;
  one.spawn_async(holder, shell_worker("sleep 1000"));
  TicketSpec second;
  second.task = "wait for a slot";
  std::string waiting = one.create_ticket(second).id;
  one.spawn_async(waiting, shell_worker("true"));
  repo.git({"checkout", "--quiet", "main"});  // the user moves on before the worker starts
  one.cancel(holder);
  auto r = one.wait_for(waiting, 60s);
  ASSERT_TRUE(r);
  EXPECT_EQ(one.workspace(waiting)->base_branch, "feature");
}

}  // namespace
}  // namespace tend::agents
