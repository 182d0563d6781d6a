#pragma once
// The tend subcommands: turn options into RPC calls, results into text and
// exit codes.

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace tend::cli {

constexpr int kUsage = 2;     ///< usage errors and unknown tasks
constexpr int kTimedOut = 124;  ///< as timeout(1)

/// A mistake in how tend was called; exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A task reference as the daemon takes it (rpc::parse_task_ref); an empty
/// one or an id no task can have is a UsageError.
nlohmann::json task_ref(const std::string& text);
nlohmann::json task_refs(const std::vector<std::string>& texts);

/// A duration option's value in milliseconds (duration_of_text); a UsageError
/// naming `option` for what it refuses.
std::int64_t duration_ms(const std::string& option, const std::string& text);

struct Options {
  std::string name, cwd, idle_policy, group, ready_pattern, restart, stop_signal, grep, signal, id, text, log_limit;
  std::optional<std::string> timeout, idle_timeout, ready_timeout, grace;  ///< durations, as given
  std::vector<std::string> env, after, command, ids;
  std::optional<int> ready_port, priority, tail;
  std::optional<long long> since;
  bool terminal = false, shell = false, wait = false, json = false, all = false, follow = false, only_stdout = false,
       only_stderr = false, any = false, no_newline = false, eof = false, allocate_port = false, stdin_pipe = false,
       merge_stderr = false, replace = false;
  bool internal = false;  ///< ls: also tend's own tasks
  std::optional<std::string> delay, at;  ///< run, enqueue: when it may start, as given
  bool stashed = false, successful_only = false;
  long long parallel = 0;
};

/// The options of `tend agent ...`.
struct AgentOptions {
  std::string task, repo, base, priority, setup, into, strategy = "squash", id;
  std::optional<std::string> timeout, idle_timeout;  ///< durations, as given
  std::vector<std::string> constraints, copy, command, ids, files, keep_env;
  bool scrub_secrets = false;
  bool json = false, stat = false, any = false, ours = false, theirs = false, force = false;
};

int cmd_agent_spawn(const AgentOptions& o);
int cmd_agent_ls(const AgentOptions& o);
int cmd_agent_status(const AgentOptions& o);
int cmd_agent_diff(const AgentOptions& o);
int cmd_agent_wait(const AgentOptions& o);
int cmd_agent_merge(const AgentOptions& o);
int cmd_agent_resolve(const AgentOptions& o);
int cmd_agent_cancel(const AgentOptions& o);
int cmd_agent_rm(const AgentOptions& o);
int cmd_agent_gc(const AgentOptions& o);

int cmd_run(const Options& o);
int cmd_ls(const Options& o);
int cmd_status(const Options& o);
int cmd_logs(const Options& o);
int cmd_wait(const Options& o);
int cmd_kill(const Options& o);
int cmd_send(const Options& o);
int cmd_simple(const char* method, const Options& o);
int cmd_rm(const Options& o);
int cmd_clean(const Options& o);
int cmd_parallel(const Options& o, bool group_add);
// queue_commands.cpp
/// Puts --delay or --at into `p` as "delay_ms" or "start_at".
void add_start_time(nlohmann::json& p, const Options& o);
int cmd_show_limits(const Options& o);
int cmd_group_ls(const Options& o);
int cmd_group_rm(const Options& o);
int cmd_enqueue(const Options& o);
int cmd_start(const Options& o);
int cmd_daemon_start(const Options& o);
int cmd_daemon_stop(const Options& o);
int cmd_daemon_status(const Options& o);

}  // namespace tend::cli
