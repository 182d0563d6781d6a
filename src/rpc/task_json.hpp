#pragma once
// A task as every method answers it: its status with its spec, in the
// store's codec.

#include <nlohmann/json.hpp>

#include "tend/core/task.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::rpc {

inline nlohmann::json task_json(const TaskPtr& task) { return store::status_to_json(task->status(), task->spec()); }

}  // namespace tend::rpc
