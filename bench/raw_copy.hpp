#pragma once
// The floor for capturing output: the task's stdout on a pipe, copied into
// a file with read(2)/write(2) by one poll(2) loop. No engine, no ring buffer.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tend::bench {

/// Starts `count` copies of `argv` at once and copies each one's stdout into
/// `dir`/<i>.out until all have exited; returns the bytes copied.
std::uint64_t raw_pipe_to_files(const std::vector<std::string>& argv, std::size_t count,
                                const std::filesystem::path& dir);

}  // namespace tend::bench
