#include "errors.hpp"

#include <string_view>

#include "tend/core/supervisor.hpp"
#include "tend/process/spawn.hpp"

namespace tend::python {
namespace py = pybind11;
namespace {

// Owned by the module for the life of the interpreter (never freed, as
// pybind11's own exception types are not).
PyObject* g_tend_error = nullptr;
PyObject* g_spawn_error = nullptr;
PyObject* g_readiness_error = nullptr;
PyObject* g_task_error = nullptr;

std::string_view kind_name(process::SpawnError::Kind kind) {
  using Kind = process::SpawnError::Kind;
  switch (kind) {
    case Kind::executable_not_found: return "executable_not_found";
    case Kind::permission_denied: return "permission_denied";
    case Kind::bad_cwd: return "bad_cwd";
    case Kind::stdin_unreadable: return "stdin_unreadable";
    case Kind::invalid_argument: return "invalid_argument";
    case Kind::system: return "system";
  }
  return "system";
}

std::string_view kind_name(ReadinessError::Kind kind) {
  switch (kind) {
    case ReadinessError::Kind::exited: return "exited";
    case ReadinessError::Kind::timed_out: return "timed_out";
    case ReadinessError::Kind::not_a_process: return "not_a_process";
  }
  return "exited";
}

// Text from the system (a path, a task's output) need not be UTF-8.
py::object text(const std::string& bytes, const char* errors) {
  PyObject* decoded = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()), errors);
  if (!decoded) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(decoded);
}

PyObject* new_class(py::module_& module, const char* name, PyObject* base, const char* doc) {
  std::string qualified = std::string("tend.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, base, nullptr);
  if (!cls) throw py::error_already_set();
  module.add_object(name, py::handle(cls));  // the module takes a reference of its own
  return cls;
}

// Raises an instance of `cls` with `message` and the given attributes set.
void raise_with(PyObject* cls, const char* message, std::initializer_list<std::pair<const char*, py::object>> attributes) {
  py::object error = py::reinterpret_borrow<py::object>(cls)(text(message, "replace"));
  for (const auto& [name, value] : attributes) error.attr(name) = value;
  PyErr_SetObject(cls, error.ptr());
}

}  // namespace

void bind_errors(py::module_& module) {
  g_tend_error = new_class(module, "TendError", PyExc_Exception, "Base of the errors tend raises.");
  g_spawn_error = new_class(module, "SpawnError", g_tend_error,
                            "A task could not be started. .kind says why (executable_not_found, "
                            "permission_denied, bad_cwd, stdin_unreadable, invalid_argument, system), "
                            ".subject names the offending program, directory or file, .errno is the "
                            "system's error number (or None).");
  g_readiness_error = new_class(module, "ReadinessError", g_tend_error,
                                "A task did not become ready. .kind is exited, timed_out or "
                                "not_a_process; .output_tail holds the last lines it wrote.");
  g_task_error = new_class(module, "TaskError", g_tend_error,
                           "A request a task or Supervisor cannot honour (input to a task without "
                           "stdin, a closed Supervisor, ...).");

  py::register_exception_translator([](std::exception_ptr error) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const process::SpawnError& e) {
      py::object code = e.code() ? py::object(py::int_(e.code().value())) : py::object(py::none());
      raise_with(g_spawn_error, e.what(),
            {{"kind", py::str(std::string(kind_name(e.kind())))}, {"subject", text(e.subject(), "surrogateescape")}, {"errno", code}});
    } catch (const ReadinessError& e) {
      raise_with(g_readiness_error, e.what(),
            {{"kind", py::str(std::string(kind_name(e.kind())))}, {"output_tail", text(e.output_tail(), "replace")}});
    } catch (const TaskError& e) {
      raise_with(g_task_error, e.what(), {});
    }
  });
}

}  // namespace tend::python
