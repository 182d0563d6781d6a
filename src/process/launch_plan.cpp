#include "launch_plan.hpp"

#include "spawn_errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <utility>

#include <fmt/format.h>

extern char** environ;

namespace tend::process {

namespace {

std::vector<char*> pointers_into(const std::vector<std::string>& strings) {
  std::vector<char*> ptrs;
  ptrs.reserve(strings.size() + 1);
  // (execve and posix_spawn take char* const[] and write nothing through it.)
  for (const auto& s : strings) ptrs.push_back(const_cast<char*>(s.c_str()));
  ptrs.push_back(nullptr);
  return ptrs;
}

// --- Step 1: the argv and the variables ------------------------------------

void check_no_nul(const std::string& s) {
  if (s.find('\0') != std::string::npos) {
    fail(SpawnError::Kind::invalid_argument, s, 0, "an argument or variable contains a NUL byte");
  }
}

std::vector<std::string> checked_argv(const SpawnOptions& options) {
  std::vector<std::string> argv =
      options.shell_command ? std::vector<std::string>{"/bin/sh", "-c", *options.shell_command} : options.argv;
  if (argv.empty()) fail(SpawnError::Kind::invalid_argument, "", 0, "no program given (empty argv)");
  for (const auto& a : argv) check_no_nul(a);
  for (const auto& [k, v] : options.set_env) {
    check_no_nul(k);
    check_no_nul(v);
    if (k.empty() || k.find('=') != std::string::npos) {
      fail(SpawnError::Kind::invalid_argument, k, 0, fmt::format("invalid environment variable name: \"{}\"", k));
    }
  }
  return argv;
}

// --- Step 2: the working directory -----------------------------------------

// Opens the child's working directory, so it can be checked and programs
// looked up relative to it.
UniqueFd open_cwd(const std::filesystem::path& cwd) {
  if (cwd.empty()) return {};  // ours: AT_FDCWD, nothing to open
  int fd = ::open(cwd.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string what = e == ENOTDIR ? fmt::format("working directory is not a directory: {}", cwd.string())
                                    : fmt::format("cannot use working directory {}", cwd.string());
    fail(SpawnError::Kind::bad_cwd, cwd.string(), e == ENOTDIR ? 0 : e, what);
  }
  return UniqueFd(fd);
}

// --- Step 3: the environment -----------------------------------------------

std::vector<std::string> environment_with_term(const SpawnOptions& options) {
  std::vector<std::string> env = child_environment(options);
  if (!options.terminal) return env;
  // What the child talks to is our PTY, not whatever terminal we were started
  // from: its TERM comes from the terminal options unless set explicitly.
  for (const auto& [k, v] : options.set_env) {
    if (k == "TERM") return env;
  }
  std::erase_if(env, [](const std::string& e) { return e.rfind("TERM=", 0) == 0; });
  env.push_back("TERM=" + options.terminal->term);
  return env;
}

// --- Step 4: the program ---------------------------------------------------

bool is_executable_file(int dirfd, const std::string& path) {
  struct stat st {};
  if (::fstatat(dirfd, path.c_str(), &st, 0) != 0 || !S_ISREG(st.st_mode)) return false;
  return ::faccessat(dirfd, path.c_str(), X_OK, AT_EACCESS) == 0;
}

std::string_view env_value(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& entry : env) {
    if (entry.size() > name.size() && entry[name.size()] == '=' && entry.compare(0, name.size(), name) == 0) {
      return std::string_view(entry).substr(name.size() + 1);
    }
  }
  return {};
}

// Resolves argv[0] the way execvp would, but in the child's PATH and cwd, so a
// missing program is an error here rather than an exit code later.
std::string find_program(const std::string& program, int cwd_fd, const std::vector<std::string>& env) {
  if (program.empty()) fail(SpawnError::Kind::invalid_argument, program, 0, "empty program name");
  // A path is exec'd as it is (after the child's chdir): the exec itself
  // reports ENOENT or EACCES, which spawn() turns into the same typed
  // errors, so checking first would only cost two system calls.
  if (program.find('/') != std::string::npos) return program;
  std::string_view path = env_value(env, "PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  bool found_unexecutable = false;
  while (true) {
    auto colon = path.find(':');
    std::string_view dir = path.substr(0, colon);
    std::string candidate = dir.empty() ? program : fmt::format("{}/{}", dir, program);
    if (is_executable_file(cwd_fd, candidate)) return candidate;
    if (::faccessat(cwd_fd, candidate.c_str(), F_OK, 0) == 0) found_unexecutable = true;
    if (colon == std::string_view::npos) break;
    path.remove_prefix(colon + 1);
  }
  if (found_unexecutable) {
    fail(SpawnError::Kind::permission_denied, program, EACCES, fmt::format("cannot run {}", program));
  }
  fail(SpawnError::Kind::executable_not_found, program, 0,
       fmt::format("no such program: {} (not found in PATH={})", program, env_value(env, "PATH")));
}

// A program given by path is checked only when nobody waits for the exec to
// say what is wrong with it: then it is said now.
void check_program_path(const std::string& program, int cwd_fd, const std::string& given) {
  if (program.find('/') == std::string::npos || is_executable_file(cwd_fd, program)) return;
  throw exec_error(::faccessat(cwd_fd, program.c_str(), F_OK, 0) == 0 ? EACCES : ENOENT, given);
}

// --- Step 5: stdio ---------------------------------------------------------

// Opens a PTY pair; the child opens the slave (its path is returned) as a
// session leader, which makes it its controlling terminal. No fork needed.
std::string open_terminal(const TerminalOptions& terminal, LaunchEnds& ends) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) fail(SpawnError::Kind::system, "/dev/ptmx", errno, "posix_openpt");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
    fail(SpawnError::Kind::system, "/dev/ptmx", errno, "grantpt/unlockpt");
  }
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) fail(SpawnError::Kind::system, "/dev/ptmx", errno, "ptsname");
  set_window_size(master.get(), terminal.rows, terminal.cols);
  ends.pty_master = std::move(master);
  return name;
}

// Keeps `fd` open (for the child only) until the child exists; returns it.
int for_child(LaunchEnds& ends, UniqueFd fd) {
  ends.child_only.push_back(std::move(fd));
  return ends.child_only.back().get();
}

int open_log_file(const std::filesystem::path& path, LaunchEnds& ends) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail(SpawnError::Kind::system, path.string(), errno, fmt::format("cannot open log file {}", path.string()));
  return for_child(ends, UniqueFd(fd));
}

int route_stdin(const SpawnOptions& options, int cwd_fd, LaunchEnds& ends) {
  switch (options.stdin_mode) {
    case StdinMode::pipe: {
      Pipe p = make_pipe();
      ends.stdin_write = std::move(p.write_end);
      return for_child(ends, std::move(p.read_end));
    }
    case StdinMode::file: {
      int fd = ::openat(cwd_fd, options.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        fail(SpawnError::Kind::stdin_unreadable, options.stdin_file.string(), errno,
             fmt::format("cannot open stdin file {}", options.stdin_file.string()));
      }
      return for_child(ends, UniqueFd(fd));
    }
    case StdinMode::null:
      break;
  }
  return shared_dev_null();
}

// stdout or stderr: a descriptor of the caller's, a file by path, or a pipe.
int route_output(int to, const std::filesystem::path& file, UniqueFd& read_end, LaunchEnds& ends) {
  if (to >= 0) return to;
  if (!file.empty()) return open_log_file(file, ends);
  Pipe p = make_pipe();
  read_end = std::move(p.read_end);
  return for_child(ends, std::move(p.write_end));
}

// A source among 0-2 would be overwritten by an earlier dup2 onto it (say
// our fd 0 is to be the child's stdout): the child gets a copy above 2.
void move_above_stdio(int (&stdio)[3], const std::string& program, LaunchEnds& ends) {
  for (int i = 0; i < 3; ++i) {
    if (stdio[i] >= 0 && stdio[i] < 3 && stdio[i] != i) {
      UniqueFd copy(::fcntl(stdio[i], F_DUPFD_CLOEXEC, 3));
      if (!copy) fail(SpawnError::Kind::system, program, errno, "cannot set up stdio");
      stdio[i] = for_child(ends, std::move(copy));
    }
  }
}

// Fills in `stdio` (none for a terminal: the child opens the slave) and
// returns the terminal's slave path, if any.
std::string route_stdio(const SpawnOptions& options, int cwd_fd, const std::string& program, int (&stdio)[3],
                        LaunchEnds& ends) {
  if (options.terminal) return open_terminal(*options.terminal, ends);
  stdio[0] = route_stdin(options, cwd_fd, ends);
  stdio[1] = route_output(options.stdout_to, options.stdout_file, ends.stdout_read, ends);
  stdio[2] = options.merge_stderr ? stdio[1]
                                  : route_output(options.stderr_to, options.stderr_file, ends.stderr_read, ends);
  move_above_stdio(stdio, program, ends);
  return {};
}

}  // namespace

LaunchPlan::LaunchPlan(std::string program_, std::vector<std::string> argv_, std::vector<std::string> env_,
                       std::string cwd_, std::string terminal_, const int (&stdio_)[3], bool new_session_)
    : program(std::move(program_)),
      argv(std::move(argv_)),
      env(std::move(env_)),
      cwd(std::move(cwd_)),
      terminal(std::move(terminal_)),
      stdio{stdio_[0], stdio_[1], stdio_[2]},
      new_session(new_session_),
      argv_ptrs_(pointers_into(argv)),
      env_ptrs_(pointers_into(env)) {}

std::vector<std::string> child_environment(const SpawnOptions& options) {
  std::vector<std::string> env;
  auto is_removed = [&](std::string_view entry) {
    auto eq = entry.find('=');
    std::string_view name = entry.substr(0, eq);
    for (const auto& u : options.unset_env) if (u == name) return true;
    for (const auto& [k, v] : options.set_env) if (k == name) return true;
    return false;
  };
  if (options.inherit_env) {
    for (char** e = environ; e && *e; ++e) {
      if (!is_removed(*e)) env.emplace_back(*e);
    }
  }
  for (const auto& [k, v] : options.set_env) {
    bool unset = false;
    for (const auto& u : options.unset_env) unset = unset || u == k;
    if (!unset) env.push_back(k + "=" + v);
  }
  return env;
}

PreparedLaunch prepare_launch(const SpawnOptions& options) {
  std::vector<std::string> argv = checked_argv(options);
  UniqueFd cwd_fd = open_cwd(options.cwd);
  const int at = cwd_fd ? cwd_fd.get() : AT_FDCWD;
  std::vector<std::string> env = environment_with_term(options);
  std::string program = find_program(argv[0], at, env);
  if (!options.wait_for_exec) check_program_path(program, at, argv[0]);

  PreparedLaunch launch;
  int stdio[3] = {-1, -1, -1};
  std::string terminal = route_stdio(options, at, argv[0], stdio, launch.ends);
  launch.plan = std::make_shared<const LaunchPlan>(std::move(program), std::move(argv), std::move(env),
                                                   options.cwd.string(), std::move(terminal), stdio,
                                                   options.terminal || options.new_session);
  return launch;
}

}  // namespace tend::process
