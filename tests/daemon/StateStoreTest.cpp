// StateStore: what a URL's failed tries count towards, on a real SQLite file.
#include <gtest/gtest.h>

#include <sqlite3.h>

#include <map>
#include <string>

#include "daemon/StateStore.h"
#include "support/TempDir.h"

namespace vellum::daemon {
namespace {

TEST(StateStore, AVisitThatFailedForGoodLeavesTheNextOneAllItsTries) {
  test::TempDir dir("state");
  StateStore st(dir / "state.sqlite3");
  ASSERT_TRUE(st.add_url("https://a.example/x", "f", 1000, 1000, ""));
  st.mark_failed("https://a.example/x", "HTTP 503", 2000);
  st.mark_failed("https://a.example/x", "HTTP 503", 3000);
  EXPECT_EQ(st.url("https://a.example/x")->attempts, 2);

  st.mark_given_up("https://a.example/x", "HTTP 503; gave up", 90'000);
  auto u = st.url("https://a.example/x");
  EXPECT_EQ(u->attempts, 0) << "the next visit would give up at its first failure";
  EXPECT_EQ(u->next_visit, 90'000);
  EXPECT_EQ(u->last_error, "HTTP 503; gave up");

  // A visit asked for by hand (vellum enqueue) starts with all its tries too.
  st.mark_failed("https://a.example/x", "HTTP 503", 95'000);
  st.set_next_visit("https://a.example/x", 96'000);
  EXPECT_EQ(st.url("https://a.example/x")->attempts, 0);
  EXPECT_EQ(st.url("https://a.example/x")->next_visit, 96'000);
}

TEST(StateStore, DueUrlsAreSharedOutAmongTheirSources) {
  test::TempDir dir("state");
  StateStore st(dir / "state.sqlite3");
  // A backfill: 500 URLs of one source, due before the three of another.
  for (int i = 0; i < 500; ++i)
    st.add_url("https://big.example/" + std::to_string(i), "big", 1000, 1000 + i);
  for (int i = 0; i < 3; ++i)
    st.add_url("https://small.example/" + std::to_string(i), "small", 1000, 5000 + i);
  st.add_url("https://later.example/", "small", 1000, 99'999);  // not due yet

  auto due = st.due_urls_by_source(10'000, 10);
  ASSERT_EQ(due.size(), 10u);
  // The sources take turns, each in its own order, until one runs out.
  std::vector<std::string> want = {"https://big.example/0", "https://small.example/0",
                                   "https://big.example/1", "https://small.example/1",
                                   "https://big.example/2", "https://small.example/2",
                                   "https://big.example/3", "https://big.example/4",
                                   "https://big.example/5", "https://big.example/6"};
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_EQ(due[i].url, want[i]) << i;
  // Everything due, when the limit allows it; nothing that is not due.
  EXPECT_EQ(st.due_urls_by_source(10'000, 10'000).size(), 503u);
  EXPECT_TRUE(st.due_urls_by_source(999, 10).empty());
}

TEST(StateStore, EveryDueUrlIsHandedOverOnceAcrossBatchesEvenWhenChangedMeanwhile) {
  test::TempDir dir("state");
  StateStore st(dir / "state.sqlite3");
  // 2,500 due (more than two batches), seven at a time (a batch ends among equals); 40 due later;
  // 10 with none due.
  StateStore::Transaction tx(st);
  for (int i = 0; i < 2500; ++i)
    st.add_url("https://a.example/" + std::to_string(i), "f", 1000, 1000 + i / 7);
  for (int i = 0; i < 40; ++i)
    st.add_url("https://later.example/" + std::to_string(i), "f", 1000, 9000);
  for (int i = 0; i < 10; ++i) {
    st.add_url("https://done.example/" + std::to_string(i), "f", 1000, 1000);
    st.mark_captured("https://done.example/" + std::to_string(i), 1500, std::nullopt);
  }
  tx.commit();

  std::map<std::string, int> seen;
  std::size_t moved = 0;
  Millis last = 0;
  st.for_each_due(5000, [&](const UrlState& u) {
    EXPECT_LE(u.next_visit.value_or(-1), 5000) << u.url;
    if (++seen[u.url] == 1) {
      EXPECT_GE(*u.next_visit, last) << "earliest first";
      last = *u.next_visit;
    }
    // What reconciling does: a URL found captured gets a next visit, here one still due (and
    // past the cursor), so the loop may meet it again.
    if (u.url.ends_with("7") && u.last_capture == 0) {
      st.mark_captured(u.url, 4000, 4500);
      ++moved;
    }
  });
  EXPECT_EQ(seen.size(), 2500u);
  EXPECT_EQ(moved, 250u) << "a URL met again was not moved again";
  for (const auto& [url, n] : seen) {
    if (url.ends_with("7"))
      EXPECT_LE(n, 2) << url;
    else
      EXPECT_EQ(n, 1) << url;
  }
  EXPECT_FALSE(seen.contains("https://later.example/0"));
  EXPECT_FALSE(seen.contains("https://done.example/0"));
}

TEST(StateStore, ValidatorsOfAnOlderStateAreDroppedOnce) {
  test::TempDir dir("state");
  const auto file = dir / "state.sqlite3";
  {
    StateStore st(file);
    SourceState src;
    src.name = "map";
    src.etag = "\"v1\"";
    src.last_modified = "Wed, 08 Apr 2026 16:09:31 GMT";
    src.runs = 3;
    st.put_source(src);
  }
  // As version 1 left it: validators kept after a run that read a sitemap index.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=1", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  {
    StateStore st(file);
    auto src = st.source("map");
    ASSERT_TRUE(src);
    EXPECT_EQ(src->etag, "");
    EXPECT_EQ(src->last_modified, "");
    EXPECT_EQ(src->runs, 3) << "only the validators go";
    SourceState again = *src;
    again.etag = "\"v2\"";
    st.put_source(again);
  }
  // Once: validators stored since are kept.
  StateStore st(file);
  EXPECT_EQ(st.source("map")->etag, "\"v2\"");
}

// A state written by version 2, whose sources table has no validators_url: the column is
// added, and the validators it holds (of no known URL) stay, but match no source URL. Its URLs,
// held as found, take the form they are requested in.
TEST(StateStore, AVersionTwoStateGainsTheValidatorsUrlAndUrlsInRequestForm) {
  test::TempDir dir("state");
  const auto file = dir / "state.sqlite3";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TABLE sources (name TEXT PRIMARY KEY, next_run INTEGER NOT NULL "
                         "DEFAULT 0, last_run INTEGER NOT NULL DEFAULT 0, etag TEXT NOT NULL "
                         "DEFAULT '', last_modified TEXT NOT NULL DEFAULT '', last_status "
                         "INTEGER NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '', runs "
                         "INTEGER NOT NULL DEFAULT 0, failures INTEGER NOT NULL DEFAULT 0, "
                         "links_found INTEGER NOT NULL DEFAULT 0);"
                         "INSERT INTO sources (name, etag, runs) VALUES ('f', '\"v1\"', 4);"
                         "CREATE TABLE urls (url TEXT PRIMARY KEY, source TEXT NOT NULL, "
                         "discovered INTEGER NOT NULL, first_capture INTEGER NOT NULL DEFAULT 0, "
                         "last_capture INTEGER NOT NULL DEFAULT 0, next_visit INTEGER, visits "
                         "INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, "
                         "last_error TEXT NOT NULL DEFAULT '', plugin TEXT NOT NULL DEFAULT '');"
                         // Held as found (a space, a non-ASCII path), one of them found again
                         // in request form by a newer daemon before the upgrade.
                         "INSERT INTO urls (url, source, discovered, first_capture, "
                         "last_capture, next_visit, visits) VALUES "
                         "('https://a.example/x y', 'f', 10, 100, 200, 300, 2),"
                         "('https://a.example/m\xC3\xBCll', 'f', 10, 100, 100, 150, 1),"
                         "('https://a.example/m%C3%BCll', 'f', 50, 0, 0, 60, 0),"
                         "('https://a.example/plain', 'f', 10, 0, 0, 20, 0),"
                         // Given up before its first capture: not tried again before version 5.
                         "('https://a.example/lost', 'f', 10, 0, 0, NULL, 0);"
                         "PRAGMA user_version=2;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  {
    StateStore st(file);
    auto src = st.source("f");
    ASSERT_TRUE(src);
    EXPECT_EQ(src->runs, 4);
    EXPECT_EQ(src->etag, "\"v1\"");
    EXPECT_EQ(src->validators_url, "");
    EXPECT_EQ(src->planned_for, "");  // version 5: not known, so the run planned stands
    SourceState again = *src;
    again.validators_url = "https://news.example/feed.xml";
    again.planned_for = "feed https://news.example/feed.xml 900000";
    st.put_source(again);
  }
  StateStore st(file);
  EXPECT_EQ(st.source("f")->validators_url, "https://news.example/feed.xml");
  EXPECT_EQ(st.source("f")->planned_for, "feed https://news.example/feed.xml 900000");
  // The URLs in the form they are requested in, the two spellings of one made one row.
  EXPECT_FALSE(st.url("https://a.example/x y"));
  auto spaced = st.url("https://a.example/x%20y");
  ASSERT_TRUE(spaced);
  EXPECT_EQ(spaced->visits, 2);
  EXPECT_EQ(spaced->next_visit, 300);
  EXPECT_FALSE(st.url("https://a.example/m\xC3\xBCll"));
  auto merged = st.url("https://a.example/m%C3%BCll");
  ASSERT_TRUE(merged);
  EXPECT_EQ(merged->first_capture, 100);
  EXPECT_EQ(merged->visits, 1);
  EXPECT_EQ(merged->discovered, 10);
  EXPECT_TRUE(st.url("https://a.example/plain"));
  auto lost = st.url("https://a.example/lost");
  ASSERT_TRUE(lost);
  ASSERT_TRUE(lost->next_visit);
  EXPECT_GT(*lost->next_visit, 20);
  EXPECT_EQ(st.url("https://a.example/plain")->next_visit, 20);
}

}  // namespace
}  // namespace vellum::daemon
