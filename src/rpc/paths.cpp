#include "tend/rpc/paths.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace tend::rpc {
namespace {

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

std::filesystem::path socket_path() {
  if (const char* s = env("TEND_SOCKET")) return s;
  if (const char* run = env("XDG_RUNTIME_DIR")) return std::filesystem::path(run) / "tend" / "tend.sock";
  return std::filesystem::path(fmt::format("/tmp/tend-{}", ::getuid())) / "tend.sock";
}

std::filesystem::path state_dir() {
  if (const char* s = env("TEND_STATE_DIR")) return s;
  if (const char* s = env("XDG_STATE_HOME")) return std::filesystem::path(s) / "tend";
  if (const char* home = env("HOME")) return std::filesystem::path(home) / ".local" / "state" / "tend";
  return std::filesystem::path(fmt::format("/tmp/tend-{}", ::getuid())) / "state";
}

void ensure_private_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    throw std::runtime_error(fmt::format("tend: cannot create directory {}: {}", dir.string(), std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) throw std::runtime_error(fmt::format("tend: {} is not a directory", dir.string()));
  if (st.st_uid != ::geteuid()) {
    throw std::runtime_error(fmt::format("tend: {} belongs to another user (uid {})", dir.string(), st.st_uid));
  }
  if ((st.st_mode & 0777) != 0700 && ::chmod(dir.c_str(), 0700) != 0) {
    throw std::runtime_error(fmt::format("tend: cannot make {} private: {}", dir.string(), std::strerror(errno)));
  }
}

}  // namespace tend::rpc
