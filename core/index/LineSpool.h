#pragma once

#include <functional>
#include <string_view>

#include "index/TempDatabase.h"

namespace vellum::index {

// Lines of text held in a temporary database rather than in memory, for output that can only be
// written once everything is known: an export's CDXJ lines, read back sorted, and its pages,
// read back in the order they came. Memory stays within a few MiB however many lines are held.
class LineSpool {
 public:
  LineSpool();

  // A line of the sorted set, placed by `key`, then `rank`, then the line itself, each compared
  // byte by byte as std::string compares.
  void add_sorted(std::string_view key, std::string_view rank, std::string_view line);
  // A line of the list kept in the order lines are added.
  void add(std::string_view line);

  void each_sorted(const std::function<void(std::string_view)>& each_line);
  void each(const std::function<void(std::string_view)>& each_line);

 private:
  void read(sqlite3_stmt* st, const std::function<void(std::string_view)>& each_line);

  TempDatabase db_;
  sqlite3_stmt* add_sorted_ = nullptr;
  sqlite3_stmt* add_ = nullptr;
  sqlite3_stmt* read_sorted_ = nullptr;
  sqlite3_stmt* read_listed_ = nullptr;
};

}  // namespace vellum::index
