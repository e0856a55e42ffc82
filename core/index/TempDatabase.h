#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace vellum::index {

// A private temporary SQLite database: the working space of a command whose bookkeeping grows
// with the archive (an export's CDXJ lines, what `verify` has seen), kept on disk rather than in
// memory. SQLite creates the file in its temporary directory (SQLITE_TMPDIR, else TMPDIR, else
// /var/tmp, /usr/tmp, /tmp) and removes its name at once, so nothing is left behind however the
// process ends; memory stays within SQLite's page cache (a few MiB). No journal, no syncing:
// nothing in it outlives the process. Errors throw std::runtime_error naming `purpose`.
class TempDatabase {
 public:
  explicit TempDatabase(std::string purpose);
  ~TempDatabase();
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  void exec(const char* sql);
  // A statement finalised with the database.
  sqlite3_stmt* prepare(const char* sql);

  // Values are bound and read as BLOBs: compared with memcmp, then by length (the order of
  // std::string's operator<), and returned byte for byte.
  static void bind(sqlite3_stmt* st, int i, std::string_view bytes);
  static void bind(sqlite3_stmt* st, int i, std::int64_t value);
  static std::string_view column(sqlite3_stmt* st, int i);
  static std::int64_t column_int(sqlite3_stmt* st, int i);

  // Runs a statement that returns no rows, and makes it ready for the next use. Returns how many
  // rows it inserted, changed or deleted.
  int run(sqlite3_stmt* st);
  // The next row of a query: true with a row, false at the end (the statement is then reset).
  bool next(sqlite3_stmt* st);
  // Makes a query ready for the next use before its rows are all read.
  static void reset(sqlite3_stmt* st);

 private:
  [[noreturn]] void fail(const std::string& what);

  std::string purpose_;
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> statements_;
};

}  // namespace vellum::index
