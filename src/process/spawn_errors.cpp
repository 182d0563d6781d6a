#include "spawn_errors.hpp"

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

namespace tend::process {
namespace {

std::error_code errno_code(int e) { return {e, std::generic_category()}; }

}  // namespace

void fail(SpawnError::Kind kind, const std::string& subject, int err, const std::string& what) {
  std::string message = err != 0 ? fmt::format("{}: {}", what, std::strerror(err)) : what;
  throw SpawnError(kind, subject, err != 0 ? errno_code(err) : std::error_code{}, message);
}

SpawnError exec_error(int err, const std::string& program) {
  SpawnError::Kind kind = err == ENOENT                                       ? SpawnError::Kind::executable_not_found
                          : err == EACCES || err == ENOEXEC || err == EISDIR ? SpawnError::Kind::permission_denied
                                                                               : SpawnError::Kind::system;
  return SpawnError(kind, program, errno_code(err), fmt::format("cannot run {}: {}", program, std::strerror(err)));
}

std::shared_ptr<detail::ExecRecord> new_exec_record(const std::string& program, const std::string& cwd) {
  auto r = std::make_shared<detail::ExecRecord>();
  r->program = program;
  r->cwd = cwd;
  return r;
}

SpawnError error_of(const detail::ExecRecord& r) {
  std::error_code ec = errno_code(r.error);
  auto message = [&](const std::string& what) { return fmt::format("{}: {}", what, std::strerror(r.error)); };
  switch (r.step) {
    case detail::ExecRecord::at_exec:
      return exec_error(r.error, r.program);
    case detail::ExecRecord::in_cwd:
      return SpawnError(SpawnError::Kind::bad_cwd, r.cwd, ec, message("cannot use working directory " + r.cwd));
    case detail::ExecRecord::at_terminal:
      return SpawnError(SpawnError::Kind::system, r.program, ec, message("cannot open the terminal for " + r.program));
    case detail::ExecRecord::in_group:
      return SpawnError(SpawnError::Kind::system, r.program, ec, message("cannot make a process group for " + r.program));
    default:
      return SpawnError(SpawnError::Kind::system, r.program, ec, message("cannot set up stdio for " + r.program));
  }
}

std::optional<SpawnError> ExecReport::failure() const {
  if (!record_ || record_->error == 0) return std::nullopt;
  return error_of(*record_);
}

}  // namespace tend::process
