#pragma once
// The daemon side of spawn_throughput: short tasks through one connection.

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace tend::bench {

/// Runs `count` tasks of `argv` through the daemon at `socket`, `concurrency`
/// in flight at once over one connection (task.run, task.wait, task.output,
/// task.remove each); returns how many printed `expected` and succeeded.
std::size_t daemon_spawn_loop(const std::filesystem::path& socket, const std::vector<std::string>& argv,
                              std::size_t count, std::size_t concurrency, const std::string& expected);

}  // namespace tend::bench
