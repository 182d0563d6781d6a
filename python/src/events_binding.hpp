#pragma once
// The Supervisor's event stream for Python: each event is copied on the
// engine's thread and delivered through Completions, in order, to the loop
// that subscribed (tend.Supervisor.events(), an async iterator).

#include <pybind11/pybind11.h>

namespace tend::python {

/// Adds Event, Subscription and subscribe() to the module.
void bind_events(pybind11::module_& module);

}  // namespace tend::python
