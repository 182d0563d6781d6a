#pragma once
// A tend daemon of the benchmark's own: `tend daemon run` with its socket and
// state in a fresh temporary directory, so nothing of the user's is touched
// and nothing of theirs is measured. Stopped (daemon.shutdown) on destruction.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>

namespace tend::bench {

class DaemonUnderTest {
 public:
  /// Starts the daemon and waits until it answers. Throws std::runtime_error.
  DaemonUnderTest();
  ~DaemonUnderTest();
  DaemonUnderTest(const DaemonUnderTest&) = delete;
  DaemonUnderTest& operator=(const DaemonUnderTest&) = delete;

  pid_t pid() const { return pid_; }
  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& state_dir() const { return state_dir_; }
  /// Asks the daemon to shut down (it stops every task first) and waits for
  /// it to exit; returns the seconds that took, or nullopt when it had not
  /// exited within `limit` (it is then SIGKILLed, and its tasks with it).
  std::optional<double> stop(std::chrono::seconds limit = std::chrono::seconds(60));
  /// TEND_SOCKET=... and TEND_STATE_DIR=... for the CLI to find this daemon.
  void export_environment() const;

 private:
  std::filesystem::path dir_, socket_, state_dir_;
  pid_t pid_ = -1;
  bool stopped_ = false;
};

}  // namespace tend::bench
