#pragma once
// What the kernel says a process has cost: CPU time, resident memory and
// wake-ups (context switches), read from /proc.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace tend::bench {

/// User plus system CPU time of the whole process (every thread), in seconds.
double cpu_seconds(pid_t pid);
/// VmRSS in bytes.
std::uint64_t rss_bytes(pid_t pid);
/// Voluntary plus involuntary context switches over all its threads: each is
/// a time the process went to sleep or was put off the CPU, so it counts wake-ups.
std::uint64_t context_switches(pid_t pid);
/// How many file descriptors it has open.
std::size_t open_descriptors(pid_t pid);

}  // namespace tend::bench
