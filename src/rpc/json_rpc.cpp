#include "tend/rpc/json_rpc.hpp"

#include <fmt/format.h>

#include "tend/store/json_limits.hpp"

namespace tend::rpc {

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

Request parse_request(std::string_view line) {
  json j;
  try {
    j = store::parse_json(line);
  } catch (const store::JsonTooDeep& e) {
    throw RpcError(error_code::invalid_request, fmt::format("invalid request: {}", e.what()));
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double (1E400) is an out_of_range.
    throw RpcError(error_code::parse_error, fmt::format("parse error: not valid JSON ({})", e.what()));
  }
  if (!j.is_object()) throw RpcError(error_code::invalid_request, "invalid request: expected a JSON object");
  json id = j.contains("id") ? j["id"] : json(nullptr);
  if (!id.is_null() && !id.is_number_integer() && !id.is_string()) {
    throw RpcError(error_code::invalid_request, "invalid request: \"id\" must be a number or a string");
  }
  json where = {{"id", id}};
  if (!j.contains("jsonrpc") || j["jsonrpc"] != "2.0") {
    throw RpcError(error_code::invalid_request, "invalid request: \"jsonrpc\" must be \"2.0\"", where);
  }
  if (!j.contains("method") || !j["method"].is_string()) {
    throw RpcError(error_code::invalid_request, "invalid request: \"method\" must be a string", where);
  }
  json params = j.contains("params") ? j["params"] : json::object();
  if (params.is_null()) params = json::object();
  if (!params.is_object()) {
    throw RpcError(error_code::invalid_params, "invalid params: \"params\" must be an object", where);
  }
  return Request{id, j["method"].get<std::string>(), std::move(params)};
}

std::string make_result(const json& id, const json& result) {
  return dump({{"jsonrpc", "2.0"}, {"id", id}, {"result", result}});
}

std::string make_error(const json& id, int code, const std::string& message, const json& data) {
  json error = {{"code", code}, {"message", message}};
  if (!data.is_null()) error["data"] = data;
  return dump({{"jsonrpc", "2.0"}, {"id", id}, {"error", error}});
}

std::string make_notification(const std::string& method, const json& params) {
  return dump({{"jsonrpc", "2.0"}, {"method", method}, {"params", params}});
}

void LineReader::feed(std::string_view bytes) {
  if (!discarding_) {
    buffer_.append(bytes);
    return;
  }
  // Still inside a line that was too long: skip to its end.
  auto nl = bytes.find('\n');
  if (nl == std::string_view::npos) return;
  discarding_ = false;
  report_too_long_ = true;
  buffer_.append(bytes.substr(nl + 1));
}

std::optional<LineReader::Line> LineReader::next() {
  if (report_too_long_) {
    report_too_long_ = false;
    return Line{{}, true};
  }
  auto nl = buffer_.find('\n', scanned_);
  if (nl == std::string::npos) {
    if (buffer_.size() > max_line_) {
      // Drop what we have and the rest of the line as it comes.
      buffer_.clear();
      scanned_ = 0;
      discarding_ = true;
    } else {
      scanned_ = buffer_.size();
    }
    return std::nullopt;
  }
  if (nl > max_line_) {
    buffer_.erase(0, nl + 1);
    scanned_ = 0;
    return Line{{}, true};
  }
  Line line{buffer_.substr(0, nl), false};
  if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  buffer_.erase(0, nl + 1);
  scanned_ = 0;
  return line;
}

}  // namespace tend::rpc
