#include "tend/process/spawn.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "tend/process/orphan_reaper.hpp"

extern char** environ;

namespace tend::process {
namespace {

std::error_code errno_code(int e) { return {e, std::generic_category()}; }

[[noreturn]] void fail(SpawnError::Kind kind, const std::string& subject, int err, const std::string& what) {
  std::string message = err != 0 ? fmt::format("{}: {}", what, std::strerror(err)) : what;
  throw SpawnError(kind, subject, err != 0 ? errno_code(err) : std::error_code{}, message);
}

// RAII for the posix_spawn attribute objects.
struct SpawnAttr {
  posix_spawnattr_t attr;
  SpawnAttr() { posix_spawnattr_init(&attr); }
  ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};
struct FileActions {
  posix_spawn_file_actions_t actions;
  FileActions() { posix_spawn_file_actions_init(&actions); }
  ~FileActions() { posix_spawn_file_actions_destroy(&actions); }
};

void check(int rc, const char* call) {
  if (rc != 0) fail(SpawnError::Kind::system, call, rc, call);
}

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
std::string resolve_program(const std::string& program, int cwd_fd, const std::vector<std::string>& env) {
  if (program.empty()) fail(SpawnError::Kind::invalid_argument, program, 0, "empty program name");
  // A path is exec'd as it is (after the child's chdir): posix_spawn itself
  // reports ENOENT or EACCES from the exec, which spawn() turns into the
  // same typed errors, so checking first would only cost two system calls.
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

void check_no_nul(const std::string& s) {
  if (s.find('\0') != std::string::npos) {
    fail(SpawnError::Kind::invalid_argument, s, 0, "an argument or variable contains a NUL byte");
  }
}

// Opens a PTY pair and adds the actions that make the slave the child's
// controlling terminal and stdio. No fork needed: with POSIX_SPAWN_SETSID the
// child is a session leader when the open action runs.
UniqueFd open_terminal(const TerminalOptions& terminal, FileActions& fa) {
  UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master) fail(SpawnError::Kind::system, "/dev/ptmx", errno, "posix_openpt");
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) {
    fail(SpawnError::Kind::system, "/dev/ptmx", errno, "grantpt/unlockpt");
  }
  char name[128];
  if (::ptsname_r(master.get(), name, sizeof name) != 0) fail(SpawnError::Kind::system, "/dev/ptmx", errno, "ptsname");
  set_window_size(master.get(), terminal.rows, terminal.cols);
  check(posix_spawn_file_actions_addopen(&fa.actions, 0, name, O_RDWR, 0), "addopen");
  check(posix_spawn_file_actions_adddup2(&fa.actions, 0, 1), "adddup2");
  check(posix_spawn_file_actions_adddup2(&fa.actions, 0, 2), "adddup2");
  return master;
}

UniqueFd open_log_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail(SpawnError::Kind::system, path.string(), errno, fmt::format("cannot open log file {}", path.string()));
  return UniqueFd(fd);
}

// The signals a child gets back at their defaults. exec already resets
// handlers; what it keeps is SIG_IGN, which a host (or we: SIGPIPE, SIGXFSZ)
// may have set. Every classic signal, not all 64: glibc's child makes one
// sigaction call per signal in this set while the parent waits on the vfork,
// and real-time signals ignored by a host are rare enough not to be worth 33
// more calls on every spawn. (Python's subprocess resets only SIGPIPE,
// SIGXFZ and SIGXFSZ.)
const sigset_t& classic_signals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigemptyset(&s);
    for (int sig = 1; sig < SIGRTMIN; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) sigaddset(&s, sig);
    }
    return s;
  }();
  return set;
}

}  // namespace

int shared_dev_null() {
  static const int fd = [] {
    int f = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (f < 0) fail(SpawnError::Kind::system, "/dev/null", errno, "cannot open /dev/null");
    return f;
  }();
  return fd;
}

void set_window_size(int pty_master, unsigned short rows, unsigned short cols) {
  winsize ws{};
  ws.ws_row = rows;
  ws.ws_col = cols;
  if (::ioctl(pty_master, TIOCSWINSZ, &ws) != 0) {
    throw std::system_error(errno, std::generic_category(), "ioctl(TIOCSWINSZ)");
  }
}

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

SpawnedChild spawn(const SpawnOptions& options) {
  std::vector<std::string> argv;
  if (options.shell_command) {
    argv = {"/bin/sh", "-c", *options.shell_command};
  } else {
    argv = options.argv;
  }
  if (argv.empty()) fail(SpawnError::Kind::invalid_argument, "", 0, "no program given (empty argv)");
  for (const auto& a : argv) check_no_nul(a);
  for (const auto& [k, v] : options.set_env) {
    check_no_nul(k);
    check_no_nul(v);
    if (k.empty() || k.find('=') != std::string::npos) {
      fail(SpawnError::Kind::invalid_argument, k, 0, fmt::format("invalid environment variable name: \"{}\"", k));
    }
  }

  UniqueFd cwd_fd = open_cwd(options.cwd);
  std::vector<std::string> env = child_environment(options);
  if (options.terminal) {
    // What the child talks to is our PTY, not whatever terminal we were started
    // from: its TERM comes from the terminal options unless set explicitly.
    bool explicit_term = false;
    for (const auto& [k, v] : options.set_env) explicit_term = explicit_term || k == "TERM";
    if (!explicit_term) {
      std::erase_if(env, [](const std::string& e) { return e.rfind("TERM=", 0) == 0; });
      env.push_back("TERM=" + options.terminal->term);
    }
  }
  std::string program = resolve_program(argv[0], cwd_fd ? cwd_fd.get() : AT_FDCWD, env);

  FileActions fa;
  UniqueFd stdin_file;
  Pipe stdin_pipe, stdout_pipe, stderr_pipe;
  UniqueFd pty_master;
  UniqueFd stdout_log, stderr_log;
  if (options.terminal) {
    pty_master = open_terminal(*options.terminal, fa);
  } else {
    switch (options.stdin_mode) {
      case StdinMode::null:
        check(posix_spawn_file_actions_adddup2(&fa.actions, shared_dev_null(), 0), "adddup2");
        break;
      case StdinMode::pipe:
        stdin_pipe = make_pipe();
        check(posix_spawn_file_actions_adddup2(&fa.actions, stdin_pipe.read_end.get(), 0), "adddup2");
        break;
      case StdinMode::file: {
        int fd = ::openat(cwd_fd ? cwd_fd.get() : AT_FDCWD, options.stdin_file.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
          fail(SpawnError::Kind::stdin_unreadable, options.stdin_file.string(), errno,
               fmt::format("cannot open stdin file {}", options.stdin_file.string()));
        }
        stdin_file.reset(fd);
        check(posix_spawn_file_actions_adddup2(&fa.actions, fd, 0), "adddup2");
        break;
      }
    }
    int out_fd;
    if (options.stdout_to >= 0) {
      out_fd = options.stdout_to;
    } else if (!options.stdout_file.empty()) {
      stdout_log = open_log_file(options.stdout_file);
      out_fd = stdout_log.get();
    } else {
      stdout_pipe = make_pipe();
      out_fd = stdout_pipe.write_end.get();
    }
    check(posix_spawn_file_actions_adddup2(&fa.actions, out_fd, 1), "adddup2");
    if (options.merge_stderr) {
      check(posix_spawn_file_actions_adddup2(&fa.actions, out_fd, 2), "adddup2");
    } else if (options.stderr_to >= 0) {
      check(posix_spawn_file_actions_adddup2(&fa.actions, options.stderr_to, 2), "adddup2");
    } else if (!options.stderr_file.empty()) {
      stderr_log = open_log_file(options.stderr_file);
      check(posix_spawn_file_actions_adddup2(&fa.actions, stderr_log.get(), 2), "adddup2");
    } else {
      stderr_pipe = make_pipe();
      check(posix_spawn_file_actions_adddup2(&fa.actions, stderr_pipe.write_end.get(), 2), "adddup2");
    }
  }
  if (!options.cwd.empty()) {
    check(posix_spawn_file_actions_addchdir_np(&fa.actions, options.cwd.c_str()), "addchdir_np");
  }
  check(posix_spawn_file_actions_addclosefrom_np(&fa.actions, 3), "addclosefrom_np");

  SpawnAttr sa;
  sigset_t empty;
  sigemptyset(&empty);
  check(posix_spawnattr_setsigmask(&sa.attr, &empty), "setsigmask");
  check(posix_spawnattr_setsigdefault(&sa.attr, &classic_signals()), "setsigdefault");
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (options.terminal || options.new_session) {
    flags |= POSIX_SPAWN_SETSID;  // session leader: the first tty it opens becomes its controlling terminal
  } else {
    check(posix_spawnattr_setpgroup(&sa.attr, 0), "setpgroup");
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  check(posix_spawnattr_setflags(&sa.attr, flags), "setflags");

  std::vector<char*> argv_ptrs;
  argv_ptrs.reserve(argv.size() + 1);
  for (auto& a : argv) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  env_ptrs.reserve(env.size() + 1);
  for (auto& e : env) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);

  SpawnedChild child;
  {
    auto held = SpawnedChildren::lock();
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, program.c_str(), &fa.actions, &sa.attr, argv_ptrs.data(), env_ptrs.data());
    if (rc != 0) {
      if (rc == ENOENT) fail(SpawnError::Kind::executable_not_found, argv[0], rc, fmt::format("cannot run {}", argv[0]));
      if (rc == EACCES || rc == ENOEXEC) {
        fail(SpawnError::Kind::permission_denied, argv[0], rc, fmt::format("cannot run {}", argv[0]));
      }
      fail(SpawnError::Kind::system, argv[0], rc, fmt::format("posix_spawn {}", argv[0]));
    }
    SpawnedChildren::add(pid, held);
    child.pid = pid;
  }
  // The child is ours and unreaped, so its PID cannot have been reused yet.
  try {
    child.pidfd = std::move(Pidfd::open(child.pid).value());
  } catch (const std::exception& e) {
    // Out of descriptors, most likely: a child we cannot watch must not live.
    ::kill(-child.pid, SIGKILL);
    ::waitpid(child.pid, nullptr, 0);
    SpawnedChildren::remove(child.pid);
    fail(SpawnError::Kind::system, argv[0], 0, fmt::format("cannot watch {}: {}", argv[0], e.what()));
  }
  child.stdin_fd = std::move(stdin_pipe.write_end);
  child.stdout_fd = std::move(stdout_pipe.read_end);
  child.stderr_fd = std::move(stderr_pipe.read_end);
  child.pty_master = std::move(pty_master);
  return child;
}

}  // namespace tend::process
