#include "tend/core/output_view.hpp"

#include <algorithm>
#include <array>

#include "tend/core/output_order.hpp"

namespace tend {
namespace {

constexpr std::size_t kLinePiece = 1 << 20;  // a longer line is looked at in pieces
constexpr std::uint64_t kWalkBatch = 4 << 20;

bool chosen(StreamChoice which, Stream s) { return s == Stream::stdout_stream ? which.out : which.err; }

// Appends a part, joined to the last one when it continues it.
void push_part(std::vector<OutputPart>& parts, OutputPart part) {
  if (part.size == 0) return;
  if (!parts.empty()) {
    OutputPart& last = parts.back();
    if (last.stream == part.stream && last.dropped == part.dropped && last.at + last.size == part.at) {
      last.size += part.size;
      return;
    }
  }
  parts.push_back(part);
}

// The range [from, to) of `s` as parts: what the log cannot serve (dropped
// by its cap, or gone from the ring) as dropped parts.
void add_range(std::vector<OutputPart>& parts, const OutputLog& log, Stream s, std::uint64_t from, std::uint64_t to) {
  const std::uint64_t readable = log.first_readable();
  const DroppedRange d = log.dropped();
  while (from < to) {
    std::uint64_t end = to;
    bool gone = false;
    if (from < readable) {
      end = std::min(to, readable);
      gone = true;
    } else if (!d.empty() && from >= d.from && from < d.to) {
      end = std::min(to, d.to);
      gone = true;
    } else if (!d.empty() && from < d.from) {
      end = std::min(to, d.from);
    }
    push_part(parts, {s, from, end - from, gone});
    from = end;
  }
}

// The runs of the chosen streams from `from` to `sizes`, in the order seen.
std::vector<OutputOrder::Run> chosen_runs(const Task& task, StreamChoice which, OutputCursors from,
                                          OutputCursors sizes, std::size_t max_runs) {
  if (which.out && which.err) return task.order().runs_from(from.out, from.err, sizes.out, sizes.err, max_runs);
  Stream s = which.out ? Stream::stdout_stream : Stream::stderr_stream;
  if (!which.out && !which.err) return {};
  if (from.of(s) >= sizes.of(s)) return {};
  return {{s, from.of(s), sizes.of(s)}};
}

OutputCursors sizes_of(const Task& task) {
  return {task.output(Stream::stdout_stream).size(), task.output(Stream::stderr_stream).size()};
}

bool at_end(const Task& task, StreamChoice which, OutputCursors next, bool finished) {
  if (!finished) return false;
  OutputCursors sizes = sizes_of(task);
  return (!which.out || next.out >= sizes.out) && (!which.err || next.err >= sizes.err);
}

// Walks the lines of the chosen streams from `from` to the streams' sizes,
// in the order they are completed. `on_line(stream, start, end, text,
// terminated)` gets each (end past its '\n'; text only when `with_text`, and
// then at most kLinePiece bytes, a longer line coming in pieces) and returns
// false to stop. Lines still open at the end are left to `on_open`.
class LineWalker {
 public:
  using OnLine = std::function<bool(Stream, std::uint64_t, std::uint64_t, std::string_view, bool)>;

  LineWalker(const Task& task, StreamChoice which, bool with_text) : task_(task), which_(which), with_text_(with_text) {}

  /// Walks to the end; returns where each stream's looked-at lines end.
  OutputCursors walk(OutputCursors from, const OnLine& on_line) {
    OutputCursors sizes = sizes_of(task_);
    OutputCursors cursor = from;
    open_[0] = {from.out, {}, false};
    open_[1] = {from.err, {}, false};
    while (true) {
      OutputSlice slice = view_from(task_, which_, cursor, kWalkBatch, 4096);
      bool any = false;
      for (const OutputPart& part : slice.parts) {
        if (part.at >= sizes.of(part.stream)) continue;
        any = true;
        if (!take(part, std::min(part.at + part.size, sizes.of(part.stream)), on_line)) return looked_at();
      }
      cursor = slice.next;
      if (!any) break;
    }
    return looked_at();
  }

  /// The line still open in `s` at the end of the walk: [start, end).
  struct Open {
    std::uint64_t start = 0;
    std::string text;
    bool any = false;  ///< it holds bytes
  };
  const Open& open(Stream s) const { return open_[s == Stream::stdout_stream ? 0 : 1]; }
  std::uint64_t end_of(Stream s) const { return ends_[s == Stream::stdout_stream ? 0 : 1]; }

 private:
  OutputCursors looked_at() const { return {open_[0].start, open_[1].start}; }

  bool take(const OutputPart& part, std::uint64_t to, const OnLine& on_line) {
    const int i = part.stream == Stream::stdout_stream ? 0 : 1;
    Open& line = open_[i];
    ends_[i] = to;
    if (part.dropped) {
      // A gap ends the line before it, unterminated.
      bool go_on = !line.any || finish(line, part.at, false, part.stream, on_line);
      line = {to, {}, false};
      return go_on;
    }
    const OutputLog& log = task_.output(part.stream);
    for (std::uint64_t at = part.at; at < to;) {
      OutputRead r = log.read(at, static_cast<std::size_t>(std::min<std::uint64_t>(to - at, kLinePiece)));
      if (r.data.empty()) return true;
      std::string_view data = r.data;
      const std::uint64_t base = r.next_cursor - data.size();
      std::size_t pos = 0;
      while (pos < data.size()) {
        auto nl = data.find('\n', pos);
        std::size_t stop = nl == std::string_view::npos ? data.size() : nl;
        if (with_text_) {
          line.text.append(data.substr(pos, stop - pos));
        }
        line.any = true;
        if (nl == std::string_view::npos) {
          if (with_text_ && line.text.size() >= kLinePiece && !finish(line, base + stop, false, part.stream, on_line)) {
            return false;
          }
          break;
        }
        if (!finish(line, base + nl + 1, true, part.stream, on_line)) return false;
        pos = nl + 1;
      }
      at = r.next_cursor;
    }
    return true;
  }

  // Hands the line on and opens the next at `end`; false: stop walking.
  static bool finish(Open& line, std::uint64_t end, bool terminated, Stream s, const OnLine& on_line) {
    bool go_on = on_line(s, line.start, end, line.text, terminated);
    line = {end, {}, false};
    return go_on;
  }

  const Task& task_;
  StreamChoice which_;
  bool with_text_;
  std::array<Open, 2> open_;
  std::array<std::uint64_t, 2> ends_{0, 0};
};

}  // namespace

std::uint64_t OutputSlice::bytes() const {
  std::uint64_t n = 0;
  for (const auto& p : parts) n += p.dropped ? 0 : p.size;
  return n;
}

OutputSlice view_from(const Task& task, StreamChoice which, OutputCursors from, std::uint64_t max_bytes,
                      std::size_t max_parts) {
  const bool finished = task.finished();  // before the sizes: a finished task's sizes are final
  OutputCursors sizes = sizes_of(task);
  OutputSlice slice;
  slice.next = from;
  std::uint64_t budget = max_bytes;
  for (const auto& run : chosen_runs(task, which, from, sizes, max_parts)) {
    if (budget == 0 || slice.parts.size() >= max_parts) break;
    std::vector<OutputPart> pieces;
    add_range(pieces, task.output(run.stream), run.stream, run.from, run.to);
    for (OutputPart piece : pieces) {
      if (budget == 0 || slice.parts.size() >= max_parts) break;
      if (!piece.dropped) {
        piece.size = std::min(piece.size, budget);
        budget -= piece.size;
      }
      push_part(slice.parts, piece);
      slice.next.of(piece.stream) = piece.at + piece.size;
    }
  }
  slice.eof = at_end(task, which, slice.next, finished);
  return slice;
}

OutputSlice view_last_lines(const Task& task, StreamChoice which, std::size_t n) {
  const bool finished = task.finished();
  OutputSlice slice;
  slice.next = sizes_of(task);
  if (n == 0) {
    slice.eof = at_end(task, which, slice.next, finished);
    return slice;
  }
  // The last n lines of both together are among the last n of each.
  OutputCursors from = slice.next;
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    if (chosen(which, s)) from.of(s) = task.output(s).start_of_last_lines(n);
  }
  std::vector<OutputPart> lines;
  LineWalker walker(task, which, false);
  walker.walk(from, [&](Stream s, std::uint64_t start, std::uint64_t end, std::string_view, bool) {
    lines.push_back({s, start, end - start, false});
    return true;
  });
  // The unterminated last lines, the one written last coming last.
  std::vector<OutputPart> open;
  for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
    const auto& line = walker.open(s);
    if (chosen(which, s) && line.any) open.push_back({s, line.start, walker.end_of(s) - line.start, false});
  }
  if (open.size() == 2) {
    const OutputOrder& order = task.order();
    if (order.position(open[1].stream, open[1].at + open[1].size - 1) <
        order.position(open[0].stream, open[0].at + open[0].size - 1)) {
      std::swap(open[0], open[1]);
    }
  }
  lines.insert(lines.end(), open.begin(), open.end());
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(n));
  for (const auto& line : lines) push_part(slice.parts, line);
  slice.eof = at_end(task, which, slice.next, finished);
  return slice;
}

OutputSlice view_matching(const Task& task, StreamChoice which, OutputCursors from, const LineFilter& filter,
                          std::uint64_t max_bytes, std::size_t keep_last) {
  const bool finished = task.finished();
  OutputSlice slice;
  std::vector<OutputPart> lines;
  std::uint64_t matched = 0;
  LineWalker walker(task, which, true);
  slice.next = walker.walk(from, [&](Stream s, std::uint64_t start, std::uint64_t end, std::string_view text, bool) {
    if (filter(text)) {
      lines.push_back({s, start, end - start, false});
      matched += end - start;
    }
    return matched < max_bytes;
  });
  if (finished && matched < max_bytes) {
    // The task has ended: its unterminated last lines are lines too.
    for (Stream s : {Stream::stdout_stream, Stream::stderr_stream}) {
      const auto& line = walker.open(s);
      if (!chosen(which, s) || !line.any) continue;
      if (filter(line.text)) lines.push_back({s, line.start, walker.end_of(s) - line.start, false});
      slice.next.of(s) = walker.end_of(s);
    }
  }
  if (lines.size() > keep_last) lines.erase(lines.begin(), lines.end() - static_cast<std::ptrdiff_t>(keep_last));
  for (const auto& line : lines) push_part(slice.parts, line);
  slice.eof = at_end(task, which, slice.next, finished);
  return slice;
}

std::string read_parts(const Task& task, std::vector<OutputPart>& parts) {
  std::string data;
  std::vector<OutputPart> read;
  for (const auto& part : parts) {
    if (part.dropped) {
      push_part(read, part);
      continue;
    }
    const OutputLog& log = task.output(part.stream);
    for (std::uint64_t at = part.at, end = part.at + part.size; at < end;) {
      OutputRead r = log.read(at, static_cast<std::size_t>(std::min<std::uint64_t>(end - at, 16 << 20)));
      // The cap may have moved on since the view was taken: what it dropped
      // meanwhile becomes a dropped part, so parts and bytes still agree.
      const std::uint64_t skipped = std::min(r.skipped, end - at);
      push_part(read, {part.stream, at, skipped, true});
      if (r.data.empty() || r.next_cursor > end) break;
      push_part(read, {part.stream, r.next_cursor - r.data.size(), r.data.size(), false});
      data += r.data;
      at = r.next_cursor;
    }
  }
  parts = std::move(read);
  return data;
}

}  // namespace tend
