#pragma once
// task.run's params decoded into the TaskSpec to submit and what the call
// itself should do (replace a task of the same name, wait for readiness).
// Every field is checked here, in the order the params are documented, with
// an error naming the field.

#include <functional>

#include "tend/core/supervisor.hpp"
#include "tend/core/task.hpp"
#include "tend/rpc/json_rpc.hpp"

namespace tend::rpc {

struct RunRequest {
  TaskSpec spec;
  bool replace = false;     ///< stop a live task of the same name first
  bool wait_ready = false;  ///< answer once the task is ready (it has a readiness check)
  Duration ready_timeout{};
  Supervisor::Hold hold;  ///< a start time, a stash
};

/// When a queued task may start: "delay_ms" from now, or "start_at" (a UTC
/// time as format_time writes it), or neither; both is a mistake.
std::optional<Clock::time_point> decode_start_time(const json& p);

/// Decodes task.run's params; `resolve` turns a task reference ("after") into
/// its task's id, or throws the RpcError for it.
RunRequest decode_run_request(const json& p, const std::function<TaskId(const json&)>& resolve);

}  // namespace tend::rpc
