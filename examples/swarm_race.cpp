// Swarm patterns: a race (the first worker to succeed wins, the others are
// cancelled) and a vote (success only when a quorum agrees).
#include <fmt/format.h>

#include <tend/agents/swarm.hpp>

#include "support/demo_repo.hpp"

using namespace tend;
using namespace tend::agents;

Job job(const std::string& task, const std::string& script) {
  Job j;
  j.ticket.task = task;
  j.worker.command = {"sh", "-c", script};
  return j;
}

int main() {
  demo::DemoRepo repo;
  Supervisor sup;
  Manager manager(sup, {.work_dir = repo.work(), .default_repo = repo.repo()});

  RaceResult race_result = race(manager, {job("slow approach", "sleep 30; echo slow > answer.txt"),
                                          job("quick approach", "sleep 0.2; echo quick > answer.txt"),
                                          job("broken approach", "exit 1")});
  for (const WorkerResult& r : race_result.results) {
    fmt::print("race: ticket {} {}\n", r.ticket_id, ticket_status_name(r.status));
  }
  if (!race_result.winner) return 1;
  fmt::print("winner: ticket {} ({})\n", race_result.winner->ticket_id, manager.ticket(race_result.winner->ticket_id)->spec.task);

  Voter answer = [](const WorkerResult& r) { return r.summary; };
  VoteResult vote = voting(manager,
                           {job("count A", "echo 3 > \"$TEND_RESULT_FILE\""), job("count B", "echo 3 > \"$TEND_RESULT_FILE\""),
                            job("count C", "echo 4 > \"$TEND_RESULT_FILE\"")},
                           answer);
  fmt::print("vote: {} of 3 agree on {}", vote.agreeing, vote.winner ? vote.winner->summary : "nothing\n");
  return vote.success && race_result.winner->status == TicketStatus::completed ? 0 : 1;
}
