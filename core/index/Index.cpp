#include "index/Index.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/statvfs.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "index/SearchQuery.h"
#include "util/Idna.h"
#include "util/Text.h"
#include "util/Url.h"
#include "util/Uuid.h"

namespace vellum::index {

namespace {

// SQLite found the file is not a database, or a malformed page in it.
bool malformed(sqlite3* db) {
  const int code = sqlite3_errcode(db) & 0xff;
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

// SQLite reads a file whose header gives a format version it does not know (bytes 18 and 19:
// 1 rollback journal, 2 WAL) as read-only, or not at all: every write then fails with "attempt
// to write a readonly database", as if the file's permissions were wrong. Empty when the header
// is fine or there is none yet. The header is read through SQLite's own handle of the file:
// opening and closing another would drop the locks SQLite holds on it (POSIX locks belong to
// the process, and closing any descriptor of the file releases them all).
std::string header_damage(sqlite3* db) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) != SQLITE_OK || !file ||
      !file->pMethods)
    return {};
  unsigned char header[100];
  if (file->pMethods->xRead(file, header, sizeof header, 0) != SQLITE_OK) return {};
  if (std::memcmp(header, "SQLite format 3", 16) != 0) return {};  // SQLite says "not a database"
  for (const int at : {18, 19}) {
    if (header[at] != 1 && header[at] != 2)
      return "header byte " + std::to_string(at) + " (file format " +
             (at == 18 ? "write" : "read") + " version) is " + std::to_string(header[at]) +
             ", expected 1 or 2";
  }
  return {};
}

bool on_read_only_file_system(const std::filesystem::path& file) {
  struct statvfs v {};
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : ".";
  return ::statvfs(dir.c_str(), &v) == 0 && (v.f_flag & ST_RDONLY) != 0;
}

// "file:" and the path with what a URI cannot hold percent-encoded (SQLite URI file names).
std::string sqlite_file_uri(const std::filesystem::path& file) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "file:";
  for (char ch : std::filesystem::absolute(file).string()) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || std::strchr("/-._~", ch)) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

// (A writer opening the archive sets aside an index whose damage shows when it is opened, but
// not damage only a query meets, so the hint does not promise it.)
constexpr const char* kDamagedHint =
    "; the index is damaged: `vellum reindex` rebuilds it from the WARC files";

// 3: full-text search (articles_text).
// 4: articles no longer keep the article JSON (read from its metadata record instead).
// 5: captures.original_uri (where a revisit without WARC-Refers-To finds its original).
// 6: every capture id a lower-case UUID (util::capture_id_of): one a record ID of another form
//    or an upper-case UUID gave before is recomputed.
constexpr int kSchemaVersion = 6;
// The oldest version a reader takes as it is: a version 4 index lacks only original_uri, which
// reads as empty there (the revisit's own URI) as every earlier version of Vellum read it.
constexpr int kOldestReadable = 4;

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS captures (
  capture_id     TEXT PRIMARY KEY,
  record_id      TEXT NOT NULL UNIQUE,
  record_type    TEXT NOT NULL,
  url            TEXT NOT NULL,
  surt           TEXT NOT NULL,
  host           TEXT NOT NULL,
  date           TEXT NOT NULL,
  status         INTEGER NOT NULL,
  mime           TEXT NOT NULL,
  payload_digest TEXT NOT NULL,
  refers_to      TEXT NOT NULL,
  original_uri   TEXT NOT NULL DEFAULT '',
  location       TEXT NOT NULL,
  ip             TEXT NOT NULL,
  truncated      INTEGER NOT NULL,
  file           TEXT NOT NULL,
  offset         INTEGER NOT NULL,
  length         INTEGER NOT NULL,
  request_offset INTEGER NOT NULL,
  request_length INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS captures_by_surt ON captures(surt, date);
CREATE INDEX IF NOT EXISTS captures_by_date ON captures(date);
CREATE INDEX IF NOT EXISTS captures_by_file ON captures(file, offset);
CREATE TABLE IF NOT EXISTS articles (
  capture_id    TEXT PRIMARY KEY,
  record_id     TEXT NOT NULL,
  file          TEXT NOT NULL,
  offset        INTEGER NOT NULL,
  length        INTEGER NOT NULL,
  date          TEXT NOT NULL,
  title         TEXT NOT NULL,
  published     TEXT NOT NULL,
  source_domain TEXT NOT NULL,
  extractor     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_file ON articles(file, offset);
CREATE TABLE IF NOT EXISTS files (
  name       TEXT PRIMARY KEY,
  indexed_to INTEGER NOT NULL,
  closed     INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS articles_text USING fts5(
  title, lead, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS articles_text_delete AFTER DELETE ON articles BEGIN
  DELETE FROM articles_text WHERE rowid = old.rowid;
END;
-- add_article writes the text row with its article row, from text it already has; insert and
-- update triggers doing it (earlier versions made them) parsed the stored JSON once more.
DROP TRIGGER IF EXISTS articles_text_insert;
DROP TRIGGER IF EXISTS articles_text_update;
)sql";

// Upgrading an index of version 1 or 2 (articles with their JSON, no full-text table): the
// full-text table is filled from the JSON before the column goes.
const char* kFillText = R"sql(
DELETE FROM articles_text;
INSERT INTO articles_text(rowid, title, lead, body)
  SELECT rowid, title,
         CASE WHEN json_valid(json) THEN coalesce(json_extract(json, '$.lead'), '') ELSE '' END,
         CASE WHEN json_valid(json) THEN coalesce(json_extract(json, '$.body_text'), '') ELSE ''
           END
  FROM articles;
)sql";

// Upgrading an index of versions 1 to 3: the article JSON leaves the index (it was half of its
// size); a view of versions 2 and 3 read it.
const char* kDropJson = R"sql(
DROP VIEW IF EXISTS articles_text_source;
ALTER TABLE articles DROP COLUMN json;
)sql";

// Upgrading an index of versions 1 to 4. Rows already there keep it empty: only a revisit that
// names no original has one, and `vellum reindex` reads it from the record.
const char* kAddOriginalUri =
    "ALTER TABLE captures ADD COLUMN original_uri TEXT NOT NULL DEFAULT ''";

// bm25 weights of the full-text columns: title, lead, body.
constexpr const char* kTextWeights = "10.0, 3.0, 1.0";

const char* kColumns =
    "capture_id, record_id, record_type, url, surt, date, status, mime, payload_digest, "
    "refers_to, location, ip, truncated, file, offset, length, request_offset, request_length, "
    "original_uri";
// How many there are: what a query selects after them starts at this column.
constexpr int kColumnCount = 19;

// Finalises a prepared statement when it goes out of scope.
struct Stmt {
  sqlite3_stmt* st;
  ~Stmt() { sqlite3_finalize(st); }
  operator sqlite3_stmt*() const { return st; }
};

std::string text(sqlite3_stmt* st, int col) {
  auto p = sqlite3_column_text(st, col);
  return p ? std::string(reinterpret_cast<const char*>(p)) : std::string();
}

// The kColumns of a capture starting at column `c`.
CaptureRow capture_at(sqlite3_stmt* st, int c) {
  CaptureRow r;
  r.capture_id = text(st, c + 0);
  r.record_id = text(st, c + 1);
  r.record_type = text(st, c + 2);
  r.url = text(st, c + 3);
  r.surt = text(st, c + 4);
  r.date = text(st, c + 5);
  r.status = sqlite3_column_int(st, c + 6);
  r.mime = text(st, c + 7);
  r.payload_digest = text(st, c + 8);
  r.refers_to = text(st, c + 9);
  r.location = text(st, c + 10);
  r.ip = text(st, c + 11);
  r.truncated = sqlite3_column_int(st, c + 12) != 0;
  r.file = text(st, c + 13);
  r.offset = static_cast<std::uint64_t>(sqlite3_column_int64(st, c + 14));
  r.length = static_cast<std::uint64_t>(sqlite3_column_int64(st, c + 15));
  r.request_offset = static_cast<std::uint64_t>(sqlite3_column_int64(st, c + 16));
  r.request_length = static_cast<std::uint64_t>(sqlite3_column_int64(st, c + 17));
  r.original_uri = text(st, c + 18);
  return r;
}

// kColumns as an index of `version` holds them (each prefixed with `table.` when given): a
// column it lacks is selected as ''.
std::string columns_of(int version, const std::string& table = {}) {
  std::string out, cols = kColumns;
  std::size_t start = 0;
  while (start < cols.size()) {
    auto end = cols.find(',', start);
    if (end == std::string::npos) end = cols.size();
    auto name = cols.substr(start, end - start);
    name.erase(0, name.find_first_not_of(' '));
    out += out.empty() ? "" : ", ";
    if (name == "original_uri" && version < 5)
      out += "'' AS original_uri";
    else
      out += (table.empty() ? "" : table + ".") + name;
    start = end + 1;
  }
  return out;
}

// The FTS5 form of a checked query: every word and phrase quoted (so punctuation inside words
// is left to the tokenizer), operators and parentheses as they are.
std::string fts5_match(const std::vector<QueryToken>& tokens) {
  using Kind = QueryToken::Kind;
  std::string out;
  const QueryToken* previous = nullptr;
  for (const auto& t : tokens) {
    if (!out.empty()) out += ' ';
    // FTS5 reads two phrases side by side as both, but not a phrase beside parentheses ("a
    // (b OR c)", "(a) b"): there the AND the query implies is written out.
    if (previous && (previous->kind == Kind::kPhrase || previous->kind == Kind::kClose) &&
        (t.kind == Kind::kOpen || (previous->kind == Kind::kClose && t.kind == Kind::kPhrase)))
      out += "AND ";
    previous = &t;
    switch (t.kind) {
      case QueryToken::Kind::kPhrase:
        out += '"';
        for (char c : t.text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
        out += '"';
        if (t.prefix) out += '*';
        break;
      case QueryToken::Kind::kOpen:
        out += '(';
        break;
      case QueryToken::Kind::kClose:
        out += ')';
        break;
      default:
        out += t.text;
    }
  }
  return out;
}

void bind_value(sqlite3_stmt* st, int i, const std::string& s) {
  sqlite3_bind_text(st, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
}
void bind_value(sqlite3_stmt* st, int i, std::int64_t v) {
  sqlite3_bind_int64(st, i, v);
}

// Lower-case host of a URL as it is requested (IDNA form), for domain filters; empty when the
// URL does not parse.
std::string host_of(const std::string& url) {
  auto u = util::parse_request_url(url);
  return u ? u->host : std::string();
}

// A --domain filter in the form hosts are stored in: lower case, IDNA ("bücher.example" finds
// "xn--bcher-kva.example").
std::string domain_key(const std::string& domain) {
  // " .example.com. " is example.com.
  std::string_view d = domain;
  while (!d.empty() && (d.front() == ' ' || d.front() == '\t' || d.front() == '.'))
    d.remove_prefix(1);
  while (!d.empty() && (d.back() == ' ' || d.back() == '\t' || d.back() == '.')) d.remove_suffix(1);
  // An IPv4 address in any form ("127.1" finds 127.0.0.1) matches that address alone.
  std::string why;
  auto key = util::typed_host(d, &why);
  if (!key) throw std::invalid_argument("domain '" + domain + "': " + why);
  return *key;
}

}  // namespace

namespace {

// Calls a BusyHook from SQLite's progress handler, at most once a second.
struct BusyTicker {
  const Index::BusyHook* hook;
  std::string what;
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();

  static int tick(void* self) {
    auto* t = static_cast<BusyTicker*>(self);
    auto now = std::chrono::steady_clock::now();
    if (now - t->last >= std::chrono::seconds(1)) {
      t->last = now;
      (*t->hook)(t->what);
    }
    return 0;  // never interrupts the statement
  }
};

}  // namespace

namespace {

// Reading the index without SQLite's shared-memory file: as it is in the main file, unlocked.
// Changes still in the -wal file are not seen, which the reader is told.
void warn_reading_as_is(const std::filesystem::path& file, const std::string& why) {
  std::error_code ec;
  const auto wal = std::filesystem::file_size(file.string() + "-wal", ec);
  if (!ec && wal > 0)
    spdlog::warn(
        "{}-wal holds {} bytes of index changes that cannot be applied {}: captures they index "
        "may be missing from what is read; `vellum reindex` on a writable copy sees every "
        "capture",
        file.string(), wal, why);
}

// Opening for reading found no space for the shared-memory file.
struct NoSpaceToRead {};

}  // namespace

std::unique_ptr<Index> Index::open(const std::filesystem::path& file, bool writable,
                                   const BusyHook& busy) {
  if (!writable && !std::filesystem::exists(file))
    throw std::runtime_error("no index at " + file.string() +
                             "; run `vellum reindex` to rebuild it from the WARC files");
  // WAL mode keeps a shared-memory file beside the index, which a read-only file system (a
  // backup snapshot, a read-only mount) cannot hold: the index is read as it is, unlocked,
  // since nothing can change it there.
  if (!writable && on_read_only_file_system(file)) {
    warn_reading_as_is(file, "on a read-only file system");
    return open_as(file, false, true, busy);
  }
  try {
    return open_as(file, writable, false, busy);
  } catch (const NoSpaceToRead&) {
    // A full disk has no room for the shared-memory file either, when no other process holds
    // one open. Reading goes on as on a read-only file system: a writer cannot commit much
    // there meanwhile, and a reading command is short.
    spdlog::warn(
        "no space left on the device of {} for SQLite's shared-memory file: the index "
        "is read as it is on disk",
        file.string());
    warn_reading_as_is(file, "without it");
    return open_as(file, false, true, busy);
  }
}

bool Index::checkpoint(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) return false;
  sqlite3* db = nullptr;
  bool done = false;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) ==
      SQLITE_OK) {
    sqlite3_busy_timeout(db, 10000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      done = sqlite3_column_int(st, 0) == 0;  // not kept busy
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return done;
}

namespace {

// vellum_page_key(url) in SQL: util::page_key, which tells apart the pages of one canonical key
// that differ in case ("/A.html" and "/a.html").
void page_key_function(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* text = sqlite3_value_text(argv[0]);
  const std::string key =
      util::page_key(text ? std::string_view(reinterpret_cast<const char*>(text),
                                             static_cast<std::size_t>(sqlite3_value_bytes(argv[0])))
                          : std::string_view());
  sqlite3_result_text(ctx, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
}

}  // namespace

std::unique_ptr<Index> Index::open_as(const std::filesystem::path& file, bool writable,
                                      bool immutable, const BusyHook& busy) {
  sqlite3* db = nullptr;
  int flags = writable ? (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) : SQLITE_OPEN_READWRITE;
  flags |= SQLITE_OPEN_NOMUTEX;
  std::string name = file.string();
  if (immutable) {
    name = sqlite_file_uri(file) + "?immutable=1";
    flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  }
  if (sqlite3_open_v2(name.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("cannot open index " + file.string() + ": " + msg);
  }
  std::unique_ptr<Index> idx(new Index(db));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_create_function(db, "vellum_page_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                          &page_key_function, nullptr, nullptr);
  auto user_version = [&] {
    Stmt st{idx->prepare("PRAGMA user_version")};
    if (sqlite3_step(st) != SQLITE_ROW)
      throw std::runtime_error(std::string("index: ") + sqlite3_errmsg(db));
    return sqlite3_column_int(st, 0);
  };
  auto set_up = [&] {
    if (writable) {
      idx->exec("PRAGMA journal_mode=WAL");
      idx->exec("PRAGMA synchronous=NORMAL");
      idx->begin();
      try {
        int version = user_version();
        if (version > kSchemaVersion)
          throw std::runtime_error("index " + file.string() + " has schema version " +
                                   std::to_string(version) + ", expected " +
                                   std::to_string(kSchemaVersion) +
                                   " or older; a newer version of Vellum wrote it");
        idx->exec(kSchema);
        // An older index gains what its version lacked, derived from what it already holds. On
        // a large index that takes minutes, so `busy` hears of it once a second meanwhile.
        bool had_json = idx->has_column("articles", "json");
        BusyTicker ticker{&busy, "upgrading the index from schema " + std::to_string(version) +
                                     " to " + std::to_string(kSchemaVersion)};
        if (had_json && busy) {
          busy(ticker.what);
          sqlite3_progress_handler(db, 100000, &BusyTicker::tick, &ticker);
        }
        if (had_json && version < 3) idx->exec(kFillText);
        if (had_json) idx->exec(kDropJson);
        if (!idx->has_column("captures", "original_uri")) idx->exec(kAddOriginalUri);
        if (version >= 1 && version < 6) idx->canonicalise_capture_ids();
        idx->exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
        idx->commit();
        // The space the JSON took goes back to the file system. Best effort: should another
        // process be reading the index now, the space is still reused by the rows to come.
        if (had_json) sqlite3_exec(db, "VACUUM", nullptr, nullptr, nullptr);
        sqlite3_progress_handler(db, 0, nullptr, nullptr);
      } catch (...) {
        sqlite3_progress_handler(db, 0, nullptr, nullptr);
        idx->rollback();
        throw;
      }
    } else {
      int version = user_version();
      if (version > kSchemaVersion)
        throw std::runtime_error("index " + file.string() + " has schema version " +
                                 std::to_string(version) + ", expected " +
                                 std::to_string(kSchemaVersion) +
                                 " or older; a newer version of Vellum wrote it");
      if (version < kOldestReadable)
        throw std::runtime_error("index " + file.string() + " has schema version " +
                                 std::to_string(version) + ", expected " +
                                 std::to_string(kOldestReadable) +
                                 (kOldestReadable + 1 == kSchemaVersion ? " or " : " to ") +
                                 std::to_string(kSchemaVersion) + "; run `vellum reindex`");
      idx->version_ = version;
      idx->columns_ = columns_of(version);
    }
  };
  if (writable)
    if (const std::string damage = header_damage(db); !damage.empty())
      throw IndexDamaged("cannot use index " + file.string() + ": " + damage + kDamagedHint);
  try {
    set_up();
    // Damage to the full-text index's own records shows only when it is used: every article
    // stored would fail.
    if (writable)
      if (auto fts = idx->full_text_damage())
        throw IndexDamaged("cannot use index " + file.string() + ": " + *fts + kDamagedHint);
  } catch (const IndexDamaged&) {
    throw;
  } catch (const std::runtime_error& e) {
    // SQLite's words alone do not say what to do about it.
    const int code = sqlite3_errcode(db) & 0xff;
    if (!writable && !immutable &&
        (code == SQLITE_FULL || (code == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC)))
      throw NoSpaceToRead{};
    const std::string what = "cannot use index " + file.string() + ": " + sqlite3_errmsg(db);
    if (malformed(db)) throw IndexDamaged(what + kDamagedHint);
    if (code == SQLITE_CANTOPEN || code == SQLITE_READONLY || code == SQLITE_PERM)
      throw std::runtime_error(what +
                               "; using an index needs write access to the archive directory "
                               "(SQLite keeps its shared-memory file there): run the command as "
                               "the archive's owner");
    throw;
  }
  return idx;
}

void Index::canonicalise_capture_ids() {
  // Only ids with something but lower-case hex digits and dashes, or of another length, can
  // differ from what capture_id_of gives; the others are left alone without a look.
  std::vector<std::pair<std::string, std::string>> changes;  // old id, new id
  {
    Stmt st{
        prepare("SELECT capture_id, record_id FROM captures"
                " WHERE length(capture_id) != 36 OR capture_id GLOB '*[^0-9a-f-]*'")};
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string old_id = text(st, 0), new_id = util::capture_id_of(text(st, 1));
      if (new_id != old_id) changes.emplace_back(std::move(old_id), std::move(new_id));
    }
  }
  // Two records whose ids differ only in case or brackets would share an id: the second keeps
  // its old one (OR IGNORE), and its article with it.
  Stmt captures{prepare("UPDATE OR IGNORE captures SET capture_id = ?2 WHERE capture_id = ?1")};
  Stmt articles{prepare("UPDATE OR IGNORE articles SET capture_id = ?2 WHERE capture_id = ?1")};
  auto run = [&](sqlite3_stmt* st, const std::string& old_id, const std::string& new_id) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, old_id.data(), static_cast<int>(old_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(st, 2, new_id.data(), static_cast<int>(new_id.size()), SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
      throw std::runtime_error(std::string("index: ") + sqlite3_errmsg(db_));
    return sqlite3_changes(db_) > 0;
  };
  for (const auto& [old_id, new_id] : changes)
    if (run(captures, old_id, new_id)) run(articles, old_id, new_id);
}

Index::Index(sqlite3* db) : db_(db), version_(kSchemaVersion), columns_(kColumns) {}

Index::~Index() {
  sqlite3_close_v2(db_);
}

sqlite3_stmt* Index::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
    // A damaged schema page fails every statement as it is prepared.
    if (malformed(db_)) fail("cannot read the schema");
    throw std::runtime_error(std::string("index: ") + sqlite3_errmsg(db_) + " in: " + sql);
  }
  return st;
}

std::vector<std::string> Index::damage() {
  std::vector<std::string> out;
  sqlite3_stmt* raw = nullptr;
  // integrity_check, not quick_check: it also finds index entries that do not match their rows
  // (a lookup by URL then finds nothing while every page reads).
  if (sqlite3_prepare_v2(db_, "PRAGMA integrity_check(20)", -1, &raw, nullptr) != SQLITE_OK) {
    out.push_back(sqlite3_errmsg(db_));
    return out;
  }
  Stmt st{raw};
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    // A row may hold several lines ("*** in database main ***", then one per page): one
    // problem a line, without the heading.
    const std::string row = text(st, 0);
    std::size_t start = 0;
    while (start <= row.size()) {
      std::size_t end = row.find('\n', start);
      if (end == std::string::npos) end = row.size();
      std::string line = row.substr(start, end - start);
      if (!line.empty() && line != "ok" && !line.starts_with("*** in database"))
        out.push_back(line);
      start = end + 1;
    }
  }
  if (rc != SQLITE_DONE) out.push_back(sqlite3_errmsg(db_));
  if (std::string header = header_damage(db_); !header.empty()) out.push_back(header);
  if (auto fts = full_text_damage())
    out.push_back(*fts);
  else if (auto deep = full_text_check())
    out.push_back(*deep);
  return out;
}

std::optional<std::string> Index::full_text_check() {
  // SQLite's own check of a full-text index is an INSERT command: run here, it would hold the
  // write lock a running writer needs for as long as it reads. It runs on a private copy (a
  // temporary database SQLite removes when it is closed) instead.
  sqlite3* copy = nullptr;
  auto close_copy = [&] { sqlite3_close(copy); };
  if (sqlite3_open_v2("", &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    spdlog::warn("the full-text index is not checked: cannot open a temporary database: {}",
                 copy ? sqlite3_errmsg(copy) : "out of memory");
    close_copy();
    return std::nullopt;
  }
  sqlite3_backup* backup = sqlite3_backup_init(copy, "main", db_, "main");
  int rc = backup ? sqlite3_backup_step(backup, -1) : sqlite3_errcode(copy);
  if (backup) sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    // A page the copy could not read is damage quick_check reports already.
    spdlog::warn("the full-text index is not checked: copying the index failed: {}",
                 sqlite3_errstr(rc));
    close_copy();
    return std::nullopt;
  }
  char* error = nullptr;
  std::optional<std::string> out;
  if (sqlite3_exec(copy,
                   "INSERT INTO articles_text(articles_text, rank) VALUES('integrity-check', 0)",
                   nullptr, nullptr, &error) != SQLITE_OK)
    out = std::string("full-text index: ") + (error ? error : sqlite3_errmsg(copy));
  sqlite3_free(error);
  if (!out) {
    // Every article has its text indexed, and nothing else is.
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(copy,
                           "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM "
                           "articles_text_docsize), (SELECT count(*) FROM articles_text_content)",
                           -1, &raw, nullptr) == SQLITE_OK &&
        sqlite3_step(raw) == SQLITE_ROW) {
      const auto articles = sqlite3_column_int64(raw, 0);
      const auto sizes = sqlite3_column_int64(raw, 1);
      const auto texts = sqlite3_column_int64(raw, 2);
      if (sizes != articles || texts != articles)
        out = "full-text index: holds the text of " + std::to_string(texts) + " articles (" +
              std::to_string(sizes) + " sized), expected " + std::to_string(articles);
    }
    sqlite3_finalize(raw);
  }
  close_copy();
  return out;
}

std::optional<std::string> Index::full_text_damage() {
  // A search reads the full-text index's configuration and structure records first.
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(
      db_, "SELECT rowid FROM articles_text WHERE articles_text MATCH 'vellum' LIMIT 1", -1, &raw,
      nullptr);
  Stmt st{raw};
  if (rc == SQLITE_OK) {
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc == SQLITE_DONE) return std::nullopt;
  }
  return std::string("full-text index: ") + sqlite3_errmsg(db_);
}

bool Index::has_column(const char* table, const char* column) {
  Stmt st{prepare("SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2")};
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
  return step(st, "cannot read the schema") == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
}

void Index::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    if (malformed(db_)) throw IndexDamaged("index: " + msg);
    throw std::runtime_error("index: " + msg);
  }
}

int Index::step(sqlite3_stmt* st, const char* what) {
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW || rc == SQLITE_DONE) return rc;
  fail(what);
}

void Index::fail(const std::string& what) {
  std::string msg = "index: " + what + ": " + sqlite3_errmsg(db_);
  if (malformed(db_)) throw IndexDamaged(msg + kDamagedHint);
  throw std::runtime_error(msg);
}

void Index::begin() {
  exec("BEGIN IMMEDIATE");
}
void Index::leave_wal() {
  exec("PRAGMA journal_mode=DELETE");
}
void Index::begin_read() {
  exec("BEGIN DEFERRED");
}
void Index::commit() {
  exec("COMMIT");
}
void Index::rollback() {
  // SQLite may have rolled back already (a full disk, out of memory during COMMIT); a second
  // ROLLBACK would fail and hide the error that caused it.
  if (sqlite3_get_autocommit(db_)) return;
  exec("ROLLBACK");
}

void Index::add_capture(const CaptureRow& r) {
  Stmt st{prepare(
      "INSERT OR REPLACE INTO captures(capture_id, record_id, record_type, url, surt, host, date, "
      "status, mime, payload_digest, refers_to, location, ip, truncated, file, offset, length, "
      "request_offset, request_length, original_uri) "
      "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")};
  bind_value(st, 1, r.capture_id);
  bind_value(st, 2, r.record_id);
  bind_value(st, 3, r.record_type);
  bind_value(st, 4, r.url);
  bind_value(st, 5, r.surt);
  bind_value(st, 6, host_of(r.url));
  bind_value(st, 7, r.date);
  bind_value(st, 8, std::int64_t{r.status});
  bind_value(st, 9, r.mime);
  bind_value(st, 10, r.payload_digest);
  bind_value(st, 11, r.refers_to);
  bind_value(st, 12, r.location);
  bind_value(st, 13, r.ip);
  bind_value(st, 14, std::int64_t{r.truncated ? 1 : 0});
  bind_value(st, 15, r.file);
  bind_value(st, 16, static_cast<std::int64_t>(r.offset));
  bind_value(st, 17, static_cast<std::int64_t>(r.length));
  bind_value(st, 18, static_cast<std::int64_t>(r.request_offset));
  bind_value(st, 19, static_cast<std::int64_t>(r.request_length));
  bind_value(st, 20, r.original_uri);
  step(st, "cannot add capture");
}

void Index::remove_from(const std::string& file, std::uint64_t offset) {
  for (const char* sql : {"DELETE FROM captures WHERE file = ? AND offset >= ?",
                          "DELETE FROM articles WHERE file = ? AND offset >= ?"}) {
    Stmt st{prepare(sql)};
    bind_value(st, 1, file);
    bind_value(st, 2, static_cast<std::int64_t>(offset));
    if (sqlite3_step(st) != SQLITE_DONE)
      fail("cannot remove the rows of " + file + " from offset " + std::to_string(offset));
  }
}

void Index::add_article(const ArticleRow& r) {
  Stmt st{prepare(
      "INSERT INTO articles(capture_id, record_id, file, offset, length, date, title, published, "
      "source_domain, extractor) VALUES(?,?,?,?,?,?,?,?,?,?) "
      "ON CONFLICT(capture_id) DO UPDATE SET record_id = excluded.record_id, file = excluded.file, "
      "offset = excluded.offset, length = excluded.length, date = excluded.date, "
      "title = excluded.title, published = excluded.published, "
      "source_domain = excluded.source_domain, extractor = excluded.extractor "
      "WHERE excluded.date >= articles.date")};
  bind_value(st, 1, r.capture_id);
  bind_value(st, 2, r.record_id);
  bind_value(st, 3, r.file);
  bind_value(st, 4, static_cast<std::int64_t>(r.offset));
  bind_value(st, 5, static_cast<std::int64_t>(r.length));
  bind_value(st, 6, r.date);
  bind_value(st, 7, r.title);
  bind_value(st, 8, r.published);
  bind_value(st, 9, r.source_domain);
  bind_value(st, 10, r.extractor);
  step(st, "cannot add article");
  if (sqlite3_changes(db_) == 0) return;  // an older metadata record: the newer article stays
  Stmt text{
      prepare("REPLACE INTO articles_text(rowid, title, lead, body) "
              "SELECT rowid, title, ?2, ?3 FROM articles WHERE capture_id = ?1")};
  bind_value(text, 1, r.capture_id);
  bind_value(text, 2, r.lead);
  bind_value(text, 3, r.body_text);
  step(text, "cannot add article text");
}

namespace {

constexpr const char* kArticleColumns =
    "SELECT capture_id, record_id, file, offset, length, date, title, published, source_domain, "
    "extractor FROM articles ";

ArticleRow article_row(sqlite3_stmt* st) {
  ArticleRow r;
  r.capture_id = text(st, 0);
  r.record_id = text(st, 1);
  r.file = text(st, 2);
  r.offset = static_cast<std::uint64_t>(sqlite3_column_int64(st, 3));
  r.length = static_cast<std::uint64_t>(sqlite3_column_int64(st, 4));
  r.date = text(st, 5);
  r.title = text(st, 6);
  r.published = text(st, 7);
  r.source_domain = text(st, 8);
  r.extractor = text(st, 9);
  return r;
}

}  // namespace

std::optional<ArticleRow> Index::article(const std::string& capture_id) {
  Stmt st{prepare((std::string(kArticleColumns) + "WHERE capture_id = ?").c_str())};
  bind_value(st, 1, capture_id);
  if (step(st, "cannot read article") != SQLITE_ROW) return std::nullopt;
  return article_row(st);
}

std::vector<ArticleRow> Index::articles_in_file(const std::string& file) {
  Stmt st{prepare((std::string(kArticleColumns) + "WHERE file = ? ORDER BY offset").c_str())};
  bind_value(st, 1, file);
  std::vector<ArticleRow> out;
  while (step(st, "cannot read articles") == SQLITE_ROW) out.push_back(article_row(st));
  return out;
}

std::optional<Index::ArticleText> Index::article_text(const std::string& capture_id) {
  Stmt st{
      prepare("SELECT t.title, t.body FROM articles a JOIN articles_text t ON t.rowid = a.rowid "
              "WHERE a.capture_id = ?")};
  bind_value(st, 1, capture_id);
  if (step(st, "cannot read article text") != SQLITE_ROW) return std::nullopt;
  return ArticleText{text(st, 0), text(st, 1)};
}

void Index::remove_file(const std::string& file) {
  remove_from(file, 0);
  Stmt st{prepare("DELETE FROM files WHERE name = ?")};
  bind_value(st, 1, file);
  if (sqlite3_step(st) != SQLITE_DONE) fail("cannot remove file " + file);
}

void Index::clear() {
  exec("DELETE FROM captures; DELETE FROM articles_text; DELETE FROM articles; DELETE FROM files;");
}

std::vector<SearchHit> Index::search(const SearchQuery& q) {
  std::string match = fts5_match(parse_search_query(q.text));
  // Every matching article with its score; per page (canonical key, and path in its case) only
  // the newest matching capture is kept; the snippets are made afterwards for the hits that are
  // returned.
  std::string sql =
      "WITH matched AS (SELECT rowid AS text_id, bm25(articles_text, " + std::string(kTextWeights) +
      ") AS score FROM articles_text WHERE articles_text MATCH ?1), "
      "hits AS (SELECT " +
      columns_of(version_, "c") +
      ", a.title AS title, a.published AS published, m.text_id AS text_id, m.score AS score, "
      "row_number() OVER (PARTITION BY c.surt, vellum_page_key(c.url) ORDER BY c.date DESC, "
      "c.rowid DESC) AS nth "
      "FROM matched m JOIN articles a ON a.rowid = m.text_id "
      "JOIN captures c ON c.capture_id = a.capture_id WHERE 1";
  if (!q.domain.empty()) sql += " AND (c.host = ?2 OR c.host LIKE '%.' || ?2)";
  if (!q.since.empty()) sql += " AND c.date >= ?3";
  if (!q.until.empty()) sql += " AND c.date <= ?4";
  sql += ") SELECT " + std::string(kColumns) +
         ", title, published, text_id, score FROM hits WHERE nth = 1 "
         "ORDER BY score, date DESC, capture_id";
  if (q.limit >= 0) sql += " LIMIT ?5";
  auto failed = [&](const char* what) {
    // A full-text index that cannot be read fails every query: the index's fault, not the query's.
    const std::string why = sqlite3_errmsg(db_);
    if (auto damage = full_text_damage()) throw IndexDamaged("index: " + *damage + kDamagedHint);
    return std::runtime_error(std::string("search query '") + q.text + "' (" + match + ") " + what +
                              ": " + why +
                              "; expected words, \"phrases\", prefixes such as vacc*, AND, OR, "
                              "NOT and parentheses");
  };
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    if (malformed(db_)) fail("cannot read the schema");  // the index, not the query
    throw failed("could not be prepared");
  }
  Stmt st{raw};
  bind_value(st, 1, match);
  if (!q.domain.empty()) bind_value(st, 2, domain_key(q.domain));
  if (!q.since.empty()) bind_value(st, 3, q.since);
  if (!q.until.empty()) bind_value(st, 4, q.until);
  if (q.limit >= 0) bind_value(st, 5, q.limit);
  std::vector<SearchHit> hits;
  std::vector<std::int64_t> text_ids;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    SearchHit h;
    h.capture = capture_at(st, 0);
    h.title = text(st, kColumnCount);
    h.published = text(st, kColumnCount + 1);
    text_ids.push_back(sqlite3_column_int64(st, kColumnCount + 2));
    h.score = -sqlite3_column_double(st, kColumnCount + 3);
    hits.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) {
    if (malformed(db_)) fail("search failed");
    throw failed("failed");
  }

  // The snippet comes from the body when the match is there, else from the lead, else from the
  // title. Matches are marked with control characters first (which articles do not use) to
  // tell which column matched, then with the marks asked for.
  Stmt snip{
      prepare("SELECT snippet(articles_text, 2, char(1), char(2), '…', 24), "
              "snippet(articles_text, 1, char(1), char(2), '…', 24), "
              "snippet(articles_text, 0, char(1), char(2), '…', 24) FROM articles_text "
              "WHERE articles_text MATCH ?1 AND rowid = ?2")};
  for (std::size_t i = 0; i < hits.size(); ++i) {
    sqlite3_reset(snip);
    bind_value(snip, 1, match);
    bind_value(snip, 2, text_ids[i]);
    if (step(snip, "cannot read a search snippet") != SQLITE_ROW) continue;
    std::string best;
    for (int k = 0; k < 3 && best.empty(); ++k) {  // body, lead, title
      std::string s = text(snip, k);
      if (s.find('\x01') != std::string::npos) best = std::move(s);
    }
    if (best.empty()) best = text(snip, 0);
    std::string marked;
    for (char c : util::one_line(best)) {
      if (c == '\x01')
        marked += q.mark_open;
      else if (c == '\x02')
        marked += q.mark_close;
      else
        marked += c;
    }
    hits[i].snippet = std::move(marked);
  }
  return hits;
}

std::vector<CaptureRow> Index::query_rows(sqlite3_stmt* st) {
  std::vector<CaptureRow> rows;
  while (step(st, "query failed") == SQLITE_ROW) rows.push_back(capture_at(st, 0));
  return rows;
}

std::optional<CaptureRow> Index::by_capture_id(const std::string& id) {
  if (id.empty()) return std::nullopt;
  std::string sql =
      "SELECT " + columns_ + " FROM captures WHERE capture_id >= ? AND capture_id < ? LIMIT 2";
  Stmt st{prepare(sql.c_str())};
  bind_value(st, 1, id);
  bind_value(st, 2, id + "\xff");
  auto rows = query_rows(st);
  // An id in full is that capture, even when it begins another's (imported ids need not be
  // UUIDs); a prefix must name one capture alone.
  if (!rows.empty() && rows.front().capture_id == id) return rows.front();
  // A prefix of fewer than 8 characters names nothing: it would name another capture tomorrow.
  if (rows.size() != 1 || id.size() < 8) return std::nullopt;
  return rows.front();
}

std::vector<std::string> Index::capture_ids_starting(const std::string& prefix, std::size_t limit) {
  Stmt st{
      prepare("SELECT capture_id FROM captures WHERE capture_id >= ? AND capture_id < ? "
              "ORDER BY capture_id LIMIT ?")};
  bind_value(st, 1, prefix);
  bind_value(st, 2, prefix + "\xff");
  bind_value(st, 3, static_cast<std::int64_t>(limit));
  std::vector<std::string> ids;
  while (step(st, "query failed") == SQLITE_ROW) ids.push_back(text(st, 0));
  return ids;
}

std::optional<CaptureRow> Index::by_record_id(const std::string& record_id) {
  std::string sql = "SELECT " + columns_ + " FROM captures WHERE record_id = ?";
  Stmt st{prepare(sql.c_str())};
  bind_value(st, 1, record_id);
  auto rows = query_rows(st);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::optional<CaptureRow> Index::preferred(const std::string& sql,
                                           const std::vector<std::string>& params,
                                           const Prefer& prefer) {
  // The first row is nearly always the one wanted: it is read alone, and the rest of the rows
  // only when `prefer` turns it down.
  for (const bool all : {false, true}) {
    Stmt st{prepare((sql + (all ? "" : " LIMIT 1")).c_str())};
    for (std::size_t i = 0; i < params.size(); ++i)
      bind_value(st, static_cast<int>(i + 1), params[i]);
    std::optional<CaptureRow> first;
    while (step(st, "query failed") == SQLITE_ROW) {
      CaptureRow row = capture_at(st, 0);
      if (!prefer || prefer(row)) return row;
      if (!first) first = std::move(row);
    }
    if (!first || all) return first;
  }
  return std::nullopt;
}

std::optional<CaptureRow> Index::latest(const std::string& surt, const std::string& at_or_before,
                                        const Prefer& prefer) {
  std::vector<std::string> params{surt};
  if (!at_or_before.empty()) params.push_back(at_or_before);
  return preferred("SELECT " + columns_ + " FROM captures WHERE surt = ?" +
                       (at_or_before.empty() ? "" : " AND date <= ?") +
                       " ORDER BY date DESC, rowid DESC",
                   params, prefer);
}

std::optional<CaptureRow> Index::latest_response_with_payload(
    const std::string& surt, const std::vector<std::string>& digests,
    const std::string& at_or_before) {
  if (digests.empty()) return std::nullopt;
  std::string sql = "SELECT " + columns_ +
                    " FROM captures WHERE surt = ? AND date <= ? AND record_type = 'response'"
                    " AND payload_digest IN (?";
  for (std::size_t i = 1; i < digests.size(); ++i) sql += ", ?";
  sql += ") ORDER BY date DESC, rowid DESC LIMIT 1";
  Stmt st{prepare(sql.c_str())};
  bind_value(st, 1, surt);
  bind_value(st, 2, at_or_before);
  for (std::size_t i = 0; i < digests.size(); ++i)
    bind_value(st, static_cast<int>(i + 3), digests[i]);
  auto rows = query_rows(st);
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::optional<CaptureRow> Index::first_after(const std::string& surt,
                                             const std::string& at_or_after, const Prefer& prefer) {
  return preferred(
      "SELECT " + columns_ + " FROM captures WHERE surt = ? AND date >= ? ORDER BY date, rowid",
      {surt, at_or_after}, prefer);
}

std::vector<CaptureRow> Index::list(const ListFilter& f) {
  std::vector<CaptureRow> rows;
  each(f, [&rows](CaptureRow&& row) { rows.push_back(std::move(row)); });
  return rows;
}

void Index::each(const ListFilter& f, const std::function<void(CaptureRow&&)>& each_row) {
  // Read a batch at a time, each batch going on after the last row of the one before (date,
  // then rowid, as the date index orders them): no statement stays open while `each_row` runs,
  // so a slow reader (a pager) holds no lock that would keep a writer waiting. The rest of the
  // cursor's date and the later dates are two queries, each a range of the date index (one
  // query on (date, rowid) read every row of the cursor's date again for each batch).
  constexpr std::int64_t kBatch = 1000;
  std::string where = " FROM captures WHERE 1";
  if (!f.domain.empty()) where += " AND (host = ?1 OR host LIKE '%.' || ?1)";
  if (!f.since.empty()) where += " AND date >= ?2";
  if (!f.until.empty()) where += " AND date <= ?3";
  if (!f.surt.empty()) where += " AND surt = ?4";
  const std::string select = "SELECT " + columns_ + ", rowid, date" + where;
  const char* desc = f.newest_first ? " DESC" : "";
  const char* beyond = f.newest_first ? "<" : ">";
  Stmt first{prepare((select + " ORDER BY date" + desc + ", rowid" + desc + " LIMIT ?5").c_str())};
  Stmt same_date{prepare(
      (select + " AND date = ?6 AND rowid " + beyond + " ?7 ORDER BY rowid" + desc + " LIMIT ?5")
          .c_str())};
  Stmt later_dates{prepare(
      (select + " AND date " + beyond + " ?6 ORDER BY date" + desc + ", rowid" + desc + " LIMIT ?5")
          .c_str())};
  // The cursor: the last row handed on. Its date is kept as SQLite holds it (whatever its type),
  // so that the comparisons go on from it exactly.
  struct Value {
    sqlite3_value* v = nullptr;
    ~Value() { sqlite3_value_free(v); }
    void take(sqlite3_value* from) {
      sqlite3_value_free(v);
      v = sqlite3_value_dup(from);
      if (!v && from) throw std::bad_alloc();
    }
  } cursor_date, last_date;
  std::optional<std::int64_t> cursor_rowid;
  std::int64_t last_rowid = 0;
  std::vector<CaptureRow> batch;
  auto read = [&](sqlite3_stmt* st, std::int64_t limit) {
    sqlite3_reset(st);
    if (!f.domain.empty()) bind_value(st, 1, domain_key(f.domain));
    if (!f.since.empty()) bind_value(st, 2, f.since);
    if (!f.until.empty()) bind_value(st, 3, f.until);
    if (!f.surt.empty()) bind_value(st, 4, f.surt);
    bind_value(st, 5, limit);
    if (cursor_rowid) {
      sqlite3_bind_value(st, 6, cursor_date.v);
      bind_value(st, 7, *cursor_rowid);
    }
    std::int64_t n = 0;
    while (step(st, "cannot list captures") == SQLITE_ROW) {
      batch.push_back(capture_at(st, 0));
      last_rowid = sqlite3_column_int64(st, kColumnCount);
      last_date.take(sqlite3_column_value(st, kColumnCount + 1));
      ++n;
    }
    sqlite3_reset(st);  // ends the statement's read before the rows are handed on
    return n;
  };
  std::int64_t left = f.limit;  // negative: no limit
  for (;;) {
    const std::int64_t want = left < 0 ? kBatch : std::min(left, kBatch);
    if (want == 0) return;
    batch.clear();
    std::int64_t got = 0;
    if (!cursor_rowid) {
      got = read(first.st, want);
    } else {
      got = read(same_date.st, want);
      if (got < want) got += read(later_dates.st, want - got);
    }
    if (got == 0) return;
    // Every row has its own rowid: the same one again would mean no progress (never expected).
    if (cursor_rowid && last_rowid == *cursor_rowid)
      fail("cannot list captures: row " + std::to_string(last_rowid) + " came back twice");
    cursor_rowid = last_rowid;
    std::swap(cursor_date.v, last_date.v);
    if (left > 0) left -= got;
    for (auto& row : batch) each_row(std::move(row));
    if (got < want) return;
  }
}

std::uint64_t Index::capture_count() {
  Stmt st{prepare("SELECT count(*) FROM captures")};
  if (step(st, "cannot count captures") != SQLITE_ROW) return 0;
  return static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
}

std::map<std::string, std::uint64_t> Index::captures_per_file() {
  Stmt st{prepare("SELECT file, count(*) FROM captures GROUP BY file")};
  std::map<std::string, std::uint64_t> out;
  while (step(st, "cannot count captures") == SQLITE_ROW)
    out[text(st, 0)] = static_cast<std::uint64_t>(sqlite3_column_int64(st, 1));
  return out;
}

std::optional<FileRow> Index::file(const std::string& name) {
  Stmt st{prepare("SELECT name, indexed_to, closed FROM files WHERE name = ?")};
  bind_value(st, 1, name);
  if (step(st, "cannot read file") != SQLITE_ROW) return std::nullopt;
  return FileRow{text(st, 0), static_cast<std::uint64_t>(sqlite3_column_int64(st, 1)),
                 sqlite3_column_int(st, 2) != 0};
}

std::vector<FileRow> Index::files() {
  Stmt st{prepare("SELECT name, indexed_to, closed FROM files ORDER BY name")};
  std::vector<FileRow> out;
  while (step(st, "cannot list files") == SQLITE_ROW)
    out.push_back({text(st, 0), static_cast<std::uint64_t>(sqlite3_column_int64(st, 1)),
                   sqlite3_column_int(st, 2) != 0});
  return out;
}

void Index::set_file(const FileRow& row) {
  Stmt st{prepare("INSERT OR REPLACE INTO files(name, indexed_to, closed) VALUES(?,?,?)")};
  bind_value(st, 1, row.name);
  bind_value(st, 2, static_cast<std::int64_t>(row.indexed_to));
  bind_value(st, 3, std::int64_t{row.closed ? 1 : 0});
  step(st, "cannot record file");
}

}  // namespace vellum::index
