#include "events_binding.hpp"

#include <pybind11/stl.h>

#include "supervisor_binding.hpp"
#include "tend/core/events.hpp"

namespace tend::python {
namespace {

// An Event that outlives its callback: its bytes copied, its status kept.
struct EventRecord {
  Event::Kind kind;
  TaskPtr task;
  Stream stream;
  std::string data;
  TaskStatus status;
};

}  // namespace

void bind_events(py::module_& m) {
  py::class_<EventRecord>(m, "Event", "One thing that happened to a task.")
      .def_property_readonly("kind", [](const EventRecord& e) { return std::string(to_string(e.kind)); },
                             "started, output, exited, stalled, restarting, ready, paused or resumed")
      .def_readonly("task", &EventRecord::task)
      .def_property_readonly("stream", [](const EventRecord& e) { return std::string(to_string(e.stream)); })
      .def_property_readonly("data", [](const EventRecord& e) { return py::bytes(e.data); },
                             "The bytes of an output event.")
      .def_readonly("status", &EventRecord::status, "For started and exited: the task's status then (how it ended).");

  py::class_<Subscription>(m, "Subscription", "Events keep coming until close().")
      .def("close", &Subscription::reset);

  m.def(
      "subscribe",
      [](SupervisorHandle& h, std::shared_ptr<Completions> completions, std::uint64_t token, bool with_output) {
        auto on_event = [completions, token](const Event& e) {
          EventRecord record{e.kind, e.task, e.stream, std::string(e.data), e.status};
          completions->post(token, [record = std::move(record)]() -> py::object { return py::cast(record); });
        };
        return h.use([&](Supervisor& sup) { return sup.subscribe(std::move(on_event), with_output); });
      },
      py::arg("supervisor"), py::arg("completions"), py::arg("token"), py::arg("with_output"));
}

}  // namespace tend::python
