#pragma once
// The agent.* RPC methods: tickets and workers (the agents layer's Manager)
// for clients of the daemon. Documented in docs/protocol.md.
//
// git work (making worktrees, merging, diffing, collecting) runs on a small
// thread pool of its own, never on the daemon's event loop; waits are the
// Supervisor's awaitables.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio.hpp>

#include "tend/agents/manager.hpp"
#include "tend/rpc/json_rpc.hpp"
#include "tend/store/state_store.hpp"

namespace tend::rpc {

/// The agent.* methods over one Manager, for the daemon's Service.
class AgentService {
 public:
  /// Worktrees and ticket files go under `work_dir`; `store` (may be null)
  /// keeps the ticket counter, so a restarted daemon hands out new ids.
  AgentService(Supervisor& supervisor, store::StateStore* store, std::filesystem::path work_dir);
  /// Waits for the git pool's work, then records every ticket in the store:
  /// one still under way as cancelled (the daemon stopped its worker).
  ~AgentService();

  /// Answers an agent.* method, or nullopt when `method` is not one.
  asio::awaitable<std::optional<json>> handle(const std::string& method, const json& params);

  /// The Manager behind the methods.
  agents::Manager& manager() { return manager_; }

 private:
  using Params = const json&;
  asio::awaitable<json> spawn(Params p);
  json list(Params p);
  json status(Params p);
  asio::awaitable<json> wait(Params p);
  asio::awaitable<json> cancel(Params p);
  template <typename F>
  asio::awaitable<json> off_loop(F work);

  json agent_json(const agents::Ticket& ticket) const;
  /// Records the ticket (and its result) in the store, or forgets it there.
  void save(const std::string& id);
  json record_of(const agents::Ticket& ticket) const;
  void restore_saved();
  Subscription worker_exits_;
  std::string ticket_id(Params p, const char* name = "id") const;

  Supervisor& sup_;
  store::StateStore* store_;
  agents::Manager manager_;
  asio::thread_pool git_pool_{2};
  std::map<TaskId, std::string> ticket_of_worker_;  // on the executor only
};

}  // namespace tend::rpc
