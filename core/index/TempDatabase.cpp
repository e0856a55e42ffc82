#include "index/TempDatabase.h"

#include <sqlite3.h>

#include <limits>
#include <stdexcept>

namespace vellum::index {

namespace {

// SQLite keeps the database in its page cache until it outgrows it; this many KiB.
constexpr int kCacheKiB = 8192;

}  // namespace

TempDatabase::TempDatabase(std::string purpose) : purpose_(std::move(purpose)) {
  // An empty name: a private database in a temporary file, deleted when closed.
  if (sqlite3_open_v2("", &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot create a temporary database for " + purpose_ + ": " + why);
  }
  try {
    // The sorter's spill files and any temporary tables on disk too, where SQLite's build lets a
    // program choose. (Where the database itself lives was settled when it was opened: on disk
    // with Debian's SQLite, which keeps temporary data in files unless told otherwise.)
    exec("PRAGMA temp_store=FILE");
    exec("PRAGMA journal_mode=OFF");
    exec("PRAGMA synchronous=OFF");
    exec(("PRAGMA cache_size=-" + std::to_string(kCacheKiB)).c_str());
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

TempDatabase::~TempDatabase() {
  for (sqlite3_stmt* st : statements_) sqlite3_finalize(st);
  sqlite3_close(db_);
}

void TempDatabase::fail(const std::string& what) {
  // The usual cause is a full temporary directory: say which directory SQLite uses.
  throw std::runtime_error("temporary database for " + purpose_ + ": " + what + ": " +
                           sqlite3_errmsg(db_) +
                           " (SQLite keeps it in SQLITE_TMPDIR, TMPDIR, /var/tmp or /tmp, the "
                           "first that is set or exists; expected room there)");
}

void TempDatabase::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
}

sqlite3_stmt* TempDatabase::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) fail(sql);
  statements_.push_back(st);
  return st;
}

void TempDatabase::bind(sqlite3_stmt* st, int i, std::string_view bytes) {
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    throw std::length_error("temporary database: a value of " + std::to_string(bytes.size()) +
                            " bytes, expected less than 2 GiB");
  // A null pointer would bind SQL NULL, not an empty value.
  if (sqlite3_bind_blob(st, i, bytes.data() ? bytes.data() : "", static_cast<int>(bytes.size()),
                        SQLITE_TRANSIENT) != SQLITE_OK)
    throw std::runtime_error(std::string("temporary database: cannot bind a value: ") +
                             sqlite3_errmsg(sqlite3_db_handle(st)));
}

void TempDatabase::bind(sqlite3_stmt* st, int i, std::int64_t value) {
  if (sqlite3_bind_int64(st, i, value) != SQLITE_OK)
    throw std::runtime_error(std::string("temporary database: cannot bind a value: ") +
                             sqlite3_errmsg(sqlite3_db_handle(st)));
}

std::string_view TempDatabase::column(sqlite3_stmt* st, int i) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(st, i));
  const int n = sqlite3_column_bytes(st, i);
  return p ? std::string_view(p, static_cast<std::size_t>(n)) : std::string_view();
}

std::int64_t TempDatabase::column_int(sqlite3_stmt* st, int i) {
  return sqlite3_column_int64(st, i);
}

int TempDatabase::run(sqlite3_stmt* st) {
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) fail(sqlite3_sql(st));
  return sqlite3_changes(db_);
}

bool TempDatabase::next(sqlite3_stmt* st) {
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) return true;
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE) fail(sqlite3_sql(st));
  return false;
}

void TempDatabase::reset(sqlite3_stmt* st) {
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
}

}  // namespace vellum::index
