// A process task's input: bytes queued for its stdin pipe or terminal and
// written as it takes them, end of input, and the terminal's window size.

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "engine.hpp"
#include "process_runtime.hpp"
#include "tend/process/spawn.hpp"

namespace tend {

void Engine::send(const TaskPtr& task, std::string bytes) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end() || it->second->finalized) {
    throw TaskError(fmt::format("task {} is not running", task->id()));
  }
  RuntimePtr rt = it->second;
  bool pty = rt->current && rt->current->pty;
  if (!pty && (!rt->input.is_open() || rt->close_input_after_write)) {
    throw TaskError(fmt::format("task {} has no open stdin to write to (run it as a terminal or with stdin "
                                "as a pipe)",
                                task->id()));
  }
  if (pty && !rt->current->out.is_open()) throw TaskError(fmt::format("task {}'s terminal is closed", task->id()));
  rt->pending_input.push_back(std::move(bytes));
  flush_input(rt);
}

void Engine::close_input(const TaskPtr& task) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end() || it->second->finalized) return;
  RuntimePtr rt = it->second;
  if (rt->current && rt->current->pty) {
    rt->pending_input.push_back("\x04");  // VEOF: end of file at the start of a line
    return flush_input(rt);
  }
  rt->close_input_after_write = true;
  flush_input(rt);
}

void Engine::flush_input(const RuntimePtr& rt) {
  if (rt->writing) return;
  bool pty = rt->current && rt->current->pty;
  auto& target = pty ? rt->current->out : rt->input;
  while (!rt->pending_input.empty() && target.is_open()) {
    std::string& front = rt->pending_input.front();
    ssize_t n = ::write(target.native_handle(), front.data(), front.size());
    if (n >= 0) {
      front.erase(0, static_cast<std::size_t>(n));
      if (front.empty()) rt->pending_input.pop_front();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      rt->writing = true;
      target.async_wait(asio::posix::descriptor_base::wait_write,
                        [self = shared_from_this(), rt](boost::system::error_code ec) {
                          rt->writing = false;
                          if (ec || self->closed_) return self->release_if_done(rt);
                          self->flush_input(rt);
                        });
      return;
    }
    // EPIPE or EIO: the task closed its input; what is left cannot be delivered.
    spdlog::warn("tend: task {}: input dropped: {}", rt->task->id(), std::strerror(errno));
    rt->pending_input.clear();
  }
  if (rt->pending_input.empty() && rt->close_input_after_write && !pty) {
    boost::system::error_code ignored;
    rt->input.close(ignored);
  }
  release_if_done(rt);
}

void Engine::resize(const TaskPtr& task, unsigned short rows, unsigned short cols) {
  auto it = runtimes_.find(task->id());
  if (it == runtimes_.end() || !it->second->current || !it->second->current->pty ||
      !it->second->current->out.is_open()) {
    throw TaskError(fmt::format("task {} has no terminal to resize", task->id()));
  }
  process::set_window_size(it->second->current->out.native_handle(), rows, cols);
}

}  // namespace tend
