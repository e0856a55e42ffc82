#include "index/LineSpool.h"

namespace vellum::index {

LineSpool::LineSpool() : db_("the lines of an export") {
  db_.exec("CREATE TABLE sorted(key BLOB, rank BLOB, line BLOB)");
  db_.exec("CREATE TABLE listed(line BLOB)");
  db_.exec("BEGIN");
  add_sorted_ = db_.prepare("INSERT INTO sorted VALUES(?,?,?)");
  add_ = db_.prepare("INSERT INTO listed VALUES(?)");
  read_sorted_ = db_.prepare("SELECT line FROM sorted ORDER BY key, rank, line");
  read_listed_ = db_.prepare("SELECT line FROM listed ORDER BY rowid");
}

void LineSpool::add_sorted(std::string_view key, std::string_view rank, std::string_view line) {
  TempDatabase::bind(add_sorted_, 1, key);
  TempDatabase::bind(add_sorted_, 2, rank);
  TempDatabase::bind(add_sorted_, 3, line);
  db_.run(add_sorted_);
}

void LineSpool::add(std::string_view line) {
  TempDatabase::bind(add_, 1, line);
  db_.run(add_);
}

void LineSpool::read(sqlite3_stmt* st, const std::function<void(std::string_view)>& each_line) {
  try {
    while (db_.next(st)) each_line(TempDatabase::column(st, 0));
  } catch (...) {
    TempDatabase::reset(st);
    throw;
  }
}

void LineSpool::each_sorted(const std::function<void(std::string_view)>& each_line) {
  read(read_sorted_, each_line);
}

void LineSpool::each(const std::function<void(std::string_view)>& each_line) {
  read(read_listed_, each_line);
}

}  // namespace vellum::index
