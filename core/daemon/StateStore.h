// The daemon's own state: what it has seen and what is due, kept in SQLite beside the archive
// (state.sqlite3) so that a restart neither refetches everything nor forgets what was due.
// Unlike index.sqlite3 this is not derived from the WARC files: deleting it makes the daemon
// rediscover its sources' URLs and capture them again.
//
// Times are milliseconds since the Unix epoch (UTC). Used from one thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace vellum::daemon {

using Millis = std::int64_t;  // Unix time in milliseconds

Millis unix_millis_now();

struct SourceState {
  std::string name;
  Millis next_run = 0;  // 0: run at once
  Millis last_run = 0;
  std::string etag;            // validators for a conditional GET of the source URL
  std::string last_modified;   //
  std::string validators_url;  // the URL they came with: another source URL gets none
  std::string planned_for;     // "<kind> <url> <interval ms>" when next_run was set
  int last_status = 0;
  std::string last_error;  // empty after a successful run
  std::int64_t runs = 0;
  std::int64_t failures = 0;
  std::int64_t links_found = 0;  // new URLs added, all runs
};

// A URL the daemon captures: found by a source (or enqueued by hand).
struct UrlState {
  std::string url;
  std::string source;
  Millis discovered = 0;
  Millis first_capture = 0;  // 0: not captured yet
  Millis last_capture = 0;
  std::optional<Millis> next_visit;  // nullopt: nothing more is due
  int visits = 0;                    // captures stored
  int attempts = 0;                  // failed tries of the visit under way
  std::string last_error;
  std::string plugin;  // forced plugin, empty for routing by URL
};

struct RobotsState {
  std::string origin;  // "scheme://host:port"
  int status = 0;      // HTTP status of robots.txt (0: unreachable)
  std::string body;
  Millis fetched = 0;
};

struct StateCounts {
  std::int64_t urls = 0;
  std::int64_t due = 0;  // next_visit <= now
  std::int64_t captured = 0;
  std::int64_t failed = 0;  // given up on
};

class StateStore {
 public:
  // Opens (creating when missing) the state database; throws std::runtime_error naming the file.
  explicit StateStore(const std::filesystem::path& file);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // Groups the writes made inside it into one transaction (many URLs from one feed).
  class Transaction {
   public:
    explicit Transaction(StateStore& store);
    ~Transaction();  // rolls back unless committed
    void commit();

   private:
    StateStore& store_;
    bool done_ = false;
  };

  std::optional<SourceState> source(const std::string& name);
  void put_source(const SourceState& state);

  // Adds a URL found by `source`, due at `due`; false (nothing changed) when it is known already.
  bool add_url(const std::string& url, const std::string& source, Millis now, Millis due,
               const std::string& plugin = {});
  std::optional<UrlState> url(const std::string& url);
  // Calls `fn` with every URL whose next visit is at or before `now`, earliest first. The rows
  // are read a batch at a time and no statement is open while `fn` runs, so `fn` may change
  // them (a URL whose next visit it moves to a later time still due may be handed over again).
  void for_each_due(Millis now, const std::function<void(const UrlState&)>& fn);
  // Up to `limit` URLs due at `now`, shared out among their sources (each source's earliest
  // first, the sources taking turns), so that one source with thousands due does not hold back
  // the others' few.
  std::vector<UrlState> due_urls_by_source(Millis now, std::size_t limit);
  // The earliest next visit of any URL after `after`; nullopt when none is due later.
  std::optional<Millis> next_due_after(Millis after);
  // A capture of `url` was stored at `when`; `next_visit` is when to capture it again.
  void mark_captured(const std::string& url, Millis when, std::optional<Millis> next_visit);
  // A try failed; `retry_at` is when to try again (nullopt: give up).
  void mark_failed(const std::string& url, const std::string& error,
                   std::optional<Millis> retry_at);
  // The tries of this visit are over (failed for good): the next visit, if any, is at
  // `next_visit` and starts with no failed tries.
  void mark_given_up(const std::string& url, const std::string& error,
                     std::optional<Millis> next_visit);
  // Moves a URL's next visit (e.g. to now, for `vellum enqueue` of a known URL), a visit with
  // all its tries ahead of it.
  void set_next_visit(const std::string& url, std::optional<Millis> when);

  std::optional<RobotsState> robots(const std::string& origin);
  void put_robots(const RobotsState& state);

  StateCounts counts(Millis now);
  const std::filesystem::path& file() const { return file_; }

 private:
  void exec(const char* sql);
  void urls_in_request_form();
  std::filesystem::path file_;
  sqlite3* db_ = nullptr;
};

}  // namespace vellum::daemon
