#pragma once
// The RPC methods: what tend does for a client, over one Supervisor. The
// daemon calls handle() for every request; the CLI and the MCP server are
// clients of these methods, so each behaviour exists once, here. The
// methods and their params are documented in docs/protocol.md.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio.hpp>

#include "tend/core/supervisor.hpp"
#include "tend/rpc/agent_service.hpp"
#include "tend/rpc/json_rpc.hpp"
#include "tend/store/state_store.hpp"

namespace tend::rpc {

namespace asio = boost::asio;

/// One client connection, as the methods see it: a way to push notifications
/// (event subscriptions) and what it subscribed to.
struct Session {
  /// Queues one line (a notification) for the client; called on the executor.
  std::function<void(std::string line)> send;
  /// True while the client has more unread than it should: output events
  /// for it are dropped then (their cursor_end shows it the gap, which it
  /// reads by cursor), so a client that stops reading cannot make us hold
  /// a fast task's whole output for it.
  std::function<bool()> congested;
  /// Its event subscriptions (`events.subscribe`); dropped when the connection closes.
  std::vector<Subscription> subscriptions;
};

/// The RPC methods over one Supervisor (see the notes at the top of this file);
/// used on the Supervisor's executor.
class Service {
 public:
  /// `store` may be null (no persistence). `shutdown` is called by daemon.shutdown.
  Service(Supervisor& supervisor, store::StateStore* store, std::filesystem::path socket,
          std::filesystem::path state_dir, std::function<void()> shutdown);

  /// Answers one request: the result, or an RpcError naming what was wrong.
  asio::awaitable<json> handle(const Request& request, std::shared_ptr<Session> session);

  /// Saves a task's spec and status (called on every state change).
  void persist(const TaskPtr& task);
  /// Commits what persist() and the agents wrote and has not been committed
  /// yet. Called before anything is sent to a client: no answer may report
  /// a state a crash could still lose.
  void make_durable();

 private:
  using Params = const json&;
  asio::awaitable<json> run(Params p);
  json list(Params p);
  json status(Params p);
  asio::awaitable<json> output(Params p);
  asio::awaitable<json> wait(Params p);
  asio::awaitable<json> kill(Params p);
  json send(Params p);
  json pause_resume(Params p, bool pause);
  json remove(Params p);
  json clean(Params p);
  // edit_restart.cpp
  json edit(Params p);
  asio::awaitable<json> restart(Params p);
  asio::awaitable<json> restart_one(const TaskPtr& old, Params p);
  json daemon_status(Params p);
  json set_parallel(Params p, bool is_group_add);
  // queue_methods.cpp
  json group_list(Params p);
  json group_remove(Params p);
  json enqueue(Params p);
  json start(Params p);
  /// Refuses a group that was never added and that no task is in (a filter's).
  void check_group_known(const std::string& group) const;
  json subscribe(Params p, const std::shared_ptr<Session>& session);

  /// The task a reference names: by id, or by name the live task of that
  /// name before the newest that ended.
  TaskPtr resolve(const json& id_or_name) const;
  TaskPtr find_by_name(const std::string& name) const;
  /// Frees `name` for a new task: throws name_in_use while a live task has
  /// it, unless `replace`, which stops that task and waits for its end.
  asio::awaitable<void> take_name(const std::string& name, bool replace);
  std::vector<TaskPtr> resolve_all(Params p) const;
  /// Each reference of "ids" (or "id") with its task, or why it names none.
  /// Only a request of one reference fails as a whole when it names no task.
  struct Resolved {
    json ref;
    TaskPtr task;
    json error;  ///< {"code", "message"} when there is no task
  };
  std::vector<Resolved> resolve_each(Params p) const;
  /// Refuses a group that was never added (group.add, queue.parallel).
  void check_group_exists(const std::string& group) const;
  void forget(const TaskPtr& task);

  Supervisor& sup_;
  store::StateStore* store_;
  std::filesystem::path socket_;
  std::filesystem::path state_dir_;
  std::function<void()> shutdown_;
  Clock::time_point started_at_ = Clock::now();
  bool resave_all_ = false;  ///< a commit failed: what it held is to be saved again
  std::unique_ptr<AgentService> agents_;
};

}  // namespace tend::rpc
