#pragma once
// JSON-RPC 2.0, one JSON object per line: requests, responses, errors.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>

namespace tend::rpc {

/// The JSON type of the whole RPC layer.
using nlohmann::json;

/// The `error.code` values of tend's answers: JSON-RPC 2.0's own, then tend's
/// (-32001 and below, listed in docs/protocol.md).
namespace error_code {
/// The line is not JSON.
constexpr int parse_error = -32700;
/// Not a JSON-RPC 2.0 request (no "jsonrpc": "2.0", no method, nested too
/// deep, a line too long).
constexpr int invalid_request = -32600;
/// No method of that name.
constexpr int method_not_found = -32601;
/// A parameter is missing, of the wrong type or out of range.
constexpr int invalid_params = -32602;
/// An unexpected failure while handling the request ("internal error: ...").
constexpr int internal_error = -32603;
constexpr int no_such_task = -32001;   ///< the id or name names no task
constexpr int task_error = -32002;     ///< the task cannot do that (not running, no stdin, ...)
constexpr int spawn_failed = -32003;   ///< the program or cwd is wrong
constexpr int not_ready = -32004;      ///< readiness failed (exited, timed out)
constexpr int name_in_use = -32007;    ///< a live task has that name (data: its "id")
}  // namespace error_code

/// An error to send back: code, message, optional data.
class RpcError : public std::runtime_error {
 public:
  /// `code` as docs/protocol.md lists them (error_code has the common ones);
  /// `data` (null: none) goes into the answer's `error.data`.
  RpcError(int code, const std::string& message, json data = nullptr)
      : std::runtime_error(message), code_(code), data_(std::move(data)) {}
  /// The error's code, and its data (null when none).
  int code() const { return code_; }
  const json& data() const { return data_; }

 private:
  int code_;
  json data_;
};

/// One parsed request.
struct Request {
  json id;  ///< null for a notification
  /// The method's name ("task.run").
  std::string method;
  json params;  ///< an object (or null)
  /// A notification (no id) gets no answer.
  bool is_notification() const { return id.is_null(); }
};

/// Parses one line into a request; throws RpcError (parse_error,
/// invalid_request) naming what is wrong. A request id it could read is
/// put in the error's data as {"id": ...} so the answer can carry it.
Request parse_request(std::string_view line);

/// The line (without its newline) of an answer, an error answer (its `data`
/// left out when null) or a notification.
std::string make_result(const json& id, const json& result);
std::string make_error(const json& id, int code, const std::string& message, const json& data = nullptr);
std::string make_notification(const std::string& method, const json& params);

/// Serialises without ever throwing on invalid UTF-8 (it is replaced).
std::string dump(const json& j);

/// Splits a byte stream into lines, each at most `max_line` bytes. A longer
/// line is dropped whole (its bytes are not kept) and reported once.
class LineReader {
 public:
  /// `max_line` bytes at most per line, not counting the newline.
  explicit LineReader(std::size_t max_line) : max_line_(max_line) {}

  /// What next() gives.
  struct Line {
    /// The line without its "\n" (or "\r\n"); empty when too_long.
    std::string text;
    bool too_long = false;  ///< the line was dropped for its size
  };
  /// Adds bytes; then call next() until it returns nullopt.
  void feed(std::string_view bytes);
  std::optional<Line> next();

 private:
  std::size_t max_line_;
  std::string buffer_;
  std::size_t scanned_ = 0;
  bool discarding_ = false;
  bool report_too_long_ = false;
};

}  // namespace tend::rpc
