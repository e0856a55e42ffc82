#include "daemon/StateStore.h"

#include <sqlite3.h>

#include <chrono>
#include <limits>
#include <stdexcept>

#include "util/Url.h"

namespace vellum::daemon {

namespace {

// 2: validators (etag, last_modified) are kept only for runs that read their whole source;
// those of version 1 are dropped once, as they may stand for a sitemap index whose sitemaps
// were never read again.
constexpr int kSchemaVersion = 5;

// One prepared statement, finalised on scope exit; bind() by position from 1.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("state database: ") + sqlite3_errmsg(db));
  }
  ~Stmt() { sqlite3_finalize(st_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  Stmt& bind(int i, std::optional<std::int64_t> v) {
    if (v)
      sqlite3_bind_int64(st_, i, *v);
    else
      sqlite3_bind_null(st_, i);
    return *this;
  }
  // Ready to run again with new bindings.
  void reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  // True while there is a row.
  bool step() {
    int rc = sqlite3_step(st_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw std::runtime_error(std::string("state database: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(st_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(st_, col); }
  std::optional<std::int64_t> maybe(int col) const {
    if (sqlite3_column_type(st_, col) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(st_, col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

const char* kUrlColumns =
    "url, source, discovered, first_capture, last_capture, next_visit, visits, attempts, "
    "last_error, plugin";

UrlState read_url(const Stmt& s) {
  UrlState u;
  u.url = s.text(0);
  u.source = s.text(1);
  u.discovered = s.integer(2);
  u.first_capture = s.integer(3);
  u.last_capture = s.integer(4);
  u.next_visit = s.maybe(5);
  u.visits = static_cast<int>(s.integer(6));
  u.attempts = static_cast<int>(s.integer(7));
  u.last_error = s.text(8);
  u.plugin = s.text(9);
  return u;
}

}  // namespace

Millis unix_millis_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StateStore::StateStore(const std::filesystem::path& file) : file_(file) {
  if (sqlite3_open_v2(file.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open the state database " + file.string() + ": " + msg);
  }
  try {
    sqlite3_busy_timeout(db_, 10'000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=NORMAL");
    Stmt v(db_, "PRAGMA user_version");
    v.step();
    auto version = v.integer(0);
    if (version > kSchemaVersion)
      throw std::runtime_error("the state database " + file.string() + " has schema version " +
                               std::to_string(version) + ", this vellumd understands up to " +
                               std::to_string(kSchemaVersion) + "; upgrade vellumd");
    exec(
        "CREATE TABLE IF NOT EXISTS sources ("
        " name TEXT PRIMARY KEY, next_run INTEGER NOT NULL DEFAULT 0,"
        " last_run INTEGER NOT NULL DEFAULT 0, etag TEXT NOT NULL DEFAULT '',"
        " last_modified TEXT NOT NULL DEFAULT '', last_status INTEGER NOT NULL DEFAULT 0,"
        " last_error TEXT NOT NULL DEFAULT '', runs INTEGER NOT NULL DEFAULT 0,"
        " failures INTEGER NOT NULL DEFAULT 0, links_found INTEGER NOT NULL DEFAULT 0,"
        " validators_url TEXT NOT NULL DEFAULT '')");
    // Version 3 notes the URL the validators came from (version 2 sent a source's validators to
    // its new URL after the URL changed); older validators, of no known URL, are not sent again.
    bool has_url = false;
    {
      Stmt c(db_, "SELECT 1 FROM pragma_table_info('sources') WHERE name = 'validators_url'");
      has_url = c.step();
    }
    if (!has_url) exec("ALTER TABLE sources ADD COLUMN validators_url TEXT NOT NULL DEFAULT ''");
    // Version 5 notes what each source's next run was planned for: a source whose URL or kind
    // changed while the daemon was stopped runs at once when it starts, as after a reload.
    {
      Stmt c(db_, "SELECT 1 FROM pragma_table_info('sources') WHERE name = 'planned_for'");
      if (!c.step()) exec("ALTER TABLE sources ADD COLUMN planned_for TEXT NOT NULL DEFAULT ''");
    }
    exec(
        "CREATE TABLE IF NOT EXISTS urls ("
        " url TEXT PRIMARY KEY, source TEXT NOT NULL, discovered INTEGER NOT NULL,"
        " first_capture INTEGER NOT NULL DEFAULT 0, last_capture INTEGER NOT NULL DEFAULT 0,"
        " next_visit INTEGER, visits INTEGER NOT NULL DEFAULT 0,"
        " attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',"
        " plugin TEXT NOT NULL DEFAULT '')");
    exec("CREATE INDEX IF NOT EXISTS urls_due ON urls(next_visit) WHERE next_visit IS NOT NULL");
    exec(
        "CREATE INDEX IF NOT EXISTS urls_source_due ON urls(source, next_visit)"
        " WHERE next_visit IS NOT NULL");
    exec(
        "CREATE TABLE IF NOT EXISTS robots ("
        " origin TEXT PRIMARY KEY, status INTEGER NOT NULL, body BLOB NOT NULL,"
        " fetched INTEGER NOT NULL)");
    if (version == 1) exec("UPDATE sources SET etag = '', last_modified = ''");
    if (version >= 1 && version < 4) {
      Transaction tx(*this);
      urls_in_request_form();
      tx.commit();
    }
    // Before version 5 a URL whose first fetch failed for good was not tried again: each is
    // due once more, and after that on the revisit plan counted from when it was found.
    if (version >= 1 && version < 5) {
      Stmt due(db_, "UPDATE urls SET next_visit = ? WHERE visits = 0 AND next_visit IS NULL");
      due.bind(1, unix_millis_now());
      due.step();
    }
    exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

// Version 4 keeps URLs in the form they are requested in (util::parse_request_url); a URL an
// older state holds in another spelling takes that form, and where both are held (the newer
// daemon found it again), the two rows become one: the earliest first capture, the latest last
// one, the most visits, the next visit the later row plans.
void StateStore::urls_in_request_form() {
  std::vector<std::pair<std::string, std::string>> changes;  // held, request form
  {
    Stmt s(db_, "SELECT url FROM urls");
    while (s.step()) {
      std::string url = s.text(0);
      if (auto u = util::parse_request_url(url); u && u->str() != url)
        changes.emplace_back(std::move(url), u->str());
    }
  }
  Stmt rename(db_, "UPDATE OR IGNORE urls SET url = ?2 WHERE url = ?1");
  Stmt merge(db_,
             "UPDATE urls SET"
             " first_capture = CASE WHEN o.first_capture = 0 THEN urls.first_capture"
             "   WHEN urls.first_capture = 0 THEN o.first_capture"
             "   ELSE min(urls.first_capture, o.first_capture) END,"
             " last_capture = max(urls.last_capture, o.last_capture),"
             " visits = max(urls.visits, o.visits),"
             " discovered = min(urls.discovered, o.discovered)"
             " FROM (SELECT * FROM urls WHERE url = ?1) AS o WHERE urls.url = ?2");
  Stmt drop(db_, "DELETE FROM urls WHERE url = ?1");
  for (const auto& [held, form] : changes) {
    rename.reset();
    rename.bind(1, held).bind(2, form);
    rename.step();
    if (sqlite3_changes(db_) > 0) continue;
    merge.reset();
    merge.bind(1, held).bind(2, form);
    merge.step();
    drop.reset();
    drop.bind(1, held);
    drop.step();
  }
}

StateStore::~StateStore() {
  sqlite3_close(db_);
}

void StateStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw std::runtime_error("state database " + file_.string() + ": " + msg);
  }
}

StateStore::Transaction::Transaction(StateStore& store) : store_(store) {
  store_.exec("BEGIN IMMEDIATE");
}

StateStore::Transaction::~Transaction() {
  if (!done_) sqlite3_exec(store_.db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void StateStore::Transaction::commit() {
  store_.exec("COMMIT");
  done_ = true;
}

std::optional<SourceState> StateStore::source(const std::string& name) {
  Stmt s(db_,
         "SELECT name, next_run, last_run, etag, last_modified, last_status, last_error, runs,"
         " failures, links_found, validators_url, planned_for FROM sources WHERE name = ?");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  SourceState st;
  st.name = s.text(0);
  st.next_run = s.integer(1);
  st.last_run = s.integer(2);
  st.etag = s.text(3);
  st.last_modified = s.text(4);
  st.last_status = static_cast<int>(s.integer(5));
  st.last_error = s.text(6);
  st.runs = s.integer(7);
  st.failures = s.integer(8);
  st.links_found = s.integer(9);
  st.validators_url = s.text(10);
  st.planned_for = s.text(11);
  return st;
}

void StateStore::put_source(const SourceState& st) {
  Stmt s(db_,
         "INSERT OR REPLACE INTO sources (name, next_run, last_run, etag, last_modified,"
         " last_status, last_error, runs, failures, links_found, validators_url, planned_for)"
         " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  s.bind(1, st.name)
      .bind(2, st.next_run)
      .bind(3, st.last_run)
      .bind(4, st.etag)
      .bind(5, st.last_modified)
      .bind(6, std::int64_t{st.last_status})
      .bind(7, st.last_error)
      .bind(8, st.runs)
      .bind(9, st.failures)
      .bind(10, st.links_found)
      .bind(11, st.validators_url)
      .bind(12, st.planned_for);
  s.step();
}

bool StateStore::add_url(const std::string& url, const std::string& source, Millis now, Millis due,
                         const std::string& plugin) {
  Stmt s(db_,
         "INSERT OR IGNORE INTO urls (url, source, discovered, next_visit, plugin)"
         " VALUES (?,?,?,?,?)");
  s.bind(1, url).bind(2, source).bind(3, now).bind(4, due).bind(5, plugin);
  s.step();
  return sqlite3_changes(db_) > 0;
}

std::optional<UrlState> StateStore::url(const std::string& url) {
  Stmt s(db_, (std::string("SELECT ") + kUrlColumns + " FROM urls WHERE url = ?").c_str());
  s.bind(1, url);
  if (!s.step()) return std::nullopt;
  return read_url(s);
}

void StateStore::for_each_due(Millis now, const std::function<void(const UrlState&)>& fn) {
  // Keyset batches over the urls_due index: (next_visit, rowid) past the last row handed over.
  constexpr std::int64_t kBatch = 1000;
  std::int64_t after_visit = std::numeric_limits<std::int64_t>::min(), after_rowid = 0;
  for (;;) {
    std::vector<UrlState> rows;
    {
      Stmt s(db_, (std::string("SELECT ") + kUrlColumns +
                   ", rowid FROM urls WHERE next_visit IS NOT NULL AND next_visit <= ?"
                   " AND (next_visit, rowid) > (?, ?) ORDER BY next_visit, rowid LIMIT ?")
                      .c_str());
      s.bind(1, now).bind(2, after_visit).bind(3, after_rowid).bind(4, kBatch);
      while (s.step()) {
        rows.push_back(read_url(s));
        after_visit = *rows.back().next_visit;
        after_rowid = s.integer(10);
      }
    }
    for (const auto& u : rows) fn(u);
    if (static_cast<std::int64_t>(rows.size()) < kBatch) return;
  }
}

std::vector<UrlState> StateStore::due_urls_by_source(Millis now, std::size_t limit) {
  std::vector<std::string> names;
  {
    Stmt s(db_,
           "SELECT DISTINCT source FROM urls WHERE next_visit IS NOT NULL AND next_visit <= ?");
    s.bind(1, now);
    while (s.step()) names.push_back(s.text(0));
  }
  if (names.empty() || limit == 0) return {};
  // Each source's share first; what the sources with fewer due leave goes to the others.
  Stmt s(db_, (std::string("SELECT ") + kUrlColumns +
               " FROM urls WHERE source = ? AND next_visit IS NOT NULL AND next_visit <= ?"
               " ORDER BY next_visit LIMIT ? OFFSET ?")
                  .c_str());
  auto take = [&](const std::string& name, std::size_t n, std::size_t skip) {
    std::vector<UrlState> rows;
    s.reset();
    s.bind(1, name).bind(2, now).bind(3, static_cast<std::int64_t>(n));
    s.bind(4, static_cast<std::int64_t>(skip));
    while (s.step()) rows.push_back(read_url(s));
    return rows;
  };
  const std::size_t share = std::max<std::size_t>(1, limit / names.size());
  std::vector<std::vector<UrlState>> per_source;
  std::size_t total = 0;
  for (const auto& name : names) {
    per_source.push_back(take(name, share, 0));
    total += per_source.back().size();
  }
  for (std::size_t i = 0; i < names.size() && total < limit; ++i) {
    if (per_source[i].size() < share) continue;  // all of that source's are in
    auto more = take(names[i], limit - total, share);
    total += more.size();
    for (auto& u : more) per_source[i].push_back(std::move(u));
  }
  // Interleaved: each source's first, then each one's second, and so on.
  std::vector<UrlState> out;
  out.reserve(total);
  for (std::size_t rank = 0; out.size() < total; ++rank)
    for (auto& rows : per_source)
      if (rank < rows.size()) out.push_back(std::move(rows[rank]));
  return out;
}

std::optional<Millis> StateStore::next_due_after(Millis after) {
  Stmt s(db_, "SELECT MIN(next_visit) FROM urls WHERE next_visit IS NOT NULL AND next_visit > ?");
  s.bind(1, after);
  if (!s.step()) return std::nullopt;
  return s.maybe(0);
}

void StateStore::mark_captured(const std::string& url, Millis when,
                               std::optional<Millis> next_visit) {
  Stmt s(db_,
         "UPDATE urls SET first_capture = CASE WHEN first_capture = 0 THEN ?1 ELSE first_capture"
         " END, last_capture = ?1, next_visit = ?2, visits = visits + 1, attempts = 0,"
         " last_error = '' WHERE url = ?3");
  s.bind(1, when).bind(2, next_visit).bind(3, url);
  s.step();
}

void StateStore::mark_failed(const std::string& url, const std::string& error,
                             std::optional<Millis> retry_at) {
  Stmt s(db_,
         "UPDATE urls SET attempts = attempts + 1, last_error = ?1, next_visit = ?2"
         " WHERE url = ?3");
  s.bind(1, error).bind(2, retry_at).bind(3, url);
  s.step();
}

void StateStore::mark_given_up(const std::string& url, const std::string& error,
                               std::optional<Millis> next_visit) {
  Stmt s(db_,
         "UPDATE urls SET attempts = 0, last_error = ?1, next_visit = ?2"
         " WHERE url = ?3");
  s.bind(1, error).bind(2, next_visit).bind(3, url);
  s.step();
}

void StateStore::set_next_visit(const std::string& url, std::optional<Millis> when) {
  Stmt s(db_, "UPDATE urls SET next_visit = ?, attempts = 0 WHERE url = ?");
  s.bind(1, when).bind(2, url);
  s.step();
}

std::optional<RobotsState> StateStore::robots(const std::string& origin) {
  Stmt s(db_, "SELECT origin, status, body, fetched FROM robots WHERE origin = ?");
  s.bind(1, origin);
  if (!s.step()) return std::nullopt;
  RobotsState r;
  r.origin = s.text(0);
  r.status = static_cast<int>(s.integer(1));
  r.body = s.text(2);
  r.fetched = s.integer(3);
  return r;
}

void StateStore::put_robots(const RobotsState& r) {
  Stmt s(db_, "INSERT OR REPLACE INTO robots (origin, status, body, fetched) VALUES (?,?,?,?)");
  s.bind(1, r.origin).bind(2, std::int64_t{r.status}).bind(3, r.body).bind(4, r.fetched);
  s.step();
}

StateCounts StateStore::counts(Millis now) {
  Stmt s(db_,
         "SELECT COUNT(*), SUM(next_visit IS NOT NULL AND next_visit <= ?),"
         " SUM(visits > 0), SUM(next_visit IS NULL AND visits = 0) FROM urls");
  s.bind(1, now);
  StateCounts c;
  if (s.step()) {
    c.urls = s.integer(0);
    c.due = s.integer(1);
    c.captured = s.integer(2);
    c.failed = s.integer(3);
  }
  return c;
}

}  // namespace vellum::daemon
