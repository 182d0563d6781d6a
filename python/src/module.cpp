// tend._tend: the library's engine for Python. The package `tend` (tend/*.py)
// builds the asyncio API on it; see docs/python.md.

#include <pybind11/pybind11.h>

#include "errors.hpp"
#include "supervisor_binding.hpp"

PYBIND11_MODULE(_tend, m) {
  m.doc() = "tend's engine: the Supervisor, its tasks, and completions for asyncio.";
  m.attr("__version__") = TEND_VERSION;
  tend::python::bind_errors(m);
  tend::python::bind_supervisor(m);
}
