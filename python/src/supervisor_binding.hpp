#pragma once
// The Supervisor as Python sees it (tend._tend.Supervisor): the library's
// Supervisor on a thread of its own, its blocking calls made without the GIL,
// and its awaitable operations started on the engine and finished through
// Completions on the caller's asyncio loop.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <pybind11/pybind11.h>

#include "completions.hpp"
#include "tend/core/supervisor.hpp"

namespace tend::python {

/// What tend.Supervisor.run() asks for: a TaskSpec in Python's terms.
struct RunRequest {
  std::vector<std::string> argv;
  std::optional<std::string> shell;
  std::string name;
  std::string cwd;
  std::vector<std::pair<std::string, std::string>> env;
  bool terminal = false;
  std::optional<std::int64_t> timeout_ms;       ///< nullopt: none (unless by_policy)
  bool by_policy = false;                       ///< the command policy's limits
  std::optional<std::int64_t> idle_timeout_ms;  ///< nullopt: none (unless by_policy)
  std::string idle_policy = "warn";
  std::optional<std::string> ready_pattern;
  std::optional<int> ready_port;
  bool allocate_port = false;
  bool merge_stderr = false;
  bool stdin_pipe = false;
  std::optional<std::int64_t> grace_ms;  ///< TERM, grace, KILL; nullopt: the default 5 s
  std::optional<std::string> progress_pattern;
};

TaskSpec to_spec(const RunRequest& request);

class SupervisorHandle {
 public:
  explicit SupervisorHandle(SupervisorOptions options);
  ~SupervisorHandle();
  SupervisorHandle(const SupervisorHandle&) = delete;
  SupervisorHandle& operator=(const SupervisorHandle&) = delete;

  /// Calls f(Supervisor&) while the Supervisor cannot be closed; throws
  /// TaskError once it is.
  template <typename F>
  decltype(auto) use(F&& f) const {
    std::shared_lock lock(sup_mutex_);
    if (!sup_) throw TaskError("the Supervisor is closed");
    return f(*sup_);
  }
  bool closed() const;
  /// Shuts down (stops and reaps every task) and ends the engine's thread.
  void close();

  /// Runs `op` on the engine; its outcome, made by `convert` on the loop's
  /// thread, goes to `completions` under `token`.
  template <typename T, typename Convert>
  void start(std::shared_ptr<Completions> completions, std::uint64_t token, asio::awaitable<T> op, Convert convert);
  /// The same for an operation with no result (None).
  void start_void(std::shared_ptr<Completions> completions, std::uint64_t token, asio::awaitable<void> op);
  /// Cancels the operation `token` (if it is still running): the awaited
  /// wait ends, the task does not.
  void cancel(std::uint64_t token);

 private:
  std::shared_ptr<asio::cancellation_signal> track(std::uint64_t token);
  void untrack(std::uint64_t token);

  std::mutex ops_mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<asio::cancellation_signal>> ops_;
  mutable std::shared_mutex sup_mutex_;  // close() against every other use
  std::unique_ptr<Supervisor> sup_;
};

template <typename T, typename Convert>
void SupervisorHandle::start(std::shared_ptr<Completions> completions, std::uint64_t token, asio::awaitable<T> op,
                             Convert convert) {
  auto signal = track(token);
  auto on_done = [this, completions, token, convert, signal](std::exception_ptr error, T value) {
    untrack(token);
    if (error) {
      completions->post(token, [error]() -> py::object { std::rethrow_exception(error); });
    } else {
      completions->post(token, [convert, value = std::move(value)]() -> py::object { return convert(value); });
    }
  };
  try {
    use([&](Supervisor& sup) {
      asio::co_spawn(sup.get_executor(), std::move(op), asio::bind_cancellation_slot(signal->slot(), std::move(on_done)));
    });
  } catch (...) {
    untrack(token);
    throw;
  }
}

/// Adds Status, Task, Completions and Supervisor to the module.
void bind_supervisor(py::module_& module);

}  // namespace tend::python
