#pragma once
// Durable state: every task (spec and latest status), its state transitions,
// and settings (concurrency limits), in SQLite with WAL. One writer (the
// daemon's executor); a crash loses at most the transaction in flight.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tend/core/task.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tend::store {

/// The database could not be opened, read or written; what() says which and why.
class StoreError : public std::runtime_error {
 public:
  /// `message` says what failed and SQLite's (or the system's) reason.
  using std::runtime_error::runtime_error;
};

/// One task as saved.
struct StoredTask {
  /// Its spec as last written, and its status as last saved.
  TaskSpec spec;
  TaskStatus status;
};

/// One change of a task's state, as saved.
struct Transition {
  /// When it happened, the state it went to, and the status's reason then.
  Clock::time_point at;
  TaskState state;
  std::string reason;
};

/// The daemon's database (see the notes at the top of this file). Every
/// method throws StoreError when SQLite fails. Not copyable.
class StateStore {
 public:
  /// Opens or creates the database (file mode 0600, WAL). Throws StoreError.
  explicit StateStore(const std::filesystem::path& path);
  /// Commits what is open (a failure is ignored: it is what a crash would lose) and closes.
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  /// Inserts or updates a task, and records a transition when its state changed.
  void save(const TaskSpec& spec, const TaskStatus& status);
  /// Writes a task's spec again: a queued task that was edited (its spec is
  /// otherwise written once, by its first save).
  void save_spec(TaskId id, const TaskSpec& spec);
  /// Deletes a task and its transitions (nothing when there is none).
  void remove(TaskId id);
  /// Every task, by id.
  std::vector<StoredTask> load() const;
  /// The task's transitions, oldest first (empty for an unknown task).
  std::vector<Transition> transitions(TaskId id) const;

  /// Settings: small strings by key ("parallel:<group>", "agents:next_ticket").
  /// setting() gives nullopt for a key never set; settings_with_prefix gives
  /// every key starting with `prefix`, with its value, sorted by key.
  void set_setting(const std::string& key, const std::string& value);
  std::optional<std::string> setting(const std::string& key) const;
  void remove_setting(const std::string& key);
  std::vector<std::pair<std::string, std::string>> settings_with_prefix(const std::string& prefix) const;

  /// Records of the layers above (agents: one JSON document per ticket), by
  /// collection and key, in the order first written.
  void put_record(const std::string& collection, const std::string& key, const std::string& value);
  void remove_record(const std::string& collection, const std::string& key);
  std::vector<std::pair<std::string, std::string>> records(const std::string& collection) const;

  /// The database file.
  const std::filesystem::path& path() const { return path_; }

  /// Group commit. From now on a write joins one open transaction instead of
  /// committing on its own; opening it calls `schedule`, which must see that
  /// commit() runs soon (the daemon posts it to its loop). Whoever is about
  /// to tell a client anything calls commit() first, so a crash can only
  /// lose writes nobody has heard of. One transaction per burst instead of
  /// one per state change: the same pages are written once.
  void defer_commits(std::function<void()> schedule);
  /// Commits the open transaction, if there is one. Throws StoreError.
  void commit();

 private:
  class Write;
  void exec(const char* sql);
  /// The prepared statement for `sql` (a string literal), prepared once and
  /// kept: preparing costs more than running a small statement.
  sqlite3_stmt* prepared(const char* sql) const;
  std::optional<TaskState> saved_state(TaskId id) const;
  void open_batch();

  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
  mutable std::unordered_map<std::string_view, sqlite3_stmt*> statements_;
  /// The state last written per task, so a save knows whether it is a
  /// transition without reading the row back.
  mutable std::unordered_map<TaskId, TaskState> saved_states_;
  std::function<void()> schedule_commit_;  ///< set: writes are grouped
  bool batch_open_ = false;
};

}  // namespace tend::store
