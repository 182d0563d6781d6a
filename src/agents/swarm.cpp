#include "tend/agents/swarm.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

namespace tend::agents {

namespace {

std::string start(Manager& manager, Job job) {
  std::string id = manager.create_ticket(std::move(job.ticket)).id;
  manager.spawn_async(id, std::move(job.worker));
  return id;
}

std::vector<std::string> start_all(Manager& manager, std::vector<Job> jobs) {
  std::vector<std::string> ids;
  for (Job& job : jobs) ids.push_back(start(manager, std::move(job)));
  return ids;
}

std::vector<WorkerResult> results_of(Manager& manager, const std::vector<std::string>& ids) {
  std::vector<WorkerResult> out;
  for (const auto& id : ids) out.push_back(*manager.wait_for(id));
  return out;
}

std::optional<std::chrono::steady_clock::time_point> deadline_after(std::optional<Duration> timeout) {
  if (!timeout) return std::nullopt;
  return std::chrono::steady_clock::now() + *timeout;
}

std::optional<Duration> left_until(std::optional<std::chrono::steady_clock::time_point> deadline) {
  if (!deadline) return std::nullopt;
  auto left = std::chrono::duration_cast<Duration>(*deadline - std::chrono::steady_clock::now());
  return std::max(left, Duration(0));
}

}  // namespace

std::vector<WorkerResult> fork_join(Manager& manager, std::vector<Job> jobs, std::optional<Duration> timeout) {
  std::vector<std::string> ids = start_all(manager, std::move(jobs));
  std::vector<std::string> done = manager.wait_all(ids, timeout);
  for (const auto& id : ids) {
    if (std::find(done.begin(), done.end(), id) == done.end()) manager.cancel(id);
  }
  return results_of(manager, ids);
}

PipelineResult pipeline(Manager& manager, std::vector<Job> stages, bool stop_on_failure) {
  PipelineResult out;
  std::string from_branch;
  for (Job& stage : stages) {
    if (!from_branch.empty()) stage.worker.base = from_branch;
    if (!out.results.empty()) {
      const WorkerResult& before = out.results.back();
      stage.ticket.parent = before.ticket_id;
      stage.ticket.context += fmt::format("{}The previous stage (ticket {}) {}: {}", stage.ticket.context.empty() ? "" : "\n\n",
                                          before.ticket_id, before.success ? "succeeded" : "failed", before.summary);
    }
    std::string id = start(manager, std::move(stage));
    out.results.push_back(*manager.wait_for(id));
    const WorkerResult& r = out.results.back();
    if (r.success) {
      from_branch = r.branch;
    } else if (stop_on_failure) {
      out.success = false;
      return out;
    }
  }
  out.success = std::all_of(out.results.begin(), out.results.end(), [](const WorkerResult& r) { return r.success; });
  return out;
}

VoteResult voting(Manager& manager, std::vector<Job> jobs, const Agreement& agree, std::size_t quorum,
                  std::optional<Duration> timeout) {
  const std::size_t needed = quorum > 0 ? quorum : jobs.size() / 2 + 1;
  VoteResult out;
  out.results = fork_join(manager, std::move(jobs), timeout);
  for (const WorkerResult& candidate : out.results) {
    if (!candidate.success) continue;
    std::size_t count = static_cast<std::size_t>(std::count_if(
        out.results.begin(), out.results.end(), [&](const WorkerResult& r) { return r.success && agree(candidate, r); }));
    if (count > out.agreeing) {
      out.agreeing = count;
      out.winner = candidate;
    }
  }
  out.success = out.agreeing >= needed;
  return out;
}

VoteResult voting(Manager& manager, std::vector<Job> jobs, const Voter& voter, std::size_t quorum,
                  std::optional<Duration> timeout) {
  Agreement same_ballot = [&voter](const WorkerResult& a, const WorkerResult& b) { return voter(a) == voter(b); };
  return voting(manager, std::move(jobs), same_ballot, quorum, timeout);
}

RaceResult race(Manager& manager, std::vector<Job> jobs, std::optional<Duration> timeout) {
  const auto deadline = deadline_after(timeout);
  std::vector<std::string> ids = start_all(manager, std::move(jobs));
  std::vector<std::string> running = ids;
  RaceResult out;
  while (!running.empty() && !out.winner) {
    auto first = manager.wait_any(running, left_until(deadline));
    if (!first) break;  // the timeout passed
    std::erase(running, *first);
    WorkerResult r = *manager.get_result(*first);
    if (r.success) out.winner = r;
  }
  for (const auto& id : running) manager.cancel(id);
  out.results = results_of(manager, ids);
  return out;
}

WorkerResult with_retry(Manager& manager, Job job, RetryOptions options) {
  Duration wait = options.backoff;
  std::string first;
  WorkerResult last;
  for (unsigned attempt = 1; attempt <= std::max(options.attempts, 1u); ++attempt) {
    Job this_try = job;
    if (!first.empty()) {
      this_try.ticket.parent = first;
      this_try.ticket.metadata["attempt"] = std::to_string(attempt);
    }
    std::string id = start(manager, std::move(this_try));
    if (first.empty()) first = id;
    last = *manager.wait_for(id);
    if (last.success || last.status == TicketStatus::cancelled || attempt == options.attempts) break;
    std::this_thread::sleep_for(wait);
    wait = std::chrono::duration_cast<Duration>(wait * options.factor);
  }
  return last;
}

std::vector<WorkerResult> supervised(Manager& manager, std::vector<Job> jobs, unsigned max_failures) {
  struct Slot {
    Job job;
    std::string first;
    std::string current;
    unsigned failures = 0;
    bool settled = false;  // succeeded, cancelled, or out of restarts
  };
  std::vector<Slot> slots;
  for (Job& job : jobs) {
    Slot slot{job, "", "", 0, false};
    slot.current = slot.first = start(manager, std::move(job));
    slots.push_back(std::move(slot));
  }
  for (;;) {
    std::vector<std::string> running;
    for (Slot& s : slots) {
      if (s.settled) continue;
      if (manager.is_running(s.current)) {
        running.push_back(s.current);
        continue;
      }
      WorkerResult r = *manager.wait_for(s.current);
      if (r.success || r.status == TicketStatus::cancelled || ++s.failures >= max_failures) {
        s.settled = true;
        continue;
      }
      Job again = s.job;
      again.ticket.parent = s.first;
      again.ticket.metadata["restart"] = std::to_string(s.failures);
      s.current = start(manager, std::move(again));
      running.push_back(s.current);
    }
    if (running.empty()) break;
    manager.wait_any(running);
  }
  std::vector<std::string> last;
  for (const Slot& s : slots) last.push_back(s.current);
  return results_of(manager, last);
}

}  // namespace tend::agents
