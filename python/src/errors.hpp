#pragma once
// The library's typed errors as Python exceptions that keep their kind:
// tend.SpawnError (.kind, .subject, .errno), tend.ReadinessError (.kind,
// .output_tail) and tend.TaskError, all under tend.TendError.

#include <pybind11/pybind11.h>

namespace tend::python {

/// Adds the exception classes to `module` and translates the C++ errors.
void bind_errors(pybind11::module_& module);

}  // namespace tend::python
