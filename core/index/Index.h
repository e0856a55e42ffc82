// The capture index: SQLite (WAL), derived data only. Everything in it can be rebuilt from the
// WARC files (`vellum reindex`). This is the seam where another index (PostgreSQL) plugs in
// later, so it speaks in rows, not SQL.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace vellum::index {

// One capture: a response or revisit record, with the request record sent for it.
struct CaptureRow {
  std::string capture_id;      // UUID of the response/revisit record
  std::string record_id;       // "<urn:uuid:...>"
  std::string record_type;     // "response" or "revisit"
  std::string url;             // WARC-Target-URI
  std::string surt;            // canonical key (util::surt)
  std::string date;            // WARC-Date, "YYYY-MM-DDThh:mm:ss.ffffffZ" (sorts as text)
  int status = 0;              // HTTP status
  std::string mime;            // media type of the payload ("text/html")
  std::string payload_digest;  // "sha1:..."
  std::string refers_to;       // revisits: record id of the record holding the payload
  // A revisit without WARC-Refers-To: its WARC-Refers-To-Target-URI, the URI whose response
  // with the revisit's payload digest it repeats (empty: none given, its own URI).
  std::string original_uri;
  std::string location;  // absolute redirect target of a 3xx, else empty
  std::string ip;
  bool truncated = false;
  std::string file;          // WARC file name in warc/ (final name, without ".open")
  std::uint64_t offset = 0;  // stored bytes of the response/revisit record
  std::uint64_t length = 0;
  std::uint64_t request_offset = 0;  // stored bytes of its request record (length 0: none)
  std::uint64_t request_length = 0;
};

// The article extracted from a capture: where its metadata record is, and its JSON.
struct ArticleRow {
  std::string capture_id;
  std::string record_id;  // of the metadata record
  std::string file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::string date;  // WARC-Date of the metadata record (the newest one wins)
  std::string title;
  std::string published;
  std::string source_domain;
  std::string extractor;
  // Its `lead` and `body_text` for the full-text index (empty when null); written, not read back.
  // The article JSON itself is not kept in the index: it is read from the record (file, offset).
  std::string lead;
  std::string body_text;
};

struct FileRow {
  std::string name;              // final name
  std::uint64_t indexed_to = 0;  // every record ending at or before this offset is indexed
  bool closed = false;
};

struct ListFilter {
  std::string domain;        // host or any parent domain ("example.com" matches www.example.com)
  std::string since, until;  // WARC-Date bounds (inclusive), same text form
  std::string surt;          // exact canonical key
  std::int64_t limit = -1;
  bool newest_first = true;
};

// A full-text search over article titles, leads and bodies (see SearchQuery.h for the query
// language). Filters apply to the capture whose article matched.
struct SearchQuery {
  std::string text;                               // as the user typed it
  std::string domain;                             // host or any parent domain, as in ListFilter
  std::string since, until;                       // WARC-Date bounds (inclusive)
  std::int64_t limit = 20;                        // negative: no limit
  std::string mark_open = "[", mark_close = "]";  // around matched words in the snippet
};

// One URL that matched: the latest of its captures whose article matches.
struct SearchHit {
  CaptureRow capture;
  std::string title;
  std::string published;
  std::string snippet;  // a few words around the best match, on one line, matches marked
  double score = 0;     // relevance (bm25, title weighted most); higher is better
};

// The index file is not an SQLite database, or SQLite found it malformed. The index is derived
// data: it can be set aside and rebuilt from the WARC files.
class IndexDamaged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Index {
 public:
  // Told what a long step is doing: once when it starts and about once a second while it runs.
  using BusyHook = std::function<void(const std::string& what)>;

  // Opens (creating when writable) the index file. Read-only opening never creates anything
  // and fails with a message that says to run `vellum reindex` when the file is missing. A
  // writable open upgrades an index of an older schema in place, telling `busy` meanwhile.
  static std::unique_ptr<Index> open(const std::filesystem::path& file, bool writable,
                                     const BusyHook& busy = {});
  // Moves everything in an index file's -wal into the file itself and empties the -wal
  // (checkpoint, TRUNCATE), touching nothing else. False when the file is missing, cannot be
  // opened, or a reader kept the checkpoint from finishing.
  static bool checkpoint(const std::filesystem::path& file);
  ~Index();
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  void begin();
  // Moves every change into the main file and leaves WAL mode, so that the file can be renamed
  // on its own. Only when no other connection has the file open.
  void leave_wal();
  // A read transaction: every query until commit() sees the index as the first one found it,
  // whatever writers commit meanwhile.
  void begin_read();
  void commit();
  void rollback();

  void add_capture(const CaptureRow& row);  // replaces a row with the same record_id
  // Removes rows of `file` whose records start at or past `offset` (torn tail cut away).
  void remove_from(const std::string& file, std::uint64_t offset);
  void remove_file(const std::string& file);
  void clear();

  // By capture id, or by a unique prefix of at least 8 characters of one.
  std::optional<CaptureRow> by_capture_id(const std::string& id_or_prefix);
  std::optional<CaptureRow> by_record_id(const std::string& record_id);
  // The first `limit` capture ids that start with `prefix`, in order.
  std::vector<std::string> capture_ids_starting(const std::string& prefix, std::size_t limit);
  // Which of the captures of one key a look-up wants (those of one page, say).
  using Prefer = std::function<bool(const CaptureRow&)>;
  // Latest capture with this canonical key at or before `at_or_before` (WARC-Date text; empty:
  // no bound); with `prefer`, the latest it accepts, else the latest of all.
  std::optional<CaptureRow> latest(const std::string& surt, const std::string& at_or_before = {},
                                   const Prefer& prefer = {});
  // Latest response (not revisit) with this canonical key at or before `at_or_before` whose
  // payload digest is one of `digests` (the forms it may be written in): the original of a
  // revisit that names none.
  std::optional<CaptureRow> latest_response_with_payload(const std::string& surt,
                                                         const std::vector<std::string>& digests,
                                                         const std::string& at_or_before);
  // Earliest capture with this canonical key at or after `at_or_after` (WARC-Date text); with
  // `prefer`, the earliest it accepts, else the earliest of all.
  std::optional<CaptureRow> first_after(const std::string& surt, const std::string& at_or_after,
                                        const Prefer& prefer = {});
  std::vector<CaptureRow> list(const ListFilter& filter);
  // The rows `list` returns, handed to `each_row` one at a time as they are read (none kept).
  // `each_row` may query the index meanwhile.
  void each(const ListFilter& filter, const std::function<void(CaptureRow&&)>& each_row);
  std::uint64_t capture_count();
  // How many captures each WARC file holds, by file name.
  std::map<std::string, std::uint64_t> captures_per_file();

  // Replaces the article of the same capture when this one is at least as new.
  void add_article(const ArticleRow& row);
  std::optional<ArticleRow> article(const std::string& capture_id);
  // Every article whose record is in `file`, by offset (recovery writes their sidecars).
  std::vector<ArticleRow> articles_in_file(const std::string& file);
  // An article's title and body text as the full-text index holds them.
  struct ArticleText {
    std::string title;
    std::string body;
  };
  std::optional<ArticleText> article_text(const std::string& capture_id);

  // Best matches first, one per canonical URL. Throws SearchQueryError for a malformed query.
  std::vector<SearchHit> search(const SearchQuery& query);

  // What SQLite's integrity_check finds wrong with the index file (at most 20 lines), and damage it
  // does not look at (a header SQLite would not write to, a full-text index it cannot read);
  // empty when nothing is.
  std::vector<std::string> damage();

  std::optional<FileRow> file(const std::string& name);
  std::vector<FileRow> files();
  void set_file(const FileRow& row);

 private:
  explicit Index(sqlite3* db);
  // `immutable`: read-only, read as the main file is, without SQLite's shared-memory file.
  static std::unique_ptr<Index> open_as(const std::filesystem::path& file, bool writable,
                                        bool immutable, const BusyHook& busy);
  sqlite3_stmt* prepare(const char* sql);
  void exec(const char* sql);
  // One step of a statement: SQLITE_ROW or SQLITE_DONE. Anything else throws (IndexDamaged,
  // with the way out, when SQLite finds the file malformed): an error is never taken for "no
  // such row" or for the end of the rows.
  int step(sqlite3_stmt* st, const char* what);
  [[noreturn]] void fail(const std::string& what);
  bool has_column(const char* table, const char* column);
  // Schema 6: capture ids an earlier build took from a record ID of another form (or in upper
  // case) recomputed with util::capture_id_of, in captures and articles alike.
  void canonicalise_capture_ids();
  // Why the full-text index cannot be searched; nullopt when it can.
  std::optional<std::string> full_text_damage();
  // SQLite's own check of the full-text index, and that it holds one text per article; nullopt
  // when nothing is wrong (or it could not be checked, which is logged).
  std::optional<std::string> full_text_check();
  std::vector<CaptureRow> query_rows(sqlite3_stmt* st);
  // Of the captures `sql` selects in the order wanted (no LIMIT; `params` bound in turn), the
  // first `prefer` accepts (without one: the first), else the first.
  std::optional<CaptureRow> preferred(const std::string& sql,
                                      const std::vector<std::string>& params, const Prefer& prefer);
  sqlite3* db_;
  int version_;          // the schema version of the file (an older one only when reading)
  std::string columns_;  // the capture columns as the file's version holds them
};

// A read transaction of `idx` for the life of this object (Index::begin_read), rolled back when
// the object goes away without end(): an error on the way leaves the connection ready for the
// next use.
class ReadTransaction {
 public:
  explicit ReadTransaction(Index& idx) : idx_(idx) { idx_.begin_read(); }
  ~ReadTransaction() {
    if (!open_) return;
    try {
      idx_.rollback();
    } catch (...) {  // the error that ended the transaction is the one to report
    }
  }
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  void end() {
    idx_.commit();
    open_ = false;
  }

 private:
  Index& idx_;
  bool open_ = true;
};

}  // namespace vellum::index
