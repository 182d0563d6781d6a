#pragma once
// tendd: one Supervisor, its state in SQLite, its socket. Runs until asked to
// stop (daemon.shutdown, SIGTERM, SIGINT), then stops every task it owns.

#include <filesystem>

namespace tend::rpc {

/// Where the daemon listens and keeps its state (see paths.hpp for the defaults).
struct DaemonOptions {
  /// The socket to listen on, and the state directory (made 0700): tend.db and logs/.
  std::filesystem::path socket;
  std::filesystem::path state_dir;
};

/// Runs the daemon in this process until it is asked to stop. Returns the
/// process exit code; throws std::runtime_error when it cannot start.
int run_daemon(const DaemonOptions& options);

}  // namespace tend::rpc
