#include "tend/agents/swarm.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "support/git_repo.hpp"

namespace tend::agents {
namespace {

using namespace std::chrono_literals;
using test::TestRepo;

Job job(const std::string& task, const std::string& script) {
  Job j;
  j.ticket.task = task;
  j.worker.command = {"/bin/sh", "-c", script};
  return j;
}

class SwarmTest : public ::testing::Test {
 protected:
  TestRepo repo;
  Supervisor sup;
  Manager manager{sup, [this] {
                    ManagerOptions o;
                    o.work_dir = repo.temp() / "work";
                    o.default_repo = repo.path();
                    return o;
                  }()};
  std::string counter(const std::string& name) { return (repo.temp() / name).string(); }
  // A script that fails until it has run `n` times (counting in `file`).
  std::string flaky(const std::string& file, int n) {
    return "c=$(cat " + file + " 2>/dev/null || echo 0); c=$((c+1)); echo $c > " + file + "; [ $c -ge " +
           std::to_string(n) + " ]";
  }
};

TEST_F(SwarmTest, ForkJoinReturnsEveryResultAndCancelsWhatOutlivesTheTimeout) {
  std::vector<Job> jobs = {job("a", "echo a > a.txt"), job("b", "echo b > b.txt"), job("slow", "sleep 60")};
  auto started = std::chrono::steady_clock::now();
  std::vector<WorkerResult> results = fork_join(manager, jobs, 3s);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].success);
  EXPECT_TRUE(results[1].success);
  EXPECT_EQ(results[2].status, TicketStatus::cancelled);
  EXPECT_EQ(repo.show(results[1].commit, "b.txt"), "b");
}

TEST_F(SwarmTest, APipelineBuildsEachStageOnThePreviousOne) {
  std::vector<Job> stages = {job("first", "echo 1 > one.txt"),
                             job("second", "test -f one.txt && echo 2 > two.txt && grep -q 'ticket 1' \"$TEND_TICKET_FILE\"")};
  PipelineResult r = pipeline(manager, stages);
  ASSERT_TRUE(r.success) << r.results.back().summary;
  EXPECT_EQ(repo.show(r.results[1].commit, "one.txt"), "1");
  EXPECT_EQ(repo.show(r.results[1].commit, "two.txt"), "2");
  EXPECT_EQ(manager.ticket(r.results[1].ticket_id)->spec.parent, r.results[0].ticket_id);
}

TEST_F(SwarmTest, APipelineStopsOnFailureOrGoesOnWhenAskedTo) {
  std::vector<Job> stages = {job("breaks", "exit 1"), job("after", "true")};
  PipelineResult stopped = pipeline(manager, stages, true);
  EXPECT_FALSE(stopped.success);
  EXPECT_EQ(stopped.results.size(), 1u);
  PipelineResult went_on = pipeline(manager, stages, false);
  EXPECT_FALSE(went_on.success);
  ASSERT_EQ(went_on.results.size(), 2u);
  EXPECT_TRUE(went_on.results[1].success);
}

TEST_F(SwarmTest, MapReduceCombinesTheWorkersResults) {
  std::vector<int> items = {1, 2, 3, 4};
  std::function<Job(const int&)> map = [](const int& n) {
    return job("square " + std::to_string(n), "echo $((" + std::to_string(n) + " * " + std::to_string(n) +
                                                  ")) > \"$TEND_RESULT_FILE\"");
  };
  std::function<int(const std::vector<WorkerResult>&)> reduce = [](const std::vector<WorkerResult>& rs) {
    int sum = 0;
    for (const auto& r : rs) sum += r.success ? std::stoi(r.summary) : 1000;
    return sum;
  };
  EXPECT_EQ(map_reduce(manager, items, map, reduce), 30);
}

TEST_F(SwarmTest, VotingSucceedsOnlyWhenAQuorumAgrees) {
  Voter answer = [](const WorkerResult& r) { return r.summary; };
  std::vector<Job> agreeing = {job("v1", "echo 42 > \"$TEND_RESULT_FILE\""), job("v2", "echo 42 > \"$TEND_RESULT_FILE\""),
                               job("v3", "echo 41 > \"$TEND_RESULT_FILE\"")};
  VoteResult yes = voting(manager, agreeing, answer);
  EXPECT_TRUE(yes.success);
  EXPECT_EQ(yes.agreeing, 2u);
  ASSERT_TRUE(yes.winner);
  EXPECT_EQ(yes.winner->summary, "42\n");

  std::vector<Job> split = {job("v1", "echo 1 > \"$TEND_RESULT_FILE\""), job("v2", "echo 2 > \"$TEND_RESULT_FILE\""),
                            job("v3", "echo 1 > \"$TEND_RESULT_FILE\"; exit 1")};
  VoteResult no = voting(manager, split, answer);
  EXPECT_FALSE(no.success);  // the failed worker's ballot does not count
  EXPECT_EQ(no.agreeing, 1u);

  Agreement near = [](const WorkerResult& a, const WorkerResult& b) {
    return std::abs(std::stoi(a.summary) - std::stoi(b.summary)) <= 1;
  };
  EXPECT_TRUE(voting(manager, split, near, 2).success);
}

TEST_F(SwarmTest, TheFirstSuccessWinsARaceAndTheLosersAreCancelled) {
  std::string tag = test::unique_tag();
  std::vector<Job> jobs = {job("loser", "sleep 60"), job("fails fast", "exit 1"), job("winner", "sleep 0.3; echo won")};
  jobs[0].worker.env = {{tag.substr(0, tag.find('=')), tag.substr(tag.find('=') + 1)}};
  RaceResult r = race(manager, jobs, 60s);
  ASSERT_TRUE(r.winner);
  EXPECT_EQ(r.winner->ticket_id, r.results[2].ticket_id);
  EXPECT_EQ(r.results[0].status, TicketStatus::cancelled);
  EXPECT_EQ(r.results[1].status, TicketStatus::failed);
  EXPECT_TRUE(test::processes_with(tag).empty());
}

TEST_F(SwarmTest, WithRetryTriesAgainAfterABackoff) {
  Job flaky_job = job("flaky", flaky(counter("retry"), 3));
  WorkerResult r = with_retry(manager, flaky_job, {.attempts = 5, .backoff = 10ms, .factor = 2.0});
  EXPECT_TRUE(r.success);
  EXPECT_EQ(manager.tickets().size(), 3u);
  EXPECT_EQ(manager.ticket(r.ticket_id)->spec.parent, manager.tickets()[0].id);

  WorkerResult gave_up = with_retry(manager, job("never", "exit 1"), {.attempts = 2, .backoff = 10ms, .factor = 1.0});
  EXPECT_FALSE(gave_up.success);
  EXPECT_EQ(manager.tickets().size(), 5u);
}

TEST_F(SwarmTest, SupervisedRestartsAFlakyWorkerUpToItsLimit) {
  std::vector<Job> jobs = {job("flaky", flaky(counter("supervised"), 2)), job("steady", "true"),
                           job("broken", "exit 1")};
  std::vector<WorkerResult> results = supervised(manager, jobs, 3);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].success);
  EXPECT_TRUE(results[1].success);
  EXPECT_FALSE(results[2].success);
  // flaky: 2 runs; steady: 1; broken: 3 (its limit).
  EXPECT_EQ(manager.tickets().size(), 6u);
}

}  // namespace
}  // namespace tend::agents
