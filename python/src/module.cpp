// tend._tend: the library's engine for Python. The package `tend` (tend/*.py)
// builds the asyncio API on it; see docs/python.md.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "errors.hpp"
#include "events_binding.hpp"
#include "supervisor_binding.hpp"
#include "tend/core/command_policy.hpp"

namespace {

namespace py = pybind11;
using Command = std::variant<std::string, std::vector<std::string>>;

// A command as the policy sees it: the line a person would type.
std::string command_line(const Command& command) {
  if (const auto* line = std::get_if<std::string>(&command)) return *line;
  return tend::TaskSpec::exec(std::get<std::vector<std::string>>(command)).command_line();
}

std::optional<double> in_seconds(const std::optional<tend::Duration>& d) {
  if (!d) return std::nullopt;
  return std::chrono::duration<double>(*d).count();
}

void bind_policy(py::module_& m) {
  static const tend::CommandPolicy policy = tend::CommandPolicy::standard();
  m.def("command_class", [](const Command& c) { return std::string(to_string(policy.classify(command_line(c)))); },
        py::arg("command"), "quick, build or long_running, by the seed's table of known commands.");
  m.def("expected_timeout", [](const Command& c) { return in_seconds(policy.defaults_for(command_line(c)).wall); },
        py::arg("command"), "The wall-clock limit the policy gives `command`, in seconds; None for none.");
  m.def("expected_idle_timeout",
        [](const Command& c) { return in_seconds(policy.defaults_for(command_line(c)).idle); }, py::arg("command"),
        "The longest silence the policy allows `command`, in seconds; None for none.");
}

}  // namespace

PYBIND11_MODULE(_tend, m) {
  m.doc() = "tend's engine: the Supervisor, its tasks, and completions for asyncio.";
  m.attr("__version__") = TEND_VERSION;
  tend::python::bind_errors(m);
  tend::python::bind_supervisor(m);
  tend::python::bind_events(m);
  bind_policy(m);
}
