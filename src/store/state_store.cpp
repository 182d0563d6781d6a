#include "tend/store/state_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <cstring>
#include <unistd.h>

#include <fmt/format.h>

#include "tend/store/json_limits.hpp"
#include "tend/store/task_codec.hpp"

namespace tend::store {
namespace {

// A prepared statement, finalized when it goes.
// One use of a prepared statement the store keeps: bound, stepped, and reset
// for its next use when this goes out of scope.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  /// True while there is a row.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreError(fmt::format("tend: database: {}", sqlite3_errmsg(db_)));
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

}  // namespace

StateStore::StateStore(const std::filesystem::path& path) : path_(path) {
  // Create it 0600 ourselves: sqlite would use the umask.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) throw StoreError(fmt::format("tend: cannot open database {}: {}", path.string(), std::strerror(errno)));
  ::fchmod(fd, 0600);
  ::close(fd);
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw StoreError(fmt::format("tend: cannot open database {}: {}", path.string(), why));
  }
  sqlite3_busy_timeout(db_, 5000);
  // The daemon is the database's only user: holding its lock for good spares
  // every transaction its file-lock calls and the WAL its shared-memory index.
  exec("PRAGMA locking_mode=EXCLUSIVE");
  exec("PRAGMA journal_mode=WAL");
  exec("PRAGMA synchronous=NORMAL");  // durable across a crash of the process; WAL keeps it consistent
  exec("CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, spec TEXT NOT NULL, status TEXT NOT NULL, "
       "state TEXT NOT NULL)");
  exec("CREATE TABLE IF NOT EXISTS transitions (task_id INTEGER NOT NULL, at TEXT NOT NULL, state TEXT NOT NULL, "
       "reason TEXT NOT NULL)");
  exec("CREATE INDEX IF NOT EXISTS transitions_by_task ON transitions(task_id)");
  exec("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  exec("CREATE TABLE IF NOT EXISTS records (collection TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
       "PRIMARY KEY (collection, key))");
  for (const char* suffix : {"-wal", "-shm"}) {
    std::filesystem::path side = path.string() + suffix;
    ::chmod(side.c_str(), 0600);
  }
}

// A write's transaction: its own (BEGIN ... COMMIT, ROLLBACK when a
// statement throws), or, with grouped commits, the open batch.
class StateStore::Write {
 public:
  explicit Write(StateStore& store) : store_(store), own_(!store.schedule_commit_) {
    if (!own_) {
      store_.open_batch();
      return;
    }
    Statement(store_.db_, store_.prepared("BEGIN")).step();
  }
  void done() {
    if (own_) Statement(store_.db_, store_.prepared("COMMIT")).step();
    finished_ = true;
  }
  ~Write() {
    if (finished_) return;
    if (own_) {
      sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
    } else if (sqlite3_get_autocommit(store_.db_)) {
      store_.batch_open_ = false;  // SQLite rolled the batch back (a full disk, say)
      store_.saved_states_.clear();
    }
  }
  Write(const Write&) = delete;
  Write& operator=(const Write&) = delete;

 private:
  StateStore& store_;
  bool own_;
  bool finished_ = false;
};

void StateStore::defer_commits(std::function<void()> schedule) {
  commit();
  schedule_commit_ = std::move(schedule);
}

void StateStore::open_batch() {
  if (batch_open_) return;
  Statement(db_, prepared("BEGIN")).step();
  batch_open_ = true;
  schedule_commit_();
}

void StateStore::commit() {
  if (!batch_open_) return;
  batch_open_ = false;
  if (sqlite3_get_autocommit(db_)) {  // already rolled back by SQLite
    saved_states_.clear();
    return;
  }
  try {
    Statement(db_, prepared("COMMIT")).step();
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    saved_states_.clear();  // what they remember was not kept
    throw;
  }
}

StateStore::~StateStore() {
  try {
    commit();
  } catch (const std::exception&) {
    // Closing regardless: what was not committed is what a crash would lose.
  }
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* StateStore::prepared(const char* sql) const {
  auto [it, inserted] = statements_.try_emplace(sql, nullptr);
  if (!inserted) return it->second;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &it->second, nullptr) != SQLITE_OK) {
    statements_.erase(it);
    throw StoreError(fmt::format("tend: database: cannot prepare \"{}\": {}", sql, sqlite3_errmsg(db_)));
  }
  return it->second;
}

std::optional<TaskState> StateStore::saved_state(TaskId id) const {
  if (auto it = saved_states_.find(id); it != saved_states_.end()) return it->second;
  Statement q(db_, prepared("SELECT state FROM tasks WHERE id = ?"));
  q.bind(1, static_cast<std::int64_t>(id));
  if (!q.step()) return std::nullopt;
  auto state = parse_task_state(q.text(0));
  if (state) saved_states_.emplace(id, *state);
  return state;
}

void StateStore::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : "unknown error";
    sqlite3_free(error);
    throw StoreError(fmt::format("tend: database {}: {}", path_.string(), why));
  }
}

void StateStore::save(const TaskSpec& spec, const TaskStatus& status) {
  const std::string state(to_string(status.state));
  const std::optional<TaskState> saved = saved_state(status.id);
  const std::string status_text =
      status_to_json(status, spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Write tx(*this);
  if (saved) {
    // A task's spec never changes once it is recorded: only its status is written again.
    Statement update(db_, prepared("UPDATE tasks SET status = ?, state = ? WHERE id = ?"));
    update.bind(1, status_text).bind(2, state).bind(3, static_cast<std::int64_t>(status.id)).step();
  } else {
    Statement upsert(db_, prepared("INSERT INTO tasks (id, spec, status, state) VALUES (?, ?, ?, ?) "
                                   "ON CONFLICT(id) DO UPDATE SET spec = excluded.spec, status = excluded.status, "
                                   "state = excluded.state"));
    upsert.bind(1, static_cast<std::int64_t>(status.id)).bind(2, spec_to_json(spec).dump());
    upsert.bind(3, status_text).bind(4, state);
    upsert.step();
  }
  if (saved != status.state) {
    Statement t(db_, prepared("INSERT INTO transitions (task_id, at, state, reason) VALUES (?, ?, ?, ?)"));
    t.bind(1, static_cast<std::int64_t>(status.id)).bind(2, format_time(Clock::now()));
    t.bind(3, state).bind(4, status.reason);
    t.step();
  }
  tx.done();
  saved_states_[status.id] = status.state;
}

void StateStore::save_spec(TaskId id, const TaskSpec& spec) {
  Write tx(*this);
  Statement update(db_, prepared("UPDATE tasks SET spec = ? WHERE id = ?"));
  update.bind(1, spec_to_json(spec).dump()).bind(2, static_cast<std::int64_t>(id)).step();
  tx.done();
}

void StateStore::remove(TaskId id) {
  saved_states_.erase(id);
  Write tx(*this);
  Statement(db_, prepared("DELETE FROM tasks WHERE id = ?")).bind(1, static_cast<std::int64_t>(id)).step();
  Statement(db_, prepared("DELETE FROM transitions WHERE task_id = ?")).bind(1, static_cast<std::int64_t>(id)).step();
  tx.done();
}

std::vector<StoredTask> StateStore::load() const {
  std::vector<StoredTask> tasks;
  Statement q(db_, prepared("SELECT spec, status FROM tasks ORDER BY id"));
  while (q.step()) {
    try {
      tasks.push_back({spec_from_json(parse_json(q.text(0))), status_from_json(parse_json(q.text(1)))});
    } catch (const std::exception& e) {
      throw StoreError(fmt::format("tend: database {}: a task record cannot be read: {}", path_.string(), e.what()));
    }
  }
  return tasks;
}

std::vector<Transition> StateStore::transitions(TaskId id) const {
  std::vector<Transition> result;
  Statement q(db_, prepared("SELECT at, state, reason FROM transitions WHERE task_id = ? ORDER BY rowid"));
  q.bind(1, static_cast<std::int64_t>(id));
  while (q.step()) {
    result.push_back({parse_time(q.text(0)).value_or(Clock::time_point{}),
                      parse_task_state(q.text(1)).value_or(TaskState::lost), q.text(2)});
  }
  return result;
}

void StateStore::set_setting(const std::string& key, const std::string& value) {
  Write tx(*this);
  Statement q(db_, prepared("INSERT INTO settings (key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value"));
  q.bind(1, key).bind(2, value).step();
  tx.done();
}

void StateStore::remove_setting(const std::string& key) {
  Write tx(*this);
  Statement q(db_, prepared("DELETE FROM settings WHERE key = ?"));
  q.bind(1, key).step();
  tx.done();
}

void StateStore::put_record(const std::string& collection, const std::string& key, const std::string& value) {
  Write tx(*this);
  Statement q(db_, prepared("INSERT INTO records (collection, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT(collection, key) DO UPDATE SET value = excluded.value"));
  q.bind(1, collection).bind(2, key).bind(3, value).step();
  tx.done();
}

void StateStore::remove_record(const std::string& collection, const std::string& key) {
  Write tx(*this);
  Statement q(db_, prepared("DELETE FROM records WHERE collection = ? AND key = ?"));
  q.bind(1, collection).bind(2, key).step();
  tx.done();
}

std::vector<std::pair<std::string, std::string>> StateStore::records(const std::string& collection) const {
  Statement q(db_, prepared("SELECT key, value FROM records WHERE collection = ? ORDER BY rowid"));
  q.bind(1, collection);
  std::vector<std::pair<std::string, std::string>> out;
  while (q.step()) out.emplace_back(q.text(0), q.text(1));
  return out;
}

std::optional<std::string> StateStore::setting(const std::string& key) const {
  Statement q(db_, prepared("SELECT value FROM settings WHERE key = ?"));
  q.bind(1, key);
  if (q.step()) return q.text(0);
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> StateStore::settings_with_prefix(const std::string& prefix) const {
  std::vector<std::pair<std::string, std::string>> result;
  Statement q(db_, prepared("SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key"));
  q.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix);
  while (q.step()) result.emplace_back(q.text(0), q.text(1));
  return result;
}

}  // namespace tend::store
