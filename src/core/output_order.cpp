#include "tend/core/output_order.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace tend {
namespace {

// A record is one little-endian word: the stream in the top bit, the cursor
// where its run starts in the rest.
constexpr std::uint64_t kStderrBit = 1ull << 63;

int index_of(Stream s) { return s == Stream::stdout_stream ? 0 : 1; }

}  // namespace

OutputOrder::OutputOrder(std::filesystem::path file, std::uint64_t stdout_size, std::uint64_t stderr_size)
    : file_(std::move(file)) {
  load(stdout_size, stderr_size);
}

void OutputOrder::load(std::uint64_t stdout_size, std::uint64_t stderr_size) {
  std::vector<Start> recorded;
  if (process::UniqueFd fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC)); fd) {
    const std::uint64_t sizes[2] = {stdout_size, stderr_size};
    std::uint64_t last_from[2] = {0, 0};
    bool seen[2] = {false, false};
    unsigned char word[8];
    while (::read(fd.get(), word, sizeof word) == static_cast<ssize_t>(sizeof word)) {
      std::uint64_t v = 0;
      for (int i = 7; i >= 0; --i) v = (v << 8) | word[i];
      Start st{(v & kStderrBit) ? Stream::stderr_stream : Stream::stdout_stream, v & ~kStderrBit};
      const int i = index_of(st.stream);
      // A record that does not fit the logs (a file cut short, a log
      // removed) ends what can be trusted.
      if (st.from > sizes[i] || (seen[i] && st.from <= last_from[i]) || recorded.size() >= kMaxRuns) break;
      seen[i] = true;
      last_from[i] = st.from;
      recorded.push_back(st);
    }
  }
  // Output seen before the first switch written down: stdout's, then stderr's.
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    auto first = std::find_if(recorded.begin(), recorded.end(), [s](const Start& st) { return st.stream == s; });
    const std::uint64_t size = s == Stream::stdout_stream ? stdout_size : stderr_size;
    const std::uint64_t prefix_end = first == recorded.end() ? size : first->from;
    if (prefix_end > 0) starts_.push_back({s, 0});
  }
  starts_.insert(starts_.end(), recorded.begin(), recorded.end());
  for (std::size_t k = 0; k < starts_.size(); ++k) by_stream_[index_of(starts_[k].stream)].push_back(static_cast<std::uint32_t>(k));
  if (!starts_.empty()) last_ = starts_.back().stream;
}

void OutputOrder::observe(Stream stream, std::uint64_t at, std::uint64_t other_size) {
  if (last_ == stream) return;  // the current run goes on
  const bool first = starts_.empty() && other_size == 0;
  last_ = stream;
  std::lock_guard lock(mutex_);
  if (starts_.size() >= kMaxRuns) return;  // later output comes out grouped
  starts_.push_back({stream, at});
  by_stream_[index_of(stream)].push_back(static_cast<std::uint32_t>(starts_.size() - 1));
  // The first run needs no record: a reader finds it from the logs alone.
  if (!first) append_record(starts_.back());
}

void OutputOrder::append_record(const Start& start) {
  if (file_.empty() || write_failed_) return;
  if (!fd_) fd_.reset(::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  std::uint64_t v = start.from | (start.stream == Stream::stderr_stream ? kStderrBit : 0);
  unsigned char word[8];
  for (int i = 0; i < 8; ++i) word[i] = static_cast<unsigned char>(v >> (8 * i));
  // One write of 8 bytes to an O_APPEND file: whole or not at all in practice.
  if (!fd_ || ::write(fd_.get(), word, sizeof word) != static_cast<ssize_t>(sizeof word)) {
    write_failed_ = true;
    spdlog::warn("tend: cannot write the output order to {}: {}; later output of both streams is shown grouped",
                 file_.string(), std::strerror(errno));
  }
}

void OutputOrder::close() { fd_.reset(); }

std::size_t OutputOrder::size() const {
  std::lock_guard lock(mutex_);
  return starts_.size();
}

std::size_t OutputOrder::run_holding_locked(Stream stream, std::uint64_t at) const {
  const auto& runs = by_stream_[index_of(stream)];
  // The last run of the stream starting at or before `at`.
  auto it = std::upper_bound(runs.begin(), runs.end(), at,
                             [this](std::uint64_t cursor, std::uint32_t k) { return cursor < starts_[k].from; });
  if (it == runs.begin()) return runs.empty() ? starts_.size() : runs.front();
  return *std::prev(it);
}

std::uint64_t OutputOrder::end_of_locked(std::size_t index, std::uint64_t stdout_size, std::uint64_t stderr_size) const {
  const Stream s = starts_[index].stream;
  const auto& runs = by_stream_[index_of(s)];
  auto it = std::upper_bound(runs.begin(), runs.end(), static_cast<std::uint32_t>(index));
  if (it != runs.end()) return starts_[*it].from;
  return s == Stream::stdout_stream ? stdout_size : stderr_size;
}

std::vector<OutputOrder::Run> OutputOrder::runs_from(std::uint64_t stdout_from, std::uint64_t stderr_from,
                                                     std::uint64_t stdout_size, std::uint64_t stderr_size,
                                                     std::size_t max_runs) const {
  std::lock_guard lock(mutex_);
  std::uint64_t cursor[2] = {stdout_from, stderr_from};
  const std::uint64_t size[2] = {stdout_size, stderr_size};
  std::size_t k = starts_.size();
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    if (cursor[index_of(s)] < size[index_of(s)]) k = std::min(k, run_holding_locked(s, cursor[index_of(s)]));
  }
  std::vector<Run> runs;
  for (; k < starts_.size() && runs.size() < max_runs; ++k) {
    const int i = index_of(starts_[k].stream);
    const std::uint64_t from = std::max(starts_[k].from, cursor[i]);
    const std::uint64_t to = std::min(end_of_locked(k, stdout_size, stderr_size), size[i]);
    if (from >= to) continue;
    runs.push_back({starts_[k].stream, from, to});
    cursor[i] = to;
  }
  // Output no run accounts for (past kMaxRuns, or written without being
  // observed): grouped at the end.
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    const int i = index_of(s);
    if (k >= starts_.size() && runs.size() < max_runs && cursor[i] < size[i]) runs.push_back({s, cursor[i], size[i]});
  }
  return runs;
}

OutputOrder::Position OutputOrder::position(Stream stream, std::uint64_t at) const {
  std::lock_guard lock(mutex_);
  std::size_t k = run_holding_locked(stream, at);
  if (k >= starts_.size()) k = starts_.size() + static_cast<std::size_t>(index_of(stream));
  return {k, at};
}

}  // namespace tend
