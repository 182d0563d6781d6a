#include "tend/store/state_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <cstring>
#include <unistd.h>

#include <fmt/format.h>

#include "tend/store/task_codec.hpp"

namespace tend::store {
namespace {

// A prepared statement, finalized when it goes.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) {
      throw StoreError(fmt::format("tend: database: cannot prepare \"{}\": {}", sql, sqlite3_errmsg(db)));
    }
  }
  ~Statement() { sqlite3_finalize(stmt_); }
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
  sqlite3_stmt* stmt_ = nullptr;
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

StateStore::~StateStore() { sqlite3_close(db_); }

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
  std::string previous;
  {
    Statement q(db_, "SELECT state FROM tasks WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(status.id));
    if (q.step()) previous = q.text(0);
  }
  exec("BEGIN");
  try {
    Statement upsert(db_,
                     "INSERT INTO tasks (id, spec, status, state) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                     "spec = excluded.spec, status = excluded.status, state = excluded.state");
    upsert.bind(1, static_cast<std::int64_t>(status.id))
        .bind(2, spec_to_json(spec).dump())
        .bind(3, status_to_json(status, spec).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
        .bind(4, state);
    upsert.step();
    if (previous != state) {
      Statement t(db_, "INSERT INTO transitions (task_id, at, state, reason) VALUES (?, ?, ?, ?)");
      t.bind(1, static_cast<std::int64_t>(status.id)).bind(2, format_time(Clock::now())).bind(3, state).bind(4, status.reason);
      t.step();
    }
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void StateStore::remove(TaskId id) {
  Statement a(db_, "DELETE FROM tasks WHERE id = ?");
  a.bind(1, static_cast<std::int64_t>(id)).step();
  Statement b(db_, "DELETE FROM transitions WHERE task_id = ?");
  b.bind(1, static_cast<std::int64_t>(id)).step();
}

std::vector<StoredTask> StateStore::load() const {
  std::vector<StoredTask> tasks;
  Statement q(db_, "SELECT spec, status FROM tasks ORDER BY id");
  while (q.step()) {
    try {
      tasks.push_back({spec_from_json(nlohmann::json::parse(q.text(0))),
                       status_from_json(nlohmann::json::parse(q.text(1)))});
    } catch (const std::exception& e) {
      throw StoreError(fmt::format("tend: database {}: a task record cannot be read: {}", path_.string(), e.what()));
    }
  }
  return tasks;
}

std::vector<Transition> StateStore::transitions(TaskId id) const {
  std::vector<Transition> result;
  Statement q(db_, "SELECT at, state, reason FROM transitions WHERE task_id = ? ORDER BY rowid");
  q.bind(1, static_cast<std::int64_t>(id));
  while (q.step()) {
    result.push_back({parse_time(q.text(0)).value_or(Clock::time_point{}),
                      parse_task_state(q.text(1)).value_or(TaskState::lost), q.text(2)});
  }
  return result;
}

void StateStore::set_setting(const std::string& key, const std::string& value) {
  Statement q(db_, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  q.bind(1, key).bind(2, value).step();
}

void StateStore::put_record(const std::string& collection, const std::string& key, const std::string& value) {
  Statement q(db_, "INSERT INTO records (collection, key, value) VALUES (?, ?, ?) "
                   "ON CONFLICT(collection, key) DO UPDATE SET value = excluded.value");
  q.bind(1, collection).bind(2, key).bind(3, value).step();
}

void StateStore::remove_record(const std::string& collection, const std::string& key) {
  Statement q(db_, "DELETE FROM records WHERE collection = ? AND key = ?");
  q.bind(1, collection).bind(2, key).step();
}

std::vector<std::pair<std::string, std::string>> StateStore::records(const std::string& collection) const {
  Statement q(db_, "SELECT key, value FROM records WHERE collection = ? ORDER BY rowid");
  q.bind(1, collection);
  std::vector<std::pair<std::string, std::string>> out;
  while (q.step()) out.emplace_back(q.text(0), q.text(1));
  return out;
}

std::optional<std::string> StateStore::setting(const std::string& key) const {
  Statement q(db_, "SELECT value FROM settings WHERE key = ?");
  q.bind(1, key);
  if (q.step()) return q.text(0);
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> StateStore::settings_with_prefix(const std::string& prefix) const {
  std::vector<std::pair<std::string, std::string>> result;
  Statement q(db_, "SELECT key, value FROM settings WHERE substr(key, 1, ?) = ? ORDER BY key");
  q.bind(1, static_cast<std::int64_t>(prefix.size())).bind(2, prefix);
  while (q.step()) result.emplace_back(q.text(0), q.text(1));
  return result;
}

}  // namespace tend::store
