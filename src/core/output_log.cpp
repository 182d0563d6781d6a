#include "tend/core/output_log.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace tend {

OutputLog::OutputLog() : OutputLog(Options{}) {}

OutputLog::OutputLog(Options options) : options_(std::move(options)) {
  options_.ring_capacity = std::max<std::size_t>(options_.ring_capacity, 1);
  options_.tail = std::min(options_.tail, options_.limit);
  if (!options_.file.empty()) {
    // No descriptor is kept: a task that writes its log file itself never
    // needs ours, and a daemon with thousands of tasks would run out of them
    // (see open_for_append and read). Here the file is only created.
    process::UniqueFd fd(::open(options_.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd) throw std::system_error(errno, std::generic_category(), "open " + options_.file.string());
    // Appending to an existing file continues its cursor space.
    off_t end = ::lseek(fd.get(), 0, SEEK_END);
    if (end > 0) total_ = static_cast<std::uint64_t>(end);
  }
}

int OutputLog::open_for_append() {
  // Only the one writer gets here, so the descriptor needs no lock.
  if (!write_fd_) write_fd_.reset(::open(options_.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  return write_fd_.get();
}

void OutputLog::note_appended(std::string_view bytes) { keep_in_ring(bytes); }

void OutputLog::note_appended_after(std::uint64_t skipped, std::string_view bytes) {
  if (skipped == 0) return keep_in_ring(bytes);
  std::lock_guard lock(mutex_);
  // The ring's bytes would no longer sit just before the cursor: start it afresh.
  ring_.clear();
  ring_head_ = 0;
  total_ += skipped;
  const std::size_t cap = options_.ring_capacity;
  std::string_view keep = bytes.size() > cap ? bytes.substr(bytes.size() - cap) : bytes;
  ring_.assign(keep.begin(), keep.end());
  ring_head_ = ring_.size() % cap;
  total_ += bytes.size();
}

void OutputLog::append(std::string_view bytes) {
  if (bytes.empty()) return;
  // The file first: it is the durable copy, and written outside the lock so
  // readers are never held up by the disk.
  int write_error = 0;
  if (!options_.file.empty() && open_for_append() < 0) write_error = errno;
  if (write_fd_) {
    std::string_view rest = bytes;
    while (!rest.empty()) {
      ssize_t n = ::write(write_fd_.get(), rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        write_error = errno;
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  keep_in_ring(bytes);
  if (write_fd_ && options_.limit != 0) release_dropped(write_fd_.get());
  if (write_error != 0) {
    throw std::system_error(write_error, std::generic_category(), "write " + options_.file.string());
  }
}

void OutputLog::keep_in_ring(std::string_view bytes) {
  std::lock_guard lock(mutex_);
  // The ring grows as output comes (an idle task costs nothing) and wraps
  // once it holds `ring_capacity` bytes.
  const std::size_t cap = options_.ring_capacity;
  std::string_view keep = bytes.size() > cap ? bytes.substr(bytes.size() - cap) : bytes;
  if (ring_.size() < cap) {
    std::size_t grow = std::min(keep.size(), cap - ring_.size());
    ring_.insert(ring_.end(), keep.data(), keep.data() + grow);
    keep.remove_prefix(grow);
    ring_head_ = ring_.size() % cap;
  }
  if (!keep.empty()) {
    std::size_t first = std::min(keep.size(), cap - ring_head_);
    std::copy_n(keep.data(), first, ring_.data() + ring_head_);
    std::copy_n(keep.data() + first, keep.size() - first, ring_.data());
    ring_head_ = (ring_head_ + keep.size()) % cap;
  }
  total_ += bytes.size();
}

void OutputLog::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
}

std::uint64_t OutputLog::size() const {
  std::lock_guard lock(mutex_);
  return total_;
}

DroppedRange OutputLog::dropped_locked() const {
  if (options_.limit == 0 || total_ <= options_.limit) return {};
  return {options_.limit - options_.tail, total_ - options_.tail};
}

DroppedRange OutputLog::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_locked();
}

std::uint64_t OutputLog::first_readable() const {
  std::lock_guard lock(mutex_);
  return options_.file.empty() ? oldest_in_ring_locked() : 0;
}

bool OutputLog::release_dropped(int fd, std::uint64_t batch) {
  if (cannot_punch_) return false;
  const DroppedRange d = dropped();
  const std::uint64_t from = std::max(released_to_, d.from);
  if (d.empty() || d.to <= from || d.to - from < std::max<std::uint64_t>(batch, 1)) return true;
  // KEEP_SIZE: the file's length, and so every offset (cursor) after the
  // hole, stay as they are; a writer appending meanwhile is not disturbed.
  if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from),
                  static_cast<off_t>(d.to - from)) == 0) {
    released_to_ = d.to;
    return true;
  }
  if (errno == EOPNOTSUPP || errno == ENOSYS) cannot_punch_ = true;
  return false;
}

bool OutputLog::closed() const {
  std::lock_guard lock(mutex_);
  return closed_;
}

void OutputLog::copy_out_locked(std::uint64_t from, std::size_t n, std::string& out) const {
  // While growing, the ring is linear and its head is its end (== 0 mod size).
  const std::size_t cap = ring_.size();
  if (n == 0 || cap == 0) return;
  std::size_t back = static_cast<std::size_t>(total_ - from);  // bytes from `from` to the end
  std::size_t start = (ring_head_ % cap + cap - back) % cap;
  std::size_t first = std::min(n, cap - start);
  out.append(ring_.data() + start, first);
  out.append(ring_.data(), n - first);
}

OutputRead OutputLog::read(std::uint64_t cursor, std::size_t max_bytes) const {
  OutputRead result;
  std::unique_lock lock(mutex_);
  if (cursor > total_) cursor = total_;
  // Within the dropped range: say so and go on after it; before it: stop at it.
  const DroppedRange d = dropped_locked();
  if (!d.empty() && cursor >= d.from && cursor < d.to) {
    result.skipped = d.to - cursor;
    cursor = d.to;
  }
  const std::uint64_t end = !d.empty() && cursor < d.from ? d.from : total_;
  const std::uint64_t oldest = oldest_in_ring_locked();
  // Older than the ring: the file has it. Opened per read, as such reads are
  // rare and a descriptor per stream kept open adds up over thousands of tasks.
  process::UniqueFd file;
  if (cursor < oldest && !options_.file.empty()) {
    lock.unlock();
    file.reset(::open(options_.file.c_str(), O_RDONLY | O_CLOEXEC));
    lock.lock();
  }
  if (cursor < oldest && file) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, end - cursor));
    lock.unlock();
    result.data.resize(want);
    std::size_t got = 0;
    while (got < want) {
      ssize_t n = ::pread(file.get(), result.data.data() + got, want - got, static_cast<off_t>(cursor + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
    }
    result.data.resize(got);
    result.next_cursor = cursor + got;
    lock.lock();
    result.eof = closed_ && result.next_cursor == total_;
    return result;
  }
  if (cursor < oldest) {
    result.skipped += oldest - cursor;
    cursor = oldest;
  }
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, std::max(end, cursor) - cursor));
  result.data.reserve(n);
  copy_out_locked(cursor, n, result.data);
  result.next_cursor = cursor + n;
  result.eof = closed_ && result.next_cursor == total_;
  return result;
}

OutputLines OutputLog::read_lines(std::uint64_t cursor, std::size_t max_lines, const Pattern* filter) const {
  OutputLines result{{}, cursor};
  std::size_t looked_at = 0;
  while (looked_at < max_lines) {
    OutputRead chunk = read(result.next_cursor, 1 << 20);
    result.skipped += chunk.skipped;
    std::uint64_t base = result.next_cursor + chunk.skipped;
    std::string_view data = chunk.data;
    std::size_t pos = 0;
    while (looked_at < max_lines) {
      auto nl = data.find('\n', pos);
      if (nl == std::string_view::npos) break;
      std::string_view line = data.substr(pos, nl - pos);
      if (!filter || filter->search(line)) result.lines.emplace_back(line);
      ++looked_at;
      pos = nl + 1;
    }
    result.next_cursor = base + pos;
    if (pos == 0 && chunk.data.size() == (1u << 20)) {
      // A line longer than a whole chunk: hand it out in pieces rather than stall.
      std::string_view line = data;
      if (!filter || filter->search(line)) result.lines.emplace_back(line);
      ++looked_at;
      result.next_cursor = base + data.size();
      continue;
    }
    if (chunk.eof) {
      if (pos < data.size() && looked_at < max_lines) {
        std::string_view line = data.substr(pos);
        if (!filter || filter->search(line)) result.lines.emplace_back(line);
        result.next_cursor = base + data.size();
      }
      result.eof = result.next_cursor == base + data.size();
      break;
    }
    if (chunk.data.size() < (1u << 20)) break;  // all that is written so far was looked at
  }
  return result;
}

std::string OutputLog::tail(std::size_t max_bytes) const {
  std::uint64_t end = size();
  std::uint64_t from = end > max_bytes ? end - max_bytes : 0;
  OutputRead r = read(from, max_bytes);
  return std::move(r.data);
}

std::uint64_t OutputLog::start_of_last_lines(std::size_t n) const {
  const std::uint64_t end = size();
  if (n == 0) return end;
  // Not past a gap: before the dropped range (or what the ring lost) lies
  // output that does not continue into the lines after it.
  const DroppedRange d = dropped();
  const std::uint64_t lower = std::max(first_readable(), d.empty() ? 0 : d.to);
  std::uint64_t pos = end;
  std::size_t found = 0;
  bool last_byte = true;  // a newline that ends the output ends the last line, it does not start one
  std::size_t window = 4096;
  while (pos > lower) {
    const std::uint64_t from = pos - std::min<std::uint64_t>(window, pos - lower);
    OutputRead r = read(from, static_cast<std::size_t>(pos - from));
    if (r.data.size() != pos - from) return pos;  // cannot be read back: start where we are
    for (std::size_t i = r.data.size(); i-- > 0;) {
      if (r.data[i] != '\n') {
        last_byte = false;
        continue;
      }
      if (last_byte) {
        last_byte = false;
        continue;
      }
      if (++found == n) return from + i + 1;
    }
    pos = from;
    window = std::min<std::size_t>(window * 4, 1 << 20);
  }
  return lower;
}

std::vector<std::string> OutputLog::tail_lines(std::size_t n) const {
  if (n == 0) return {};
  // Bounded: a last "line" of a gigabyte is handed out as its last 64 MiB.
  constexpr std::uint64_t kMaxBytes = 64u << 20;
  const std::uint64_t end = size();
  std::uint64_t from = start_of_last_lines(n);
  if (end - from > kMaxBytes) from = end - kMaxBytes;
  std::string text;
  for (std::uint64_t cursor = from; cursor < end;) {
    OutputRead r = read(cursor, static_cast<std::size_t>(end - cursor));
    if (r.data.empty()) break;
    text += r.data;
    cursor = r.next_cursor;
  }
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    lines.emplace_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

}  // namespace tend
