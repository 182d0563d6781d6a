#pragma once
// Swarm patterns: small functions over the Manager for many workers at once.
// Each blocks its calling thread (not the Supervisor's executor) until done.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tend/agents/manager.hpp"

namespace tend::agents {

/// One piece of work: a ticket and the worker that carries it out.
struct Job {
  /// The ticket to create, and how its worker runs.
  TicketSpec ticket;
  WorkerSpec worker;
};

/// Runs every job at once and waits for all, or until `timeout`: workers
/// still running then are cancelled (their results say `cancelled`).
/// Results come in the jobs' order.
std::vector<WorkerResult> fork_join(Manager& manager, std::vector<Job> jobs, std::optional<Duration> timeout = {});

/// What pipeline() did.
struct PipelineResult {
  /// Every stage that ran succeeded (false when one failed, whether or not the pipeline went on).
  bool success = false;
  std::vector<WorkerResult> results;  ///< one per stage that ran
};
/// Runs the stages one after another, each starting from the branch the
/// previous stage left (its work builds on theirs). With `stop_on_failure`, a
/// failed stage ends the pipeline; without, the next stage starts from the
/// last successful one.
PipelineResult pipeline(Manager& manager, std::vector<Job> stages, bool stop_on_failure = true);

/// Maps each item to a job, runs them all in parallel, reduces the results.
template <typename Item, typename Reduced>
Reduced map_reduce(Manager& manager, const std::vector<Item>& items, const std::function<Job(const Item&)>& map,
                   const std::function<Reduced(const std::vector<WorkerResult>&)>& reduce,
                   std::optional<Duration> timeout = {}) {
  std::vector<Job> jobs;
  jobs.reserve(items.size());
  for (const Item& item : items) jobs.push_back(map(item));
  return reduce(fork_join(manager, std::move(jobs), timeout));
}

/// What voting() found.
struct VoteResult {
  bool success = false;                ///< a quorum of successful workers agreed
  std::optional<WorkerResult> winner;  ///< one result of the largest agreeing set
  std::size_t agreeing = 0;            ///< the size of that set
  /// Every job's result, in the jobs' order.
  std::vector<WorkerResult> results;
};
/// Two results agree when this says so.
using Agreement = std::function<bool(const WorkerResult&, const WorkerResult&)>;
/// A result's ballot; results with equal ballots agree.
using Voter = std::function<std::string(const WorkerResult&)>;
/// Runs the jobs in parallel; succeeds when at least `quorum` successful
/// results agree (0: a strict majority of the jobs).
VoteResult voting(Manager& manager, std::vector<Job> jobs, const Agreement& agree, std::size_t quorum = 0,
                  std::optional<Duration> timeout = {});
VoteResult voting(Manager& manager, std::vector<Job> jobs, const Voter& voter, std::size_t quorum = 0,
                  std::optional<Duration> timeout = {});

/// What race() found.
struct RaceResult {
  std::optional<WorkerResult> winner;  ///< the first to succeed
  std::vector<WorkerResult> results;   ///< everyone's, in the jobs' order (losers cancelled)
};
/// Runs the jobs at once; the first to succeed wins and the others are
/// cancelled. No winner when all fail or `timeout` passes (then all are cancelled).
RaceResult race(Manager& manager, std::vector<Job> jobs, std::optional<Duration> timeout = {});

/// How with_retry() tries again.
struct RetryOptions {
  /// At most this many attempts in all (0 counts as 1).
  unsigned attempts = 3;
  Duration backoff{1000};  ///< before the second attempt
  double factor = 2.0;     ///< each later wait is this much longer
};
/// Runs the job until it succeeds, at most `attempts` times, waiting between
/// attempts. Each attempt is a ticket of its own (its parent: the first), on
/// a fresh branch. Returns the last attempt's result.
WorkerResult with_retry(Manager& manager, Job job, RetryOptions options = {});

/// Runs the jobs at once and restarts (a new ticket, same job) each one that
/// fails, until it succeeds or has failed `max_failures` times. Results: the
/// last attempt of each job, in order.
std::vector<WorkerResult> supervised(Manager& manager, std::vector<Job> jobs, unsigned max_failures = 3);

}  // namespace tend::agents
