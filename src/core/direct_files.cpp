// Output a task writes straight to its log files: followed with inotify,
// read back by cursor, capped (holes punched where the cap drops bytes), and
// the file system watched for a full disk the task alone would notice.

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstring>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "task_control.hpp"

namespace tend {

void Engine::follow_files(const RuntimePtr& rt) {
  if (!inotify_) {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "inotify_init1");
    inotify_.emplace(executor_, fd);
    inotify_pause_.emplace(executor_);
    watch_inotify();
  }
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    const auto& path = rt->task->output(s).file();
    int i = s == Stream::stdout_stream ? 0 : 1;
    // Read-write and appending: a task's stdout can be this very descriptor
    // (start_attempt), and we read with pread, at our own offsets.
    rt->tail_fds[i].reset(::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!rt->tail_fds[i]) continue;
    rt->watch_ids[i] = ::inotify_add_watch(inotify_->native_handle(), path.c_str(), IN_MODIFY);
    if (rt->watch_ids[i] >= 0) followed_[rt->watch_ids[i]] = rt;
  }
}

void Engine::watch_inotify() {
  inotify_->async_wait(asio::posix::descriptor_base::wait_read, [self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    std::unordered_set<ProcessRuntime*> seen;
    std::size_t read_back = 0;
    while (true) {
      ssize_t n = ::read(self->inotify_->native_handle(), self->inotify_buffer_.data(), self->inotify_buffer_.size());
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(self->inotify_buffer_.data() + off);
        off += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
        auto it = self->followed_.find(event->wd);
        if (it == self->followed_.end()) continue;
        auto rt = it->second.lock();
        if (rt && seen.insert(rt.get()).second) read_back += self->catch_up(rt, true);
      }
    }
    // A task writing fast wakes us on every write; a short pause lets its
    // changes pile up into one event and one bigger read. Chatty but slow
    // tasks keep their immediate echo.
    constexpr std::size_t heavy = 1 << 20;
    if (read_back < heavy) return self->watch_inotify();
    self->inotify_pause_->expires_after(std::chrono::milliseconds(2));
    self->inotify_pause_->async_wait([self](boost::system::error_code ec) {
      if (!ec && !self->closed_) self->watch_inotify();
    });
  });
}

std::size_t Engine::catch_up(const RuntimePtr& rt, bool bounded) {
  bool more = false;
  std::size_t total = 0;
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    int fd = rt->tail_fds[s == Stream::stdout_stream ? 0 : 1].get();
    if (fd < 0) continue;
    total += skip_ahead(rt, s, fd);
    for (int round = 0;; ++round) {
      if (bounded && round == 16) {
        more = true;  // a task that writes faster than we read must not starve the loop
        break;
      }
      auto offset = static_cast<off_t>(rt->task->output(s).size());
      ssize_t n = ::pread(fd, read_buffer_.data(), read_buffer_.size(), offset);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
      on_output(rt, s, std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)), true);
      // A regular file reads short only at its end: no need to ask again.
      if (static_cast<std::size_t>(n) < read_buffer_.size()) break;
    }
  }
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    int fd = rt->tail_fds[s == Stream::stdout_stream ? 0 : 1].get();
    OutputLog& log = rt->task->output(s);
    // Past its cap: give the disk back, a megabyte at a time (all at the end).
    if (fd >= 0 && !log.dropped().empty() && !log.release_dropped(fd, bounded ? 1 << 20 : 1) &&
        !rt->punch_failure_reported) {
      rt->punch_failure_reported = true;
      spdlog::warn("tend: task {}: cannot free the dropped part of {} ({}); it is not shown, but keeps its disk space",
                   rt->task->id(), log.file().string(), std::strerror(errno));
    }
  }
  if (total > 0 || !bounded) check_disk_space(rt);
  if (more) {
    asio::post(executor_, [self = shared_from_this(), rt] {
      if (!self->closed_ && rt->tail_fds[0]) self->catch_up(rt, true);
    });
  }
  return total;
}

std::size_t Engine::skip_ahead(const RuntimePtr& rt, Stream stream, int fd) {
  // Only when no byte is wanted on its way: no output subscriber, no pattern
  // to look for. The file keeps everything for readers by cursor.
  if (has_output_subscribers() || rt->progress_pattern || (rt->ready_pattern && !rt->ready_pattern_seen)) return 0;
  OutputLog& log = rt->task->output(stream);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return 0;
  const std::uint64_t have = log.size(), size = static_cast<std::uint64_t>(st.st_size);
  const std::size_t cap = log.ring_capacity();
  if (size <= have + cap + read_buffer_.size()) return 0;  // not worth it
  const std::uint64_t from = size - cap;
  std::string tail(cap, '\0');
  std::size_t got = 0;
  while (got < cap) {
    ssize_t n = ::pread(fd, tail.data() + got, cap - got, static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  if (got == 0) return 0;
  tail.resize(got);
  on_output(rt, stream, tail, true, from - have);
  return got;
}

void Engine::unfollow_files(const RuntimePtr& rt) {
  for (int i = 0; i < 2; ++i) {
    if (rt->watch_ids[i] >= 0 && inotify_) {
      ::inotify_rm_watch(inotify_->native_handle(), rt->watch_ids[i]);
      followed_.erase(rt->watch_ids[i]);
    }
    rt->watch_ids[i] = -1;
    rt->tail_fds[i].reset();
  }
}

void Engine::check_disk_space(const RuntimePtr& rt) {
  if (rt->disk_full_noted) return;  // said once is enough
  int fd = rt->tail_fds[0] ? rt->tail_fds[0].get() : rt->tail_fds[1].get();
  struct statfs fs {};
  if (fd < 0 || ::fstatfs(fd, &fs) != 0) return;
  // A write fails once less than a block is left (root may use the reserve).
  const std::uint64_t left = (::geteuid() == 0 ? fs.f_bfree : fs.f_bavail) * static_cast<std::uint64_t>(fs.f_bsize);
  constexpr std::uint64_t kNearlyFull = 64 * 1024;
  if (left < kNearlyFull) note_disk_full(rt);
}

void Engine::note_disk_full(const RuntimePtr& rt) {
  if (rt->disk_full_noted) return;
  rt->disk_full_noted = true;
  const Clock::time_point now = Clock::now();
  TaskControl::update(*rt->task, [&](TaskStatus& st) { st.disk_full_at = now; });
  spdlog::warn("tend: task {}: its log's file system is full ({}): its output may be incomplete", rt->task->id(),
               rt->task->output().file().parent_path().string());
}

}  // namespace tend
