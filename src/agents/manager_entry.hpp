#pragma once
// What the Manager keeps per ticket (shared by manager.cpp and worker.cpp).

#include "tend/agents/manager.hpp"

namespace tend::agents {

struct Manager::Entry {
  Ticket ticket;
  WorkerSpec spec;
  OnComplete on_complete;
  ShadowGit* git = nullptr;          ///< the ticket's repository, once spawned
  std::optional<Workspace> workspace;
  TaskPtr worker;                    ///< the worker's own (thread) task
  TaskPtr agent;                     ///< the agent's task, while and after it runs
  std::optional<WorkerResult> result;
};

}  // namespace tend::agents
