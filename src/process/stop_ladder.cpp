#include "tend/process/stop_ladder.hpp"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "tend/process/signals.hpp"

namespace tend::process {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kKillWait{2000};

void ensure_final_kill(StopLadder& ladder) {
  if (ladder.steps.empty() || ladder.steps.back().signal != SIGKILL) ladder.steps.push_back({SIGKILL, kKillWait});
}

// A wait in a --termseq: plain milliseconds, or a duration with a unit.
std::optional<milliseconds> parse_wait(std::string_view text) {
  long long ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc{} && end == text.data() + text.size() && ms >= 0) return milliseconds(ms);
  // "5s", "500ms", "1m": the units tend accepts everywhere.
  if (text.size() >= 2) {
    double value = 0;
    std::string_view unit;
    auto [num_end, num_ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (num_ec != std::errc{} || value < 0) return std::nullopt;
    unit = text.substr(static_cast<size_t>(num_end - text.data()));
    double scale = unit == "ms" ? 1 : unit == "s" ? 1000 : unit == "m" ? 60'000 : 0;
    // Past ~31 years a wait is a typo, and past 2^63 ms the conversion would
    // be undefined (found by fuzz/signal_fuzzer.cpp).
    if (scale == 0 || !(value * scale <= 1e12)) return std::nullopt;
    return milliseconds(static_cast<long long>(value * scale));
  }
  return std::nullopt;
}

}  // namespace

StopLadder StopLadder::standard(milliseconds grace) { return with_signal(SIGTERM, grace); }

StopLadder StopLadder::with_signal(int signal, milliseconds grace) {
  StopLadder ladder{{{signal, grace}}};
  ensure_final_kill(ladder);
  return ladder;
}

std::optional<StopLadder> StopLadder::parse(std::string_view text) {
  StopLadder ladder;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view sig_text = text.substr(0, comma);
    // In a ladder, signals go by name; a number is always a wait.
    auto sig = sig_text.empty() || std::isdigit(static_cast<unsigned char>(sig_text.front())) ? std::nullopt
                                                                                               : parse_signal(sig_text);
    if (!sig) return std::nullopt;
    milliseconds wait = *sig == SIGKILL ? kKillWait : milliseconds(5000);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '-')) {
      comma = text.find(',');
      auto w = parse_wait(text.substr(0, comma));
      if (!w) return std::nullopt;
      wait = *w;
      text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
      if (comma != std::string_view::npos && text.empty()) return std::nullopt;
    }
    ladder.steps.push_back({*sig, wait});
  }
  if (ladder.steps.empty()) return std::nullopt;
  ensure_final_kill(ladder);
  return ladder;
}

std::string StopLadder::to_string() const {
  std::string out;
  for (const auto& step : steps) {
    if (!out.empty()) out += ',';
    std::string name = signal_name(step.signal);
    out += fmt::format("{},{}", name.rfind("SIG", 0) == 0 ? name.substr(3) : name, step.wait.count());
  }
  return out;
}

std::vector<std::optional<ExitStatus>> stop_groups_blocking(const std::vector<Pidfd*>& leaders,
                                                            const std::vector<Pidfd*>& escaped,
                                                            const StopLadder& ladder) {
  std::vector<std::optional<ExitStatus>> statuses(leaders.size());
  auto reap_exited = [&] {
    bool all = true;
    for (size_t i = 0; i < leaders.size(); ++i) {
      if (!statuses[i] && *leaders[i]) statuses[i] = leaders[i]->try_reap();
      all = all && (statuses[i] || !*leaders[i]);
    }
    return all;
  };
  auto wait_all_exited = [&](milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      std::vector<pollfd> fds;
      for (size_t i = 0; i < leaders.size(); ++i) {
        if (!statuses[i] && *leaders[i]) fds.push_back({leaders[i]->fd(), POLLIN, 0});
      }
      for (auto* p : escaped) {
        if (*p && !p->has_exited()) fds.push_back({p->fd(), POLLIN, 0});
      }
      if (fds.empty()) return;
      auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
      reap_exited();
    }
  };
  reap_exited();
  for (const auto& step : ladder.steps) {
    bool anyone = false;
    for (auto* leader : leaders) anyone = leader->send_signal_to_group(step.signal) || anyone;
    for (auto* p : escaped) anyone = (p->send_signal(step.signal)) || anyone;
    if (!anyone && reap_exited()) break;
    wait_all_exited(step.wait);
  }
  reap_exited();
  return statuses;
}

}  // namespace tend::process
