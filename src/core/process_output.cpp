// A process task's output through pipes or a PTY: read as it comes, logged,
// scanned for progress and readiness, and passed on to subscribers. (Output a
// task writes to its own files is followed in direct_files.cpp.)

#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "tend/core/terminal_text.hpp"

namespace tend {

void Engine::watch_stream(const RuntimePtr& rt, const AttemptPtr& at, Stream stream) {
  auto& d = stream == Stream::stdout_stream ? at->out : at->err;
  d.async_wait(asio::posix::descriptor_base::wait_read,
               [self = shared_from_this(), rt, at, stream](boost::system::error_code ec) {
                 if (ec || self->closed_) return;
                 self->on_readable(rt, at, stream);
               });
}

void Engine::on_readable(const RuntimePtr& rt, const AttemptPtr& at, Stream stream) {
  auto& d = stream == Stream::stdout_stream ? at->out : at->err;
  // Read what is there, but not forever: other tasks deserve their turn.
  for (int round = 0; round < 16; ++round) {
    ssize_t n = ::read(d.native_handle(), read_buffer_.data(), read_buffer_.size());
    if (n > 0) {
      on_output(rt, stream, std::string_view(read_buffer_.data(), static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) < read_buffer_.size()) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // EOF, or an error that ends the stream all the same (EIO: a PTY whose
    // slave side is closed).
    boost::system::error_code ignored;
    d.close(ignored);
    on_stream_closed(rt, at);
    return;
  }
  watch_stream(rt, at, stream);
}

void Engine::on_output(const RuntimePtr& rt, Stream stream, std::string_view bytes, bool already_in_file,
                       std::uint64_t skipped) {
  OutputLog& log = rt->task->output(stream);
  const Stream other = stream == Stream::stdout_stream ? Stream::stderr_stream : Stream::stdout_stream;
  rt->task->order().observe(stream, log.size(), rt->task->output(other).size());
  try {
    if (already_in_file) {
      log.note_appended_after(skipped, bytes);
    } else {
      log.append(bytes);
    }
  } catch (const std::system_error& e) {
    // The bytes are still in memory; say once that the file is failing.
    if (e.code().value() == ENOSPC || e.code().value() == EDQUOT) note_disk_full(rt);
    if (!rt->log_error_reported) spdlog::error("tend: task {}: {}", rt->task->id(), e.what());
    rt->log_error_reported = true;
  }
  bool progressed = !rt->progress_pattern;
  const bool want_ready = rt->ready_pattern && !rt->ready_pattern_seen;
  if (rt->progress_pattern || want_ready) {
    const bool terminal = rt->current && rt->current->pty;
    auto& scanner = rt->scanners[stream == Stream::stdout_stream ? 0 : 1];
    scanner.scan(bytes, [&](std::string_view line) {
      std::string plain = terminal ? strip_ansi(line) : std::string(line);
      if (rt->progress_pattern && rt->progress_pattern->search(plain)) progressed = true;
      if (want_ready && rt->ready_pattern->search(plain)) rt->ready_pattern_seen = true;
    });
    if (want_ready && rt->ready_pattern_seen) {
      for (auto* timer : rt->ready_waiters) timer->cancel();
    }
  }
  if (progressed) record_activity(rt->task);
  if (has_output_subscribers()) emit(Event{Event::Kind::output, rt->task, stream, bytes, {}});
}

void Engine::on_stream_closed(const RuntimePtr& rt, const AttemptPtr& at) {
  if (--at->open_streams > 0) return;
  if (at->exit && !at->ended) {
    at->drain_timer.cancel();
    return end_attempt(rt, at);
  }
  release_attempt(rt, at);
}

}  // namespace tend
