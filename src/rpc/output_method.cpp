// task.output: a task's output by cursor, as its last lines, or the lines
// matching a pattern; one stream, or both in the order tend saw them. The
// answer lists its parts (ranges of each stream), so a client on this
// machine can also take the bytes straight from the log files (by_file).


#include <fmt/format.h>

#include "params.hpp"
#include "task_activity.hpp"
#include "tend/core/pattern.hpp"
#include "tend/core/output_view.hpp"
#include "tend/rpc/service.hpp"

namespace tend::rpc {

using namespace params;

namespace {

constexpr std::uint64_t kMaxRead = 16u << 20;
constexpr std::int64_t kMaxParts = 1 << 16;

std::string base64(std::string_view in) {
  static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += table[v >> 18];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += table[v >> 18];
    out += table[(v >> 12) & 63];
    out += i + 1 < in.size() ? table[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// What a task.output request asks for, checked.
struct OutputRequest {
  std::string stream_name;  // "stdout", "stderr" or "both"
  StreamChoice which;
  OutputCursors since;
  std::uint64_t max_bytes = 1 << 20;
  std::size_t max_parts = kMaxParts;
  std::optional<std::int64_t> tail_lines;
  std::optional<std::string> grep;
  std::optional<Pattern> grep_pattern;  ///< grep, compiled
  std::optional<Duration> wait;
  bool base64 = false;
  bool by_file = false;
};

std::uint64_t cursor_in(const json& cursors, const char* name) {
  auto it = cursors.find(name);
  if (it == cursors.end() || it->is_null()) return 0;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) bad("cursors", "an object of byte cursors (0 or more)");
  return it->get<std::uint64_t>();
}

OutputRequest parse_output_request(const json& p) {
  OutputRequest r;
  r.stream_name = optional<std::string>(p, "stream").value_or("stdout");
  if (r.stream_name == "both") {
    r.which = {true, true};
  } else if (r.stream_name == "stdout" || r.stream_name == "stderr") {
    r.which = StreamChoice::only(r.stream_name == "stdout" ? Stream::stdout_stream : Stream::stderr_stream);
  } else {
    bad("stream", "\"stdout\", \"stderr\" or \"both\"");
  }
  if (auto it = p.find("cursors"); it != p.end() && !it->is_null()) {
    if (!it->is_object()) bad("cursors", "an object of byte cursors, {\"stdout\": N, \"stderr\": M}");
    if (p.contains("since")) bad("since", "left out when \"cursors\" is given");
    r.since = {cursor_in(*it, "stdout"), cursor_in(*it, "stderr")};
  } else if (p.contains("since")) {
    // One cursor is a place in one stream: in both together it means nothing.
    if (r.stream_name == "both") bad("since", "given with a single stream; for both use \"cursors\"");
    r.since.of(r.which.out ? Stream::stdout_stream : Stream::stderr_stream) =
        static_cast<std::uint64_t>(non_negative(p, "since", 0));
  }
  r.by_file = optional<bool>(p, "by_file").value_or(false);
  r.max_bytes = static_cast<std::uint64_t>(non_negative(p, "max_bytes", 1 << 20));
  if (!r.by_file) r.max_bytes = std::min(r.max_bytes, kMaxRead);
  r.max_parts = static_cast<std::size_t>(std::clamp<std::int64_t>(non_negative(p, "max_parts", kMaxParts), 1, kMaxParts));
  r.tail_lines = optional<std::int64_t>(p, "tail_lines");
  if (r.tail_lines && *r.tail_lines < 0) bad("tail_lines", "zero or more");
  r.grep = optional<std::string>(p, "grep");
  if (r.grep) {
    try {
      r.grep_pattern.emplace(*r.grep);
    } catch (const PatternError& e) {
      throw RpcError(error_code::invalid_params, fmt::format("invalid params: \"grep\": {}", e.what()));
    }
  }
  r.wait = duration_ms(p, "wait_ms");
  auto encoding = optional<std::string>(p, "encoding").value_or("utf8");
  if (encoding != "utf8" && encoding != "base64") bad("encoding", "\"utf8\" or \"base64\"");
  r.base64 = encoding == "base64";
  return r;
}

OutputSlice take_slice(const Task& task, const OutputRequest& r) {
  if (r.grep) {
    const Pattern& re = *r.grep_pattern;
    auto matches = [&re](std::string_view line) { return re.search(line); };
    // With tail_lines: the last matches of all there is.
    if (r.tail_lines) return view_matching(task, r.which, r.since, matches, UINT64_MAX, *r.tail_lines);
    return view_matching(task, r.which, r.since, matches, std::min<std::uint64_t>(r.max_bytes, kMaxRead));
  }
  if (r.tail_lines) return view_last_lines(task, r.which, static_cast<std::size_t>(*r.tail_lines));
  return view_from(task, r.which, r.since, r.max_bytes, r.max_parts);
}

json parts_json(const std::vector<OutputPart>& parts) {
  json out = json::array();
  for (const auto& p : parts) {
    json part = {to_string(p.stream), p.at, p.size};
    if (p.dropped) part.push_back("dropped");
    out.push_back(std::move(part));
  }
  return out;
}

json answer(const Task& task, const OutputRequest& r, OutputSlice& slice) {
  std::string data;
  if (!r.by_file) data = read_parts(task, slice.parts);
  std::uint64_t skipped = 0;
  for (const auto& p : slice.parts) skipped += p.dropped ? p.size : 0;
  json result = {{"eof", slice.eof},
                 {"skipped", skipped},
                 {"stream", r.stream_name},
                 {"state", to_string(task.state())},
                 {"parts", parts_json(slice.parts)},
                 {"next_cursors", {{"stdout", slice.next.out}, {"stderr", slice.next.err}}}};
  if (r.stream_name != "both") {
    result["next_cursor"] = slice.next.of(r.which.out ? Stream::stdout_stream : Stream::stderr_stream);
  }
  if (r.by_file) {
    result["files"] = {{"stdout", task.output(Stream::stdout_stream).file().string()},
                       {"stderr", task.output(Stream::stderr_stream).file().string()}};
    return result;
  }
  if (r.base64) {
    result["data_base64"] = base64(data);
  } else {
    result["data"] = std::move(data);
  }
  return result;
}

}  // namespace

asio::awaitable<json> Service::output(Params p) {
  if (!p.contains("id")) bad("id", "a task id or name");
  TaskPtr task = resolve(p["id"]);
  const OutputRequest r = parse_output_request(p);
  if (r.by_file && task->output(Stream::stdout_stream).file().empty()) {
    bad("by_file", "left out: this task's output is kept in memory only");
  }
  auto deadline = asio::steady_timer::clock_type::now() + r.wait.value_or(Duration(0));
  while (true) {
    OutputSlice slice = take_slice(*task, r);
    if (!slice.parts.empty() || slice.eof || r.tail_lines || !r.wait ||
        asio::steady_timer::clock_type::now() >= deadline) {
      co_return answer(*task, r, slice);
    }
    co_await wait_for_activity(sup_, task, deadline);
  }
}

}  // namespace tend::rpc
