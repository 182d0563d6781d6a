#include "tend/mcp/server.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "daemon_link.hpp"
#include "event_relay.hpp"
#include "protocol.hpp"
#include "tend/rpc/json_rpc.hpp"
#include "tool_call.hpp"
#include "tool_context.hpp"

namespace tend::mcp {
namespace {

constexpr std::size_t kMaxLine = 16u << 20;

// Every line to the client goes through here, whole, from any thread.
class MessageWriter {
 public:
  explicit MessageWriter(int fd) : fd_(fd) {}
  void send(std::string line) {
    line += '\n';
    std::lock_guard lock(mutex_);
    std::string_view rest = line;
    while (!rest.empty()) {
      ssize_t n = ::write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the client is gone; the read loop will see it too
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_;
  std::mutex mutex_;
};

// Tool calls in flight, each on a thread of its own; finished ones are
// joined as new ones start, and all of them at the end.
class CallThreads {
 public:
  template <typename F>
  void start(F work) {
    std::lock_guard lock(mutex_);
    std::erase_if(calls_, [](Call& c) {
      if (!c.done->load()) return false;
      c.thread.join();
      return true;
    });
    auto done = std::make_shared<std::atomic<bool>>(false);
    calls_.push_back({std::thread([work = std::move(work), done] {
                        work();
                        done->store(true);
                      }),
                      done});
  }
  void join_all() {
    std::lock_guard lock(mutex_);
    for (auto& c : calls_) c.thread.join();
    calls_.clear();
  }

 private:
  struct Call {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::mutex mutex_;
  std::list<Call> calls_;
};

}  // namespace

int run_server(const ServerOptions& options) {
  // stdout belongs to the protocol: diagnostics go to stderr, and a client
  // that closed its end must not kill us with SIGPIPE.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("tend-mcp"));
  std::signal(SIGPIPE, SIG_IGN);

  MessageWriter out(options.output_fd);
  Protocol protocol;
  DaemonLink link;
  EventRelay relay(link, [&](LogLevel level, const json& data) {
    if (level < protocol.log_level()) return;
    out.send(rpc::make_notification("notifications/message",
                                    {{"level", to_string(level)}, {"logger", "tend"}, {"data", data}}));
  });
  CallThreads calls;

  auto run_call = [&](ToolCall call) {
    const std::string key = call.id.dump();
    calls.start([&, call = std::move(call), key] {
      ToolResult result;
      {
        ToolContext context(link, relay, key);
        result = call_tool(*call.tool, context, call.arguments);
      }
      // A cancelled request gets no answer (the client stopped listening for it).
      if (!link.cancelled(key)) out.send(tool_response(call.id, result));
      link.forget(key);
    });
  };

  rpc::LineReader reader(kMaxLine);
  char chunk[65536];
  while (true) {
    ssize_t n = ::read(options.input_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reader.feed(std::string_view(chunk, static_cast<std::size_t>(n)));
    while (auto line = reader.next()) {
      if (line->too_long) {
        out.send(rpc::make_error(nullptr, rpc::error_code::invalid_request, "invalid request: a line over 16 MiB"));
        continue;
      }
      if (line->text.find_first_not_of(" \t\r") == std::string::npos) continue;
      Action action = protocol.handle_line(line->text);
      if (action.reply) out.send(std::move(*action.reply));
      if (action.call) run_call(std::move(*action.call));
      if (action.cancel) link.cancel(action.cancel->dump());
    }
  }
  // The client is gone: cut off what is still waiting on the daemon (the
  // tasks themselves go on), then end.
  link.close();
  relay.stop();
  calls.join_all();
  return 0;
}

}  // namespace tend::mcp
