#pragma once
// Completions: how the engine's events reach an asyncio loop.
//
// The engine runs on its own thread and never takes the GIL: when an awaited
// operation finishes there, its outcome is queued here and an eventfd is
// written. The asyncio loop watches that eventfd (loop.add_reader) and, on
// its own thread with the GIL held, drains the queue and resolves the
// futures. So a wait wakes from the engine's own event, with no polling
// thread, and no engine thread can ever wait for the GIL (no deadlock with a
// Python thread that waits for the engine).

#include <cstdint>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>

#include "tend/process/unique_fd.hpp"

namespace tend::python {

namespace py = pybind11;

/// Makes an operation's Python result (or raises its error). Called on the
/// loop's thread with the GIL held; built on the engine's thread, so it must
/// hold C++ values only, never a Python object.
using Outcome = std::function<py::object()>;

class Completions {
 public:
  Completions();
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;

  /// The descriptor the loop watches; readable while outcomes are queued.
  int fd() const { return fd_.get(); }
  /// Queues the outcome of the operation `token`. Any thread, no GIL.
  void post(std::uint64_t token, Outcome outcome);
  /// Takes every queued outcome, oldest first.
  std::vector<std::pair<std::uint64_t, Outcome>> drain();

 private:
  process::UniqueFd fd_;
  std::mutex mutex_;
  std::vector<std::pair<std::uint64_t, Outcome>> queued_;
};

}  // namespace tend::python
