#pragma once
// The baseline tend is measured against: a plain posix_spawn + pipe loop
// with no engine at all, keeping `concurrency` children in flight, reading
// each one's stdout to EOF and reaping it. Competent, not naive: no shell,
// O_CLOEXEC pipes, poll(2) over every live pipe.

#include <cstddef>
#include <string>
#include <vector>

namespace tend::bench {

/// Runs `count` copies of argv; returns how many printed `expected`.
std::size_t raw_spawn_loop(const std::vector<std::string>& argv, std::size_t count, std::size_t concurrency,
                           const std::string& expected);

}  // namespace tend::bench
