// Index::search on a real SQLite file: ranking, phrases, prefixes, one hit per URL, filters, and
// the full-text rows following the articles they come from (replaced, cut away, cleared,
// upgraded from an index without them). The query language's checks and their messages.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "index/Index.h"
#include "index/SearchQuery.h"
#include "support/TempDir.h"
#include "util/Url.h"

using namespace vellum::index;
using vellum::test::read_file;
using vellum::test::TempDir;
using vellum::test::write_file;

namespace {

class IndexSearchTest : public ::testing::Test {
 protected:
  void SetUp() override { idx_ = Index::open(file(), true); }
  std::filesystem::path file() const { return tmp_ / "index.sqlite3"; }

  // Capture ids are UUIDs: the short names the tests use ("c1") are kept in their last digits.
  static std::string cid(const std::string& name) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char ch : name) hex += std::string{kHex[ch >> 4], kHex[ch & 15]};
    return "00000000-0000-4000-8000-" + std::string(12 - hex.size(), '0') + hex;
  }
  static std::string rid(const std::string& name) { return "<urn:uuid:" + cid(name) + ">"; }
  static std::string short_name(const std::string& id) {
    std::string hex = id.substr(24), out;
    hex.erase(0, hex.find_first_not_of('0'));
    if (hex.size() % 2) hex.insert(0, "0");
    for (std::size_t i = 0; i < hex.size(); i += 2)
      out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
  }

  // A capture of `url` at `date` ("2026-01-0xT00:00:00.000000Z") with an article.
  void add(const std::string& id, const std::string& url, const std::string& date,
           const std::string& title, const std::string& body, const std::string& lead = {},
           const std::string& file = "a.warc.zst", std::uint64_t offset = 0) {
    CaptureRow c;
    c.capture_id = cid(id);
    c.record_id = rid(id);
    c.record_type = "response";
    c.url = url;
    c.surt = vellum::util::surt(url);
    c.date = date;
    c.status = 200;
    c.mime = "text/html";
    c.payload_digest = "sha1:" + id;
    c.file = file;
    c.offset = offset;
    c.length = 10;
    idx_->add_capture(c);
    add_article(id, date, title, body, lead, file, offset + 10);
  }
  void add_article(const std::string& id, const std::string& date, const std::string& title,
                   const std::string& body, const std::string& lead = {},
                   const std::string& file = "a.warc.zst", std::uint64_t offset = 10) {
    ArticleRow a;
    a.capture_id = cid(id);
    a.record_id = "<urn:uuid:meta-" + id + date + ">";
    a.file = file;
    a.offset = offset;
    a.length = 10;
    a.date = date;
    a.title = title;
    a.extractor = "generic";
    a.lead = lead;
    a.body_text = body;
    idx_->add_article(a);
  }
  std::vector<std::string> ids(const std::string& text, SearchQuery q = {}) {
    q.text = text;
    std::vector<std::string> out;
    for (const auto& h : idx_->search(q)) out.push_back(short_name(h.capture.capture_id));
    return out;
  }
  using V = std::vector<std::string>;

  TempDir tmp_{"index-search"};
  std::unique_ptr<Index> idx_;
};

const char* kDay1 = "2026-01-01T00:00:00.000000Z";
const char* kDay2 = "2026-01-02T00:00:00.000000Z";
const char* kDay3 = "2026-01-03T00:00:00.000000Z";

}  // namespace

TEST_F(IndexSearchTest, PhrasesPrefixesAndOperators) {
  add("c1", "https://news.example/a", kDay1, "Bridge reopens",
      "The harbour bridge opened again.\n\nTraffic is light.");
  add("c2", "https://news.example/b", kDay1, "Budget vote",
      "The council voted on the harbour budget and the bridge repairs.");
  add("c3", "https://other.example/c", kDay2, "Weather",
      "Rain all week; the bridge is closed to bicycles.");
  EXPECT_EQ(ids("\"harbour bridge\""), V{"c1"});
  EXPECT_EQ(ids("harbour bridge").size(), 2u);
  EXPECT_EQ(ids("bicycl*"), V{"c3"});
  EXPECT_EQ(ids("bicycl"), V{});
  EXPECT_EQ(ids("\"harbour budg\"*"), V{"c2"});
  EXPECT_EQ(ids("bridge NOT harbour"), V{"c3"});
  EXPECT_EQ(ids("traffic OR rain").size(), 2u);
  EXPECT_EQ(ids("(traffic OR council) AND harbour").size(), 2u);
  // A word beside parentheses is ANDed with them, as between two words.
  EXPECT_EQ(ids("harbour (traffic OR council)").size(), 2u);
  EXPECT_EQ(ids("(traffic OR council) harbour").size(), 2u);
  EXPECT_EQ(ids("(rain)(bicycl*)"), V{"c3"});
  EXPECT_EQ(ids("\"harbour bridge\" (traffic OR rain)"), V{"c1"});
  // The title weighs most: "bridge" in a title beats "bridge" in bodies.
  EXPECT_EQ(ids("bridge").front(), "c1");
  EXPECT_EQ(ids("budget").front(), "c2");
  // Case and accents do not matter.
  add("c4", "https://news.example/d", kDay2, "Café society", "Crème brûlée for all.");
  EXPECT_EQ(ids("CAFE creme"), V{"c4"});

  // As deep as the parser allows, with an operator at every level, SQLite's full-text
  // parser takes it too (it has a stack of its own, which 33 such levels overflowed).
  for (const std::string level :
       {"(traffic OR ", "(rain AND ", "bridge NOT (", "(\"a b\" OR c* OR "}) {
    std::string deep;
    for (int i = 0; i < 30; ++i) deep += level;
    deep += "traffic" + std::string(30, ')');
    SearchQuery nested;
    nested.text = deep;
    EXPECT_NO_THROW(idx_->search(nested)) << level;
  }

  SearchQuery q;
  q.text = "traffic";
  auto hits = idx_->search(q);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].title, "Bridge reopens");
  EXPECT_EQ(hits[0].capture.url, "https://news.example/a");
  EXPECT_EQ(hits[0].snippet, "The harbour bridge opened again. [Traffic] is light.");
  EXPECT_GT(hits[0].score, 0);
  q.mark_open = "<b>";
  q.mark_close = "</b>";
  EXPECT_EQ(idx_->search(q)[0].snippet,
            "The harbour bridge opened again. <b>Traffic</b> is light.");
}

TEST_F(IndexSearchTest, LeadIsSearchedToo) {
  add("c1", "https://news.example/a", kDay1, "Rivers", "Body text.", "A standfirst about otters.");
  EXPECT_EQ(ids("otters"), V{"c1"});
  // The snippet shows the body when the match is there, else the lead, else the title.
  SearchQuery q;
  q.text = "otters";
  EXPECT_EQ(idx_->search(q).at(0).snippet, "A standfirst about [otters].");
  q.text = "rivers";
  EXPECT_EQ(idx_->search(q).at(0).snippet, "[Rivers]");
  q.text = "rivers OR body";
  EXPECT_EQ(idx_->search(q).at(0).snippet, "[Body] text.");
}

TEST_F(IndexSearchTest, OneHitPerUrlTheLatestThatMatches) {
  add("c1", "https://news.example/a", kDay1, "Story", "First version mentions otters.");
  add("c2", "https://www.news.example/a", kDay2, "Story", "Second version mentions otters.");
  add("c3", "https://news.example/a", kDay3, "Story", "Third version mentions beavers.");
  EXPECT_EQ(ids("otters"), V{"c2"});
  EXPECT_EQ(ids("beavers"), V{"c3"});
  EXPECT_EQ(ids("version"), V{"c3"});
  EXPECT_EQ(ids("first"), V{"c1"});
}

TEST_F(IndexSearchTest, DomainTimeAndLimit) {
  add("c1", "https://news.example/a", kDay1, "Otters", "Otters.");
  add("c2", "https://www.news.example/b", kDay2, "Otters", "Otters.");
  add("c3", "https://other.example/c", kDay3, "Otters", "Otters.");
  SearchQuery q;
  q.domain = "news.example";
  EXPECT_EQ(ids("otters", q).size(), 2u);
  q = {};
  q.since = kDay2;
  EXPECT_EQ(ids("otters", q).size(), 2u);
  q.until = kDay2;
  EXPECT_EQ(ids("otters", q), V{"c2"});
  q = {};
  q.limit = 1;
  EXPECT_EQ(ids("otters", q).size(), 1u);
  q.limit = -1;
  EXPECT_EQ(ids("otters", q).size(), 3u);
}

// A domain is matched in the form hosts are requested in, whichever form is typed: any case,
// and an internationalised name in Unicode or IDNA; a name that cannot be one is an error.
TEST_F(IndexSearchTest, DomainInAnyFormTheHostCanBeWritten) {
  add("c1", "https://www.xn--bcher-kva.example/a", kDay1, "Otters", "Otters.");
  add("c2", "https://news.example/b", kDay2, "Otters", "Otters.");
  for (const char* domain : {"b\xc3\xbc"
                             "cher.example",
                             "B\xc3\x9c"
                             "CHER.example",
                             "xn--bcher-kva.example"}) {
    SearchQuery q;
    q.domain = domain;
    EXPECT_EQ(ids("otters", q), V{"c1"}) << domain;
    ListFilter f;
    f.domain = domain;
    auto rows = idx_->list(f);
    ASSERT_EQ(rows.size(), 1u) << domain;
    EXPECT_EQ(short_name(rows[0].capture_id), "c1");
  }
  for (const char* typed : {"NEWS.Example", " .news.example. ", "news.example."}) {
    ListFilter f;
    f.domain = typed;
    EXPECT_EQ(idx_->list(f).size(), 1u) << typed;
  }
  ListFilter bad;
  bad.domain =
      "\xcc\x81"
      "ab.example";
  EXPECT_THROW(idx_->list(bad), std::invalid_argument);
  // An IPv4 address in any form a URL may give it, and then that address alone: the end of
  // one is no parent domain of it.
  add("c3", "http://127.0.0.1:8080/c", kDay2, "Otters", "Otters.");
  for (const char* typed : {"127.0.0.1", "127.1", "0x7f.0.0.1"}) {
    ListFilter f;
    f.domain = typed;
    auto rows = idx_->list(f);
    ASSERT_EQ(rows.size(), 1u) << typed;
    EXPECT_EQ(short_name(rows[0].capture_id), "c3");
  }
  for (const char* part : {"0.0.1", "1"}) {
    ListFilter f;
    f.domain = part;
    EXPECT_TRUE(idx_->list(f).empty()) << part;
  }
  bad.domain = "300.1";
  EXPECT_THROW(idx_->list(bad), std::invalid_argument);
}

TEST_F(IndexSearchTest, TextFollowsItsArticle) {
  add("c1", "https://news.example/a", kDay1, "Story", "About otters.", {}, "a.warc.zst", 0);
  add("c2", "https://news.example/b", kDay1, "Story", "About beavers.", {}, "b.warc.zst", 0);
  // A newer article of the same capture replaces the text; an older one is ignored.
  add_article("c1", kDay2, "Story", "About herons.");
  EXPECT_EQ(ids("otters"), V{});
  EXPECT_EQ(ids("herons"), V{"c1"});
  add_article("c1", kDay1, "Story", "About otters.");
  EXPECT_EQ(ids("herons"), V{"c1"});
  // Rows cut away with their file's tail, or with the whole file, take their text along.
  idx_->remove_from("a.warc.zst", 0);
  EXPECT_EQ(ids("herons"), V{});
  EXPECT_EQ(ids("beavers"), V{"c2"});
  idx_->remove_file("b.warc.zst");
  EXPECT_EQ(ids("beavers"), V{});
  add("c3", "https://news.example/c", kDay1, "Story", "About otters.");
  idx_->clear();
  EXPECT_EQ(ids("otters"), V{});
  add("c4", "https://news.example/d", kDay1, "Story", "About otters.");
  EXPECT_EQ(ids("otters"), V{"c4"});
}

// A full-text index whose own records cannot be read fails every search: the message says the
// index is damaged and how to rebuild it, not that the query is malformed.
TEST_F(IndexSearchTest, DamagedFullTextIndexIsNamedNotTheQuery) {
  add("c1", "https://news.example/a", kDay1, "Story", "About otters.");
  idx_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "UPDATE articles_text_config SET v = 7 WHERE k = 'version'", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto reader = Index::open(file(), false);
  SearchQuery q;
  q.text = "otters";
  try {
    reader->search(q);
    FAIL() << "a search of a damaged full-text index succeeded";
  } catch (const IndexDamaged& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("full-text index: invalid fts5 file format (found 7, expected 4)"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("`vellum reindex` rebuilds it"), std::string::npos) << what;
    EXPECT_EQ(what.find("expected words"), std::string::npos) << what;
  }
  EXPECT_FALSE(reader->damage().empty());
}

// Damage deeper in the full-text index than a search's first reads: SQLite's own check (run on
// a private copy, so that a running writer is not held up) and the count of texts find it.
TEST_F(IndexSearchTest, DamageInsideTheFullTextIndexIsFound) {
  for (int i = 0; i < 40; ++i)
    add("c" + std::to_string(i), "https://news.example/" + std::to_string(i), kDay1,
        "Story " + std::to_string(i), "About otters and herons, part " + std::to_string(i) + ".");
  EXPECT_EQ(idx_->damage(), std::vector<std::string>{});
  idx_.reset();
  const std::string healthy = read_file(file());
  for (const char* sql : {"UPDATE articles_text_data SET block = x'00' WHERE id = 1",
                          "DELETE FROM articles_text_docsize WHERE id % 2 = 0",
                          "DELETE FROM articles_text_content"}) {
    SCOPED_TRACE(sql);
    write_file(file(), healthy);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto reader = Index::open(file(), false);
    const auto found = reader->damage();
    ASSERT_EQ(found.size(), 1u) << ::testing::PrintToString(found);
    EXPECT_EQ(found[0].rfind("full-text index: ", 0), 0u) << found[0];
  }
}

TEST_F(IndexSearchTest, OlderIndexIsUpgradedOnWritableOpen) {
  add("c1", "https://news.example/a", kDay1, "Story", "About otters.");
  idx_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    // Version 2: the article JSON in the index, no full-text table.
    ASSERT_EQ(sqlite3_exec(db,
                           "ALTER TABLE articles ADD COLUMN json TEXT NOT NULL DEFAULT '';"
                           "UPDATE articles SET json = json_object('title', title, 'body_text', "
                           "'About otters.', 'lead', NULL);"
                           "DROP TRIGGER articles_text_delete; DROP TABLE articles_text; "
                           "PRAGMA user_version = 2;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  try {
    Index::open(file(), false);
    FAIL() << "a read-only open of an older index must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("has schema version 2, expected 4 to 6; run `vellum reindex`"),
        std::string::npos)
        << e.what();
  }
  idx_ = Index::open(file(), true);
  EXPECT_EQ(ids("otters"), V{"c1"});
  add("c2", "https://news.example/b", kDay1, "Story", "About otters.");
  EXPECT_EQ(ids("otters").size(), 2u);
  idx_.reset();
  auto reader = Index::open(file(), false);
  SearchQuery q;
  q.text = "otters";
  EXPECT_EQ(reader->search(q).size(), 2u);
}

// Version 3 kept each article's JSON in the index (half of its size) and earlier versions
// filled the text table from triggers that parsed it; opening such an index for writing drops
// both and keeps everything else.
TEST_F(IndexSearchTest, AnIndexOfVersion3IsUpgradedInPlace) {
  add("c1", "https://news.example/a", kDay1, "Story", "About otters.");
  idx_.reset();
  auto with_db = [&](const std::function<void(sqlite3*)>& f) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    f(db);
    sqlite3_close(db);
  };
  auto count = [](sqlite3* db, const char* sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return n;
  };
  with_db([](sqlite3* db) {
    char* error = nullptr;
    EXPECT_EQ(
        sqlite3_exec(
            db,
            "ALTER TABLE articles ADD COLUMN json TEXT NOT NULL DEFAULT '';"
            "UPDATE articles SET json = json_object('title', title, 'body_text', 'About otters.');"
            "CREATE VIEW articles_text_source AS SELECT rowid AS id, title, '' AS lead, "
            "json_extract(json, '$.body_text') AS body FROM articles;"
            "CREATE TRIGGER articles_text_insert AFTER INSERT ON articles BEGIN "
            "INSERT INTO articles_text(rowid, title, lead, body) SELECT id, title, lead, "
            "body FROM articles_text_source WHERE id = new.rowid; END;"
            "PRAGMA user_version = 3;",
            nullptr, nullptr, &error),
        SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
  });
  // Reading does not upgrade: it says what to do.
  try {
    Index::open(file(), false);
    ADD_FAILURE() << "a version 3 index was opened for reading";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("has schema version 3, expected 4 to 6"),
              std::string::npos)
        << e.what();
  }
  // The upgrade says so before it starts (vellumd passes it on to systemd).
  std::vector<std::string> told;
  auto busy = [&](const std::string& what) { told.push_back(what); };
  idx_ = Index::open(file(), true, busy);
  ASSERT_FALSE(told.empty());
  EXPECT_EQ(told.front(), "upgrading the index from schema 3 to 6");
  add("c2", "https://news.example/b", kDay1, "Story", "About otters too.");
  EXPECT_EQ(ids("otters"), (V{"c1", "c2"}));
  // Opening an index that is up to date has nothing long to tell.
  told.clear();
  idx_ = Index::open(file(), true, busy);
  EXPECT_TRUE(told.empty()) << told.front();
  ASSERT_TRUE(idx_->article(cid("c1")));
  EXPECT_EQ(idx_->article_text(cid("c1"))->body, "About otters.");
  idx_.reset();
  with_db([&](sqlite3* db) {
    EXPECT_EQ(count(db, "SELECT count(*) FROM articles_text"), 2);
    EXPECT_EQ(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'articles_text_insert'"),
              0);
    EXPECT_EQ(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'articles_text_source'"),
              0);
    EXPECT_EQ(count(db, "SELECT count(*) FROM pragma_table_info('articles') WHERE name = 'json'"),
              0);
    EXPECT_EQ(count(db, "PRAGMA user_version"), 6);
  });
}

// Version 4 had no captures.original_uri. A reader takes such an index as it is (an archive
// on a read-only backup cannot be upgraded), the column reading as empty; opening it for
// writing adds the column and keeps every row. An index a newer Vellum wrote is refused both
// ways rather than marked as this version's.
TEST_F(IndexSearchTest, AnIndexOfVersion4IsReadAndUpgraded) {
  add("c1", "https://news.example/a", kDay1, "Story", "About otters.");
  idx_.reset();
  auto exec = [&](const char* sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  };
  exec("ALTER TABLE captures DROP COLUMN original_uri; PRAGMA user_version = 4;");
  {
    auto reader = Index::open(file(), false);
    auto c1 = reader->by_record_id(rid("c1"));
    ASSERT_TRUE(c1);
    EXPECT_EQ(c1->url, "https://news.example/a");
    EXPECT_EQ(c1->original_uri, "");
    EXPECT_TRUE(reader->latest(vellum::util::surt("https://news.example/a")));
    SearchQuery q;
    q.text = "otters";
    ASSERT_EQ(reader->search(q).size(), 1u);
    EXPECT_EQ(reader->search(q)[0].title, "Story");
  }
  idx_ = Index::open(file(), true);
  CaptureRow revisit = idx_->by_record_id(rid("c1")).value();
  revisit.capture_id = cid("c2");
  revisit.record_id = rid("c2");
  revisit.record_type = "revisit";
  revisit.original_uri = "https://news.example/elsewhere";
  idx_->add_capture(revisit);
  EXPECT_EQ(idx_->by_record_id(rid("c2")).value().original_uri, "https://news.example/elsewhere");
  EXPECT_EQ(idx_->by_record_id(rid("c1")).value().original_uri, "");
  idx_.reset();
  EXPECT_EQ(Index::open(file(), false)->by_record_id(rid("c2")).value().original_uri,
            "https://news.example/elsewhere");

  exec("PRAGMA user_version = 7;");
  for (bool writable : {false, true}) {
    try {
      Index::open(file(), writable);
      ADD_FAILURE() << "a version 7 index was opened, writable: " << writable;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(
          std::string(e.what()).find(
              "has schema version 7, expected 6 or older; a newer version of Vellum wrote it"),
          std::string::npos)
          << e.what();
    }
  }
  // The refused writable open left it as it was.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 7);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// Version 5 took a record ID of another form than urn:uuid, or an upper-case UUID, as the
// capture id; opening it for writing gives those captures, and their articles, the UUID
// util::capture_id_of gives, and leaves the others alone.
TEST_F(IndexSearchTest, AnIndexOfVersion5GetsUuidCaptureIds) {
  add("c1", "https://news.example/a", kDay1, "Story", "About otters.");
  CaptureRow foreign = idx_->by_record_id(rid("c1")).value();
  foreign.record_id = "<http://example.com/rec/1>";
  foreign.capture_id = foreign.record_id;
  foreign.url = foreign.surt = "https://news.example/b";
  idx_->add_capture(foreign);
  CaptureRow upper = foreign;
  upper.record_id = "<urn:uuid:0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9>";
  upper.capture_id = "0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F9";
  upper.url = upper.surt = "https://news.example/c";
  idx_->add_capture(upper);
  ArticleRow a = idx_->article(cid("c1")).value();
  a.capture_id = foreign.capture_id;
  a.record_id = "<urn:uuid:meta-foreign>";
  a.title = "Foreign";
  idx_->add_article(a);
  idx_.reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file().c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 5;", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  idx_ = Index::open(file(), true);
  EXPECT_EQ(idx_->by_record_id("<http://example.com/rec/1>").value().capture_id,
            "84671b94-41c0-5f9f-9a98-361e3fef2695");
  EXPECT_EQ(idx_->article("84671b94-41c0-5f9f-9a98-361e3fef2695").value().title, "Foreign");
  EXPECT_FALSE(idx_->article(foreign.capture_id));
  EXPECT_EQ(idx_->by_record_id(upper.record_id).value().capture_id,
            "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9");
  EXPECT_EQ(idx_->by_record_id(rid("c1")).value().capture_id, cid("c1"));
  EXPECT_EQ(idx_->article(cid("c1")).value().title, "Story");
}

TEST_F(IndexSearchTest, MalformedQueriesAreRefusedBeforeSqlite) {
  EXPECT_THROW(ids("\"open"), SearchQueryError);
  EXPECT_THROW(ids("a OR"), SearchQueryError);
  EXPECT_THROW(ids(""), SearchQueryError);
  add("c1", "https://news.example/a", kDay1, "Story", "covid-19 in the U.S. today");
  EXPECT_EQ(ids("covid-19"), V{"c1"});
  EXPECT_EQ(ids("U.S."), V{"c1"});
  EXPECT_EQ(ids("today -"), V{"c1"});
  EXPECT_EQ(ids("title:today"), V{});  // a phrase "title today", not a column filter
}

TEST(SearchQueryTest, TokensOfGoodQueries) {
  auto t = parse_search_query("  apples \"green pears\"* OR (plum* NOT prune) ");
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].text, "apples");
  EXPECT_EQ(t[0].at, 3u);
  EXPECT_EQ(t[1].text, "green pears");
  EXPECT_TRUE(t[1].prefix);
  EXPECT_EQ(t[2].kind, QueryToken::Kind::kOr);
  EXPECT_EQ(t[3].kind, QueryToken::Kind::kOpen);
  EXPECT_EQ(t[4].text, "plum");
  EXPECT_TRUE(t[4].prefix);
  EXPECT_EQ(t[5].kind, QueryToken::Kind::kNot);
  EXPECT_EQ(t[7].kind, QueryToken::Kind::kClose);
  // Lower-case operators are words.
  EXPECT_EQ(parse_search_query("rock and roll").size(), 3u);
  EXPECT_EQ(parse_search_query("or").size(), 1u);
}

TEST(SearchQueryTest, ErrorsSayWhatWasFoundAndExpected) {
  auto message = [](const std::string& q) -> std::string {
    try {
      parse_search_query(q);
    } catch (const SearchQueryError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_EQ(message("\"climate change"),
            "search query '\"climate change': found an opening \" at character 1 with no closing "
            "\", expected a phrase in quotes such as \"climate change\"");
  EXPECT_EQ(message("apples OR"),
            "search query 'apples OR': found the end of the query after OR at character 8, "
            "expected a word, a \"phrase\", a prefix such as vacc* or '(' after it");
  EXPECT_EQ(message("OR apples"),
            "search query 'OR apples': found OR at character 1, expected a word, a \"phrase\", a "
            "prefix such as vacc* or '(' before it");
  EXPECT_EQ(message("apples AND OR pears"),
            "search query 'apples AND OR pears': found OR at character 12 after AND at character "
            "8, expected a word, a \"phrase\", a prefix such as vacc* or '('");
  EXPECT_EQ(message("NOT pears"),
            "search query 'NOT pears': found NOT at character 1 with nothing before it, expected "
            "words to keep before NOT (as in: apples NOT pears)");
  EXPECT_EQ(message("(apples OR pears"),
            "search query '(apples OR pears': found the end of the query, expected ')' to close "
            "the '(' at character 1");
  // Deep nesting is refused, not a crash; thirty levels are still a query.
  EXPECT_NE(message(std::string(5000, '(') + "page" + std::string(5000, ')'))
                .find("': found more than 30 parentheses open at character 31, expected at "
                      "most 30 inside each other"),
            std::string::npos);
  EXPECT_NO_THROW(parse_search_query(std::string(30, '(') + "page" + std::string(30, ')')));
  EXPECT_EQ(message("apples)"),
            "search query 'apples)': found ')' at character 7 with no '(' before it");
  EXPECT_EQ(message("()"),
            "search query '()': found ')' at character 2 after '(' at character 1, expected a "
            "word, a \"phrase\", a prefix such as vacc* or '('");
  EXPECT_EQ(message("pâté *"),
            "search query 'pâté *': found '*' at character 6 with no word before it, expected a "
            "prefix such as vacc*");
  EXPECT_EQ(message("a \"\" b"),
            "search query 'a \"\" b': found an empty phrase at character 3, expected words "
            "between the quotes");
  EXPECT_EQ(message(""),
            "empty search query: expected a word, a \"phrase\", a prefix such as "
            "vacc* or '('");
  EXPECT_EQ(message("- & +"),
            "search query '- & +': found no words, expected a word, a "
            "\"phrase\", a prefix such as vacc* or '('");
}

// Pages SQLite finds malformed are an error that says the index is damaged and how to rebuild
// it, from every look-up: never "no such capture" or "no such file", which would send a reader
// looking in the wrong place and a writer's recovery down the path for a file it never saw.
TEST_F(IndexSearchTest, ADamagedIndexIsNeverTakenForAMissingRow) {
  add("c1", "http://a.test/1", kDay1, "Title", "Body text");
  idx_->set_file({"a.warc.zst", 100, false});
  idx_.reset();
  {
    // Every page but the first (the file header and the schema) gets a header that no b-tree
    // page has.
    std::fstream f(file(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const std::streamoff size = f.tellg();
    for (std::streamoff page = 4096; page < size; page += 4096) {
      f.seekp(page);
      f.write("\x0d\xff\xff\xff\xff\xff\xff\xff", 8);
    }
  }
  auto reader = Index::open(file(), false);
  auto expect_damaged = [](const std::function<void()>& call, const char* what) {
    try {
      call();
      ADD_FAILURE() << what << ": no error";
    } catch (const IndexDamaged& e) {
      EXPECT_NE(std::string(e.what()).find("`vellum reindex` rebuilds it"), std::string::npos)
          << what << ": " << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << what << ": " << e.what();
    }
  };
  expect_damaged([&] { reader->file("a.warc.zst"); }, "file");
  expect_damaged([&] { reader->files(); }, "files");
  expect_damaged([&] { reader->article(cid("c1")); }, "article");
  expect_damaged([&] { reader->capture_count(); }, "capture_count");
  expect_damaged([&] { reader->by_record_id(rid("c1")); }, "by_record_id");
}
