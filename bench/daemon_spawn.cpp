#include "daemon_spawn.hpp"

#include <map>
#include <stdexcept>

#include "rpc_connection.hpp"

namespace tend::bench {

std::size_t daemon_spawn_loop(const std::filesystem::path& socket, const std::vector<std::string>& argv,
                              std::size_t count, std::size_t concurrency, const std::string& expected) {
  RpcConnection rpc(socket);
  enum class Stage { run, wait, output, remove };
  struct Pending {
    Stage stage;
    json task_id;
    bool succeeded = false;
  };
  std::map<std::int64_t, Pending> pending;  // by request id
  std::size_t started = 0, correct = 0, in_flight = 0;
  auto start_one = [&] {
    ++started;
    ++in_flight;
    pending[rpc.send("task.run", {{"argv", argv}})] = {Stage::run, nullptr, false};
  };
  while (in_flight < concurrency && started < count) start_one();
  while (in_flight > 0 || !pending.empty()) {
    json answer = rpc.receive();
    auto it = pending.find(answer["id"].get<std::int64_t>());
    if (it == pending.end()) continue;
    Pending p = it->second;
    pending.erase(it);
    if (answer.contains("error")) throw std::runtime_error("daemon: " + answer["error"].dump());
    const json& result = answer["result"];
    switch (p.stage) {
      case Stage::run: {
        json id = result["id"];
        pending[rpc.send("task.wait", {{"ids", {id}}})] = {Stage::wait, id, false};
        break;
      }
      case Stage::wait: {
        bool succeeded = result["finished"].size() == 1 && result["finished"][0]["state"] == "succeeded";
        pending[rpc.send("task.output", {{"id", p.task_id}})] = {Stage::output, p.task_id, succeeded};
        break;
      }
      case Stage::output:
        correct += p.succeeded && result["data"] == expected;
        // Forgetting it is part of the work, but the next task need not wait for that.
        pending[rpc.send("task.remove", {{"ids", {p.task_id}}})] = {Stage::remove, p.task_id, false};
        --in_flight;
        if (started < count) start_one();
        break;
      case Stage::remove:
        break;
    }
  }
  return correct;
}

}  // namespace tend::bench
