#include "supervisor_binding.hpp"

#include <chrono>
#include <cmath>
#include <string>

#include <boost/asio/post.hpp>
#include <pybind11/functional.h>
#include <pybind11/stl.h>

#include "tend/core/duration.hpp"

namespace tend::python {
namespace {

// Seconds from Python, checked where every tend duration is (duration.hpp),
// with the name of the argument in the error.
Duration seconds(double value, const char* what) {
  try {
    if (std::isnan(value) || value < 0) throw DurationError("must not be negative");
    if (value * 1000.0 > static_cast<double>(kMaxDuration.count())) {
      throw DurationError(std::string("must be at most ") + kMaxDurationText);
    }
    return duration_of_ms(std::llround(value * 1000.0));
  } catch (const DurationError& e) {
    throw DurationError(std::string(what) + ": " + e.what());
  }
}

std::optional<Duration> seconds(std::optional<double> value, const char* what) {
  if (!value) return std::nullopt;
  return seconds(*value, what);
}

std::optional<double> epoch_seconds(const std::optional<Clock::time_point>& at) {
  if (!at) return std::nullopt;
  return std::chrono::duration<double>(at->time_since_epoch()).count();
}

double as_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

Stream stream_named(const std::string& name) {
  if (name == "stdout") return Stream::stdout_stream;
  if (name == "stderr") return Stream::stderr_stream;
  throw std::invalid_argument("stream must be \"stdout\" or \"stderr\", not \"" + name + "\"");
}

py::object status_or_none(const std::optional<TaskStatus>& status) {
  return status ? py::cast(*status) : py::object(py::none());
}

void bind_status(py::module_& m) {
  py::class_<TaskStatus>(m, "Status", "A snapshot of a task: its state, how it ended, and why.")
      .def_readonly("id", &TaskStatus::id)
      .def_readonly("name", &TaskStatus::name)
      .def_property_readonly("kind", [](const TaskStatus& s) { return std::string(to_string(s.kind)); })
      .def_property_readonly("state", [](const TaskStatus& s) { return std::string(to_string(s.state)); },
                             "queued, running, succeeded, failed, timed_out, killed, stalled, cancelled or lost")
      .def_readonly("exit_code", &TaskStatus::exit_code, "The exit code when it exited, else None.")
      .def_readonly("signal", &TaskStatus::signal, "The signal that ended it, else None.")
      .def_readonly("reason", &TaskStatus::reason, "Why it ended (or what it is doing), in words.")
      .def_readonly("pid", &TaskStatus::pid)
      .def_readonly("marker", &TaskStatus::marker, "The TEND_TASK=... entry its processes inherit.")
      .def_property_readonly("started_at", [](const TaskStatus& s) { return epoch_seconds(s.started_at); })
      .def_property_readonly("ended_at", [](const TaskStatus& s) { return epoch_seconds(s.ended_at); })
      .def_property_readonly("duration", [](const TaskStatus& s) { return as_seconds(s.duration); },
                             "Seconds from start to end (or to now while running).")
      .def_property_readonly(
          "timeout", [](const TaskStatus& s) { return s.limits.wall.value ? std::optional(as_seconds(*s.limits.wall.value)) : std::nullopt; },
          "The wall-clock limit it runs under, in seconds; None for none.")
      .def_property_readonly(
          "idle_timeout", [](const TaskStatus& s) { return s.limits.idle.value ? std::optional(as_seconds(*s.limits.idle.value)) : std::nullopt; },
          "The longest silence it may keep, in seconds; None for none.")
      .def_readonly("attempts", &TaskStatus::attempts)
      .def_readonly("ready", &TaskStatus::ready, "Its readiness conditions held at some point.")
      .def_readonly("stalled", &TaskStatus::stalled, "Quiet beyond its idle timeout right now.")
      .def_readonly("port", &TaskStatus::port, "The port handed to it in $PORT, if any.")
      .def_readonly("start_failure", &TaskStatus::start_failure, "Why its process never ran, if it did not.")
      .def_property_readonly("finished", &TaskStatus::finished)
      .def_property_readonly("ok", [](const TaskStatus& s) { return s.state == TaskState::succeeded; })
      .def("__repr__", [](const TaskStatus& s) {
        return "<tend.Status " + std::to_string(s.id) + " " + std::string(to_string(s.state)) + ": " + s.reason + ">";
      });
}

void bind_task(py::module_& m) {
  py::class_<Task, TaskPtr>(m, "Task", "The engine's handle on one task (tend.Task wraps it).")
      .def_property_readonly("id", &Task::id)
      .def_property_readonly("name", &Task::display_name)
      .def_property_readonly("command", [](const Task& t) { return t.spec().command_line(); })
      .def_property_readonly("kind", [](const Task& t) { return std::string(to_string(t.spec().kind)); })
      .def("status", &Task::status)
      .def_property_readonly("finished", &Task::finished)
      .def(
          "read",
          [](const Task& t, const std::string& stream, std::uint64_t cursor, std::size_t max_bytes) {
            Stream s = stream_named(stream);
            OutputRead r;
            {
              py::gil_scoped_release unlocked;
              r = t.output(s).read(cursor, max_bytes);
            }
            return py::make_tuple(py::bytes(r.data), r.next_cursor, r.eof);
          },
          py::arg("stream"), py::arg("cursor"), py::arg("max_bytes"))
      .def("written", [](const Task& t, const std::string& stream) { return t.output(stream_named(stream)).size(); })
      .def("record_activity", [](Task& t) { t.progress().record_activity(); })
      .def_property_readonly("idle_for", [](const Task& t) { return as_seconds(t.progress().idle_for()); });
}

void bind_completions(py::module_& m) {
  py::class_<Completions, std::shared_ptr<Completions>>(
      m, "Completions", "An eventfd an asyncio loop watches, and the outcomes the engine queued behind it.")
      .def(py::init<>())
      .def_property_readonly("fd", &Completions::fd)
      .def("drain", [](Completions& c) {
        py::list out;
        for (auto& [token, outcome] : c.drain()) out.append(py::make_tuple(token, py::cpp_function(std::move(outcome))));
        return out;
      });
}

}  // namespace

TaskSpec to_spec(const RunRequest& r) {
  TaskSpec spec;
  if (r.shell) {
    spec.shell_command = *r.shell;
  } else {
    spec.argv = r.argv;
  }
  spec.name = r.name;
  spec.cwd = r.cwd;
  spec.env = r.env;
  if (r.terminal) spec.kind = TaskKind::terminal;
  // A task has no limit unless one is given or the policy is asked for.
  spec.command_policy = r.by_policy;
  if (r.timeout_ms) spec.timeout = Duration(*r.timeout_ms);
  if (r.idle_timeout_ms) spec.idle_timeout = Duration(*r.idle_timeout_ms);
  if (r.idle_policy == "stop") {
    spec.idle_policy = IdlePolicy::stop;
  } else if (r.idle_policy != "warn") {
    throw std::invalid_argument("idle_policy must be \"warn\" or \"stop\", not \"" + r.idle_policy + "\"");
  }
  spec.ready.pattern = r.ready_pattern;
  if (r.ready_port) {
    if (*r.ready_port < 0 || *r.ready_port > 65535) throw std::invalid_argument("ready_port must be 0..65535");
    spec.ready.port = static_cast<unsigned short>(*r.ready_port);
  }
  spec.allocate_port = r.allocate_port;
  spec.merge_stderr = r.merge_stderr;
  if (r.stdin_pipe) spec.stdin_mode = process::StdinMode::pipe;
  if (r.grace_ms) spec.stop = StopLadder::standard(Duration(*r.grace_ms));
  spec.progress_pattern = r.progress_pattern;
  return spec;
}

SupervisorHandle::SupervisorHandle(SupervisorOptions options) : sup_(std::make_unique<Supervisor>(std::move(options))) {}

SupervisorHandle::~SupervisorHandle() {
  // Dropped without close(): stopping every task takes up to its grace, and
  // other Python threads need not wait for that (the engine never takes the GIL).
  if (Py_IsInitialized() && PyGILState_Check()) {
    py::gil_scoped_release unlocked;
    close();
  } else {
    close();
  }
}

bool SupervisorHandle::closed() const {
  std::shared_lock lock(sup_mutex_);
  return !sup_;
}

void SupervisorHandle::close() {
  {
    // Ending every task first ends every blocking wait, which holds the lock.
    std::shared_lock lock(sup_mutex_);
    if (!sup_) return;
    sup_->shutdown();
  }
  std::unique_lock lock(sup_mutex_);
  sup_.reset();
}

std::shared_ptr<asio::cancellation_signal> SupervisorHandle::track(std::uint64_t token) {
  auto signal = std::make_shared<asio::cancellation_signal>();
  std::lock_guard lock(ops_mutex_);
  ops_[token] = signal;
  return signal;
}

void SupervisorHandle::untrack(std::uint64_t token) {
  std::lock_guard lock(ops_mutex_);
  ops_.erase(token);
}

namespace {

// An operation with no result, as one whose result is ignored.
asio::awaitable<bool> then_true(asio::awaitable<void> op) {
  co_await std::move(op);
  co_return true;
}

}  // namespace

void SupervisorHandle::start_void(std::shared_ptr<Completions> completions, std::uint64_t token,
                                  asio::awaitable<void> op) {
  start(std::move(completions), token, then_true(std::move(op)), [](bool) { return py::none(); });
}

void SupervisorHandle::cancel(std::uint64_t token) {
  std::shared_ptr<asio::cancellation_signal> signal;
  {
    std::lock_guard lock(ops_mutex_);
    auto it = ops_.find(token);
    if (it == ops_.end()) return;
    signal = it->second;
  }
  std::shared_lock lock(sup_mutex_);
  if (!sup_) return;
  // A signal is emitted on the executor, where the operation runs.
  asio::post(sup_->get_executor(), [signal] { signal->emit(asio::cancellation_type::terminal); });
}

void bind_supervisor(py::module_& m) {
  bind_status(m);
  bind_task(m);
  bind_completions(m);

  using Handle = SupervisorHandle;
  using CompletionsPtr = std::shared_ptr<Completions>;
  py::class_<Handle>(m, "Supervisor", "The engine's Supervisor on a thread of its own (tend.Supervisor wraps it).")
      .def(py::init([](bool adopt_orphans, std::optional<double> grace) {
             SupervisorOptions options;
             options.adopt_orphans = adopt_orphans;
             if (grace) options.stop_ladder = StopLadder::standard(seconds(*grace, "grace"));
             return std::make_unique<Handle>(std::move(options));
           }),
           py::kw_only(), py::arg("adopt_orphans") = false, py::arg("grace") = py::none())
      .def(
          "run",
          [](Handle& h, std::vector<std::string> argv, std::optional<std::string> shell, std::string name,
             std::string cwd, std::vector<std::pair<std::string, std::string>> env, bool terminal,
             std::optional<double> timeout, bool by_policy, std::optional<double> idle_timeout,
             std::string idle_policy, std::optional<std::string> ready_pattern, std::optional<int> ready_port,
             bool allocate_port, bool merge_stderr, bool stdin_pipe, std::optional<double> grace,
             std::optional<std::string> progress_pattern) {
            RunRequest r{std::move(argv), std::move(shell), std::move(name), std::move(cwd), std::move(env),
                         terminal, std::nullopt, by_policy, std::nullopt, std::move(idle_policy),
                         std::move(ready_pattern), ready_port, allocate_port, merge_stderr, stdin_pipe,
                         std::nullopt, std::move(progress_pattern)};
            if (auto d = seconds(timeout, "timeout")) r.timeout_ms = d->count();
            if (auto d = seconds(idle_timeout, "idle_timeout")) r.idle_timeout_ms = d->count();
            if (auto d = seconds(grace, "grace")) r.grace_ms = d->count();
            TaskSpec spec = to_spec(r);
            py::gil_scoped_release unlocked;
            return h.use([&](Supervisor& sup) { return sup.run(std::move(spec)); });
          },
          py::kw_only(), py::arg("argv") = std::vector<std::string>{}, py::arg("shell") = py::none(),
          py::arg("name") = "", py::arg("cwd") = "", py::arg("env") = std::vector<std::pair<std::string, std::string>>{},
          py::arg("terminal") = false, py::arg("timeout") = py::none(), py::arg("by_policy") = false,
          py::arg("idle_timeout") = py::none(), py::arg("idle_policy") = "warn", py::arg("ready_pattern") = py::none(),
          py::arg("ready_port") = py::none(), py::arg("allocate_port") = false, py::arg("merge_stderr") = false,
          py::arg("stdin_pipe") = false, py::arg("grace") = py::none(), py::arg("progress_pattern") = py::none())
      .def("poll",
           [](Handle& h, const TaskPtr& task) {
             return status_or_none(h.use([&](Supervisor& sup) { return sup.poll(task); }));
           })
      .def("tasks", [](Handle& h) { return h.use([](Supervisor& sup) { return sup.tasks(); }); })
      .def(
          "wait_blocking",
          [](Handle& h, const TaskPtr& task, std::optional<double> timeout) {
            auto limit = seconds(timeout, "timeout");
            std::optional<TaskStatus> status;
            {
              py::gil_scoped_release unlocked;
              status = h.use([&](Supervisor& sup) { return sup.wait(task, limit); });
            }
            return status_or_none(status);
          },
          py::arg("task"), py::arg("timeout") = py::none())
      .def("stop",
           [](Handle& h, const TaskPtr& task, std::optional<double> grace) {
             std::optional<StopLadder> ladder;
             if (grace) ladder = StopLadder::standard(seconds(*grace, "grace"));
             py::gil_scoped_release unlocked;
             h.use([&](Supervisor& sup) { sup.stop(task, ladder); });
           })
      .def("kill",
           [](Handle& h, const TaskPtr& task, int signal) {
             py::gil_scoped_release unlocked;
             return h.use([&](Supervisor& sup) { return sup.kill(task, signal); });
           })
      .def("send",
           [](Handle& h, const TaskPtr& task, py::bytes data) {
             std::string bytes = data;
             py::gil_scoped_release unlocked;
             h.use([&](Supervisor& sup) { sup.send(task, std::move(bytes)); });
           })
      .def("close_input",
           [](Handle& h, const TaskPtr& task) {
             py::gil_scoped_release unlocked;
             h.use([&](Supervisor& sup) { sup.close_input(task); });
           })
      .def("record_activity",
           [](Handle& h, const TaskPtr& task) { h.use([&](Supervisor& sup) { sup.record_activity(task); }); })
      .def("start_wait",
           [](Handle& h, CompletionsPtr c, std::uint64_t token, TaskPtr task, std::optional<double> timeout) {
             auto limit = seconds(timeout, "timeout");
             h.start(std::move(c), token, h.use([&](Supervisor& sup) { return sup.async_wait(std::move(task), limit); }),
                     [](const std::optional<TaskStatus>& s) { return status_or_none(s); });
           })
      .def("start_wait_any",
           [](Handle& h, CompletionsPtr c, std::uint64_t token, std::vector<TaskPtr> tasks,
              std::optional<double> timeout) {
             auto limit = seconds(timeout, "timeout");
             h.start(std::move(c), token,
                     h.use([&](Supervisor& sup) { return sup.async_wait_any(std::move(tasks), limit); }),
                     [](const std::optional<TaskPtr>& t) { return t ? py::cast(*t) : py::object(py::none()); });
           })
      .def("start_stop",
           [](Handle& h, CompletionsPtr c, std::uint64_t token, TaskPtr task, std::optional<double> grace) {
             std::optional<StopLadder> ladder;
             if (grace) ladder = StopLadder::standard(seconds(*grace, "grace"));
             h.start(std::move(c), token, h.use([&](Supervisor& sup) { return sup.async_stop(std::move(task), ladder); }),
                     [](const TaskStatus& s) { return py::cast(s); });
           })
      .def("start_ready",
           [](Handle& h, CompletionsPtr c, std::uint64_t token, TaskPtr task, std::optional<double> timeout) {
             Duration limit = timeout ? seconds(*timeout, "timeout") : kMaxDuration;
             h.start_void(std::move(c), token,
                          h.use([&](Supervisor& sup) { return sup.async_wait_ready(std::move(task), limit); }));
           })
      .def("start_shutdown",
           [](Handle& h, CompletionsPtr c, std::uint64_t token) {
             h.start_void(std::move(c), token, h.use([](Supervisor& sup) { return sup.async_shutdown(); }));
           })
      .def("cancel", &Handle::cancel, py::arg("token"))
      .def("close", &Handle::close, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("closed", &Handle::closed);
}

}  // namespace tend::python
