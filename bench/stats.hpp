#pragma once
// Small measuring tools shared by the benchmarks: a stopwatch, percentiles,
// the command-line flags every benchmark takes.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace tend::bench {

using clock_type = std::chrono::steady_clock;

inline double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

/// The p-th percentile (0..100) by nearest rank; 0 for no samples.
inline double percentile(std::vector<double> samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples.size()) + 0.5);
  return samples[std::min(samples.size() - 1, rank == 0 ? 0 : rank - 1)];
}

/// `--small` asks for the smoke run (tiny N, a few seconds at most).
inline bool small_run(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--small")) return true;
  return false;
}

/// The value after `--name`, or `fallback`.
inline std::string flag(int argc, char** argv, const char* name, std::string fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], name)) return argv[i + 1];
  return fallback;
}

inline const char* verdict(bool met) { return met ? "met" : "**missed**"; }

}  // namespace tend::bench
