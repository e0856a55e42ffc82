// What `vellum verify` has seen in the WARC files, and the index rows it compares them with,
// kept in a temporary SQLite database rather than in memory (held in memory, an archive of a
// million captures took some 4 GB). Internal to core/archive/Verifier.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "archive/RecordBuilder.h"
#include "index/Index.h"
#include "index/TempDatabase.h"

namespace vellum::archive {

// A record seen in a WARC file: where it is, and what the checks read of it.
struct Seen {
  std::string file;
  std::uint64_t offset = 0;
  std::string type;
  index::CaptureRow fields;  // response and revisit: what the record says, as the index reads it
  RecordLink link;           // response, revisit and request: what pairs a request with it
};

// Response and revisit records and article records by record ID, request records by their
// place ("file:offset"), and the index rows.
class SeenRecords {
 public:
  SeenRecords();

  enum Kind : std::int64_t { capture = 0, article = 1, request = 2 };

  // Adds a record under `key` unless one is there already; false when one was (kept as it was).
  bool add(Kind kind, const std::string& key, const Seen& s);
  std::optional<Seen> find(Kind kind, const std::string& key);
  void mark_indexed(Kind kind, const std::string& key);
  // The records of `kind` not marked indexed, in the order they were added; `each` returns
  // false to stop.
  void each_unindexed(Kind kind, const std::function<bool(const std::string&, const Seen&)>& each);

  // The index rows (with the article row the index holds for each), in the order added.
  void add_row(const index::CaptureRow& row, const std::optional<index::ArticleRow>& article);
  void each_row(const std::function<void(const index::CaptureRow&,
                                         const std::optional<index::ArticleRow>&)>& each);

 private:
  index::TempDatabase db_;
  sqlite3_stmt* add_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* mark_ = nullptr;
  sqlite3_stmt* unindexed_ = nullptr;
  sqlite3_stmt* add_row_ = nullptr;
  sqlite3_stmt* rows_ = nullptr;
};

}  // namespace vellum::archive
