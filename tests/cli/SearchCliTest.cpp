// `vellum search` and `vellum history` on real archives: corpus pages captured with
// `vellum archive` from nginx, searched by phrase, prefix, domain and time; the full-text index
// rebuilt by reindex and upgraded from an older index; a page re-captured unchanged and changed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The current UTC time as YYYYMMDDhhmmss, after waiting for the next second to begin, so that
// everything captured before the call is strictly earlier.
std::string next_second_stamp() {
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  return buf;
}

class CliArchive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
  }
  fs::path archive() const { return tmp_ / "archive"; }
  std::vector<std::string> base() const {
    return {"--archive", archive().string(), "--plugin-dir", VELLUM_TEST_PLUGIN_DIR};
  }
  int vellum(std::vector<std::string> args, std::string* out = nullptr) {
    auto all = base();
    all.insert(all.end(), args.begin(), args.end());
    return run_vellum(all, out);
  }
  // Runs vellum and keeps only its standard error.
  int vellum_stderr(std::vector<std::string> args, std::string* err) {
    std::string cmd = shell_quote(VELLUM_CLI_PATH);
    auto all = base();
    all.insert(all.end(), args.begin(), args.end());
    for (const auto& a : all) cmd += " " + shell_quote(a);
    auto [rc, out] = shell(cmd + " 2>&1 >/dev/null");
    *err = out;
    return rc;
  }
  std::vector<json> search(std::vector<std::string> args) {
    args.insert(args.begin(), {"--json", "search"});
    std::string out;
    EXPECT_EQ(vellum(args, &out), 0) << out;
    return json_lines(out);
  }
  json restore_json(const std::string& ref) {
    std::string out;
    EXPECT_EQ(vellum({"restore", ref, "--format", "json"}, &out), 0) << out;
    return json::parse(out);
  }

  TempDir tmp_{"search"};
};

class SearchCliTest : public CliArchive {
 protected:
  void SetUp() override {
    CliArchive::SetUp();
    if (IsSkipped()) return;
    auto pages = build_corpus_site(site_.path());
    nginx_ = std::make_unique<Nginx>(site_.path());
    for (const auto& p : pages) {
      if (p.path.find("fundus/us/") == std::string::npos) continue;
      urls_.push_back(nginx_->url(p.path));
      if (urls_.size() == 8) break;
    }
    ASSERT_EQ(urls_.size(), 8u);
    std::vector<std::string> args{"archive"};
    args.insert(args.end(), urls_.begin(), urls_.end());
    std::string out;
    ASSERT_EQ(vellum(args, &out), 0) << out;
    target_ = urls_[3];
    article_ = restore_json(target_);
    ASSERT_FALSE(article_["title"].get<std::string>().empty());
    body_ = article_["body_text"].get<std::string>();
    ASSERT_GT(body_.size(), 200u);
  }

  // Five words in a row from the middle of the target's first long paragraph.
  std::string body_phrase() const {
    std::istringstream paragraphs(body_);
    std::string para, best;
    while (std::getline(paragraphs, para))
      if (para.size() > best.size()) best = para;
    std::istringstream words(best);
    std::vector<std::string> all;
    std::string w;
    while (words >> w) all.push_back(w);
    std::size_t start = all.size() / 2;
    std::string phrase;
    for (std::size_t i = start; i < start + 5 && i < all.size(); ++i)
      phrase += (phrase.empty() ? "" : " ") + all[i];
    return phrase;
  }

  // A word of eight letters or more from the target's title.
  std::string long_title_word() const {
    std::istringstream words(article_["title"].get<std::string>());
    std::string w;
    while (words >> w) {
      std::string letters;
      for (char c : w)
        if (std::isalpha(static_cast<unsigned char>(c))) letters += c;
      if (letters.size() >= 8 && letters.size() == w.size()) return letters;
    }
    return {};
  }

  TempDir site_{"search-site"};
  std::unique_ptr<Nginx> nginx_;
  std::vector<std::string> urls_;
  std::string target_;
  json article_;
  std::string body_;
};

}  // namespace

TEST_F(SearchCliTest, PhraseFromOneBodyFindsThatPageFirst) {
  std::string phrase = body_phrase();
  auto hits = search({"\"" + phrase + "\""});
  ASSERT_FALSE(hits.empty()) << phrase;
  EXPECT_EQ(hits[0]["url"], target_) << phrase;
  EXPECT_EQ(hits[0]["rank"], 1);
  EXPECT_EQ(hits[0]["title"], article_["title"]);
  EXPECT_EQ(hits[0]["capture_id"], article_["capture_id"]);
  for (const char* key : {"capture_id", "url", "date", "title", "snippet", "rank", "score"})
    EXPECT_TRUE(hits[0].contains(key)) << key;
  std::string snippet = hits[0]["snippet"];
  EXPECT_NE(snippet.find('['), std::string::npos) << snippet;
  EXPECT_NE(snippet.find(']'), std::string::npos) << snippet;
  EXPECT_EQ(snippet.find('\n'), std::string::npos) << snippet;

  // Plain output: numbered hits, the title, the capture line, the snippet with marks.
  std::string out;
  ASSERT_EQ(vellum({"search", "\"" + phrase + "\""}, &out), 0);
  EXPECT_EQ(out.rfind("1. " + article_["title"].get<std::string>() + "\n", 0), 0u) << out;
  EXPECT_NE(out.find(target_), std::string::npos) << out;

  // Several words without quotes must all occur; the page is among the hits.
  std::istringstream words(phrase);
  std::vector<std::string> args;
  std::string w;
  while (words >> w) args.push_back(w);
  hits = search(args);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0]["url"], target_);

  // A word found nowhere: no hits, exit 0.
  EXPECT_TRUE(search({"zzqxjvwordnowhere"}).empty());
}

TEST_F(SearchCliTest, PrefixQueryFindsWordsStartingWithIt) {
  std::string word = long_title_word();
  ASSERT_FALSE(word.empty()) << article_["title"];
  std::string prefix = word.substr(0, 6);
  auto hits = search({prefix + "*", "--limit", "100"});
  bool found = false;
  for (const auto& h : hits) found |= h["url"] == target_;
  EXPECT_TRUE(found) << prefix << "*";
  // Without the star the cut word is no word of the page.
  bool exact = false;
  for (const auto& h : search({prefix, "--limit", "100"})) exact |= h["url"] == target_;
  EXPECT_FALSE(exact) << prefix;
  // The title weighs more than the body: the target comes before pages that only mention it.
  hits = search({word});
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0]["url"], target_);
}

TEST_F(SearchCliTest, LimitDomainAndSinceFilter) {
  // Every page of the corpus has "the" somewhere.
  EXPECT_EQ(search({"the", "--limit", "100"}).size(), urls_.size());
  EXPECT_EQ(search({"the", "--limit", "3"}).size(), 3u);

  // One more page under another host name (resolved to the same nginx), captured later.
  std::string since = next_second_stamp();
  std::string host = "news.example:" + std::to_string(nginx_->port());
  std::string other = "http://" + host + urls_[5].substr(urls_[5].find('/', 7));
  std::string out;
  ASSERT_EQ(vellum({"archive", "--resolve", host + ":127.0.0.1", other}, &out), 0) << out;

  auto hits = search({"the", "--domain", "news.example", "--limit", "100"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["url"], other);
  hits = search({"the", "--domain", "127.0.0.1", "--limit", "100"});
  EXPECT_EQ(hits.size(), urls_.size());

  hits = search({"the", "--since", since, "--limit", "100"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["url"], other);
  EXPECT_EQ(search({"the", "--until", since, "--limit", "100"}).size(), urls_.size());
  EXPECT_TRUE(search({"the", "--since", "2099"}).empty());

  std::string err;
  EXPECT_EQ(vellum_stderr({"search", "the", "--since", "yesterday"}, &err), 2) << "a bad value";
  EXPECT_NE(err.find("cannot read --since 'yesterday'"), std::string::npos) << err;
}

TEST_F(SearchCliTest, OneHitPerUrlForRecaptures) {
  std::string phrase = "\"" + body_phrase() + "\"";
  std::string out;
  ASSERT_EQ(vellum({"archive", target_}, &out), 0) << out;  // unchanged: a revisit
  ASSERT_EQ(vellum({"reextract"}, &out), 0) << out;         // the article replaced
  auto hits = search({phrase});
  ASSERT_EQ(hits.size(), 1u) << out;
  EXPECT_EQ(hits[0]["url"], target_);
  EXPECT_EQ(hits[0]["capture_id"], article_["capture_id"]);
}

TEST_F(SearchCliTest, BadQueriesAreExplained) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  std::vector<Case> cases = {
      {{"\"unbalanced phrase"}, "found an opening \" at character 1 with no closing \""},
      {{"OR", "apples"}, "found OR at character 1, expected a word"},
      {{"apples", "OR"}, "found the end of the query after OR at character 8, expected a word"},
      {{"apples", "AND", "OR", "pears"}, "found OR at character 12 after AND at character 8"},
      {{"NOT", "pears"}, "found NOT at character 1 with nothing before it"},
      {{"(apples"}, "expected ')' to close the '(' at character 1"},
      {{"apples)"}, "found ')' at character 7 with no '(' before it"},
      {{"*"}, "found '*' at character 1 with no word before it"},
      {{"\"\""}, "found an empty phrase at character 1"},
      {{" "}, "empty search query: expected a word"},
  };
  for (const auto& c : cases) {
    std::string err;
    std::vector<std::string> args{"search"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    EXPECT_EQ(vellum_stderr(args, &err), 2) << c.expect << " (a bad value: usage)";
    EXPECT_NE(err.find(c.expect), std::string::npos) << err;
    EXPECT_EQ(err.rfind("vellum: ", 0), 0u) << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line: " << err;
    EXPECT_EQ(err.find("fts5"), std::string::npos) << err;
  }
  // What FTS5 itself would refuse is fine here: punctuation is left to the tokenizer.
  std::string out;
  EXPECT_EQ(vellum({"search", "covid-19", "U.S.", "title:x", "a+b", "&"}, &out), 0);
}

TEST_F(SearchCliTest, ReindexGivesTheSameResults) {
  std::vector<std::vector<std::string>> queries = {
      {"\"" + body_phrase() + "\""}, {"the", "--limit", "100"}, {long_title_word() + "*"}};
  std::vector<std::vector<json>> before;
  for (const auto& q : queries) before.push_back(search(q));
  for (auto f : {"index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"})
    fs::remove(archive() / f);
  std::string out;
  ASSERT_EQ(vellum({"reindex"}, &out), 0) << out;
  for (std::size_t i = 0; i < queries.size(); ++i) {
    auto after = search(queries[i]);
    ASSERT_EQ(after.size(), before[i].size());
    for (std::size_t k = 0; k < after.size(); ++k) {
      EXPECT_EQ(after[k]["capture_id"], before[i][k]["capture_id"]);
      EXPECT_EQ(after[k]["snippet"], before[i][k]["snippet"]);
      EXPECT_DOUBLE_EQ(after[k]["score"].get<double>(), before[i][k]["score"].get<double>());
    }
  }
}

TEST_F(SearchCliTest, OlderIndexIsUpgradedWhenOpenedForWriting) {
  std::string phrase = "\"" + body_phrase() + "\"";
  // Make the index what version 2 wrote: each article's JSON in the index (as its sidecar has
  // it), no full-text table, user_version 2.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((archive() / "index.sqlite3").c_str(), &db), SQLITE_OK);
  auto exec = [db](const std::string& sql) {
    char* error = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    std::string message = error ? error : "";
    sqlite3_free(error);
    EXPECT_EQ(rc, SQLITE_OK) << message << " in: " << sql;
  };
  exec("ALTER TABLE articles ADD COLUMN json TEXT NOT NULL DEFAULT ''");
  std::size_t articles = 0;
  for (const auto& e : fs::recursive_directory_iterator(archive() / "articles")) {
    if (e.path().extension() != ".json") continue;
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE articles SET json = ?1 WHERE capture_id = ?2", -1, &st,
                                 nullptr),
              SQLITE_OK);
    std::string text = read_file(e.path()), id = e.path().stem().string();
    sqlite3_bind_text(st, 1, text.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(st), SQLITE_DONE);
    articles += static_cast<std::size_t>(sqlite3_changes(db));
    sqlite3_finalize(st);
  }
  ASSERT_GT(articles, 0u);
  exec("DROP TRIGGER articles_text_delete; DROP TABLE articles_text; PRAGMA user_version = 2;");
  sqlite3_close(db);

  // Reading commands do not write: they say what to do.
  std::string err;
  EXPECT_EQ(vellum_stderr({"search", phrase}, &err), 1);
  EXPECT_NE(err.find("has schema version 2, expected 4 to 6; run `vellum reindex`"),
            std::string::npos)
      << err;

  // Any writing command upgrades it in place, filling the full-text table from the articles
  // already indexed (no reindex), and says so. reextract reads the archive too: it upgrades
  // before it reads.
  ASSERT_EQ(vellum_stderr({"reextract"}, &err), 0) << err;
  EXPECT_NE(err.find("upgrading the index from schema 2 to 6"), std::string::npos) << err;
  auto hits = search({phrase});
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0]["url"], target_);
  // The JSON left the index; the article is read from its metadata record as before.
  EXPECT_EQ(restore_json(target_), article_);
  ASSERT_EQ(sqlite3_open((archive() / "index.sqlite3").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT count(*) FROM pragma_table_info('articles') "
                               "WHERE name = 'json'",
                               -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

namespace {

const char* kArticle = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Harbour bridge reopens after repairs</title>
<meta property="og:title" content="Harbour bridge reopens after repairs">
<meta property="article:published_time" content="2026-03-02T08:00:00Z"></head>
<body><article><h1>Harbour bridge reopens after repairs</h1>
<p>The old harbour bridge opened again on Monday morning after eleven months of repairs to its
steel deck, the city's transport office said in a short statement to residents.</p>
<p>Engineers replaced the rusted cross beams and repainted the towers in their original colour,
which the office described as a deep %COLOUR% chosen by the first builders in 1911.</p>
<p>Traffic will be limited to cars and bicycles for the first weeks while sensors on the deck
measure how the new beams behave under load, a spokesperson for the engineers added.</p>
<p>Ferry services that carried commuters across the water during the works will keep running
on weekends until the end of the summer season, the harbour master confirmed.</p>
</article></body></html>
)html";

std::string article_html(const std::string& colour) {
  std::string html = kArticle;
  html.replace(html.find("%COLOUR%"), 8, colour);
  return html;
}

class HistoryCliTest : public CliArchive {
 protected:
  void SetUp() override {
    CliArchive::SetUp();
    if (IsSkipped()) return;
    write_file(site_ / "bridge.html", article_html("oxblood red"));
    nginx_ = std::make_unique<Nginx>(site_.path());
    url_ = nginx_->url("/bridge.html");
  }
  std::string capture() {
    std::string out;
    EXPECT_EQ(vellum({"--json", "archive", url_}, &out), 0) << out;
    return json::parse(out)["capture_id"];
  }

  TempDir site_{"history-site"};
  std::unique_ptr<Nginx> nginx_;
  std::string url_;
};

}  // namespace

TEST_F(HistoryCliTest, ShowsEveryCaptureAndWhatChanged) {
  std::string first = capture();
  std::string between = next_second_stamp();
  write_file(site_ / "bridge.html", article_html("forest green"));
  std::string second = capture();
  std::string third = capture();  // served again unchanged: a revisit

  std::string out;
  ASSERT_EQ(vellum({"--json", "history", url_}, &out), 0) << out;
  auto rows = json_lines(out);
  ASSERT_EQ(rows.size(), 3u) << out;
  EXPECT_EQ(rows[0]["capture_id"], first);
  EXPECT_EQ(rows[1]["capture_id"], second);
  EXPECT_EQ(rows[2]["capture_id"], third);
  EXPECT_LT(rows[0]["date"].get<std::string>(), rows[1]["date"].get<std::string>());
  EXPECT_EQ(rows[0]["type"], "response");
  EXPECT_EQ(rows[1]["type"], "response");
  EXPECT_EQ(rows[2]["type"], "revisit");
  for (const auto& r : rows) EXPECT_EQ(r["status"], 200);
  EXPECT_TRUE(rows[0]["payload_changed"].is_null());
  EXPECT_TRUE(rows[0]["text_changed"].is_null());
  EXPECT_TRUE(rows[0]["text_digest"].is_string());
  EXPECT_EQ(rows[1]["payload_changed"], true);
  EXPECT_EQ(rows[1]["text_changed"], true);
  EXPECT_EQ(rows[2]["payload_changed"], false);
  EXPECT_EQ(rows[2]["text_changed"], false);
  EXPECT_EQ(rows[2]["text_digest"], rows[1]["text_digest"]);
  EXPECT_EQ(rows[0]["title"], "Harbour bridge reopens after repairs");

  // The plain table says the same.
  ASSERT_EQ(vellum({"history", url_}, &out), 0);
  std::istringstream table(out);
  std::vector<std::string> lines;
  for (std::string l; std::getline(table, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u) << out;
  EXPECT_EQ(lines[0].rfind("DATE", 0), 0u) << out;
  auto columns = [](const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> c;
    for (std::string w; in >> w;) c.push_back(w);
    return c;
  };
  EXPECT_EQ(columns(lines[1]),
            (std::vector<std::string>{rows[0]["date"].get<std::string>().substr(0, 19) + "Z", "200",
                                      "response", "first", "first", first}));
  EXPECT_EQ(columns(lines[2])[3], "changed");
  EXPECT_EQ(columns(lines[2])[4], "changed");
  EXPECT_EQ(columns(lines[3])[2], "revisit");
  EXPECT_EQ(columns(lines[3])[3], "unchanged");
  EXPECT_EQ(columns(lines[3])[4], "unchanged");

  // restore URL@TIMESTAMP picks the capture made before the time; the URL alone the latest.
  std::string text;
  ASSERT_EQ(vellum({"restore", url_ + "@" + between, "--format", "text"}, &text), 0);
  EXPECT_NE(text.find("oxblood red"), std::string::npos) << text;
  EXPECT_EQ(text.find("forest green"), std::string::npos) << text;
  ASSERT_EQ(vellum({"--json", "show", url_ + "@" + between}, &out), 0);
  EXPECT_EQ(json::parse(out)["capture_id"], first);
  ASSERT_EQ(vellum({"restore", url_, "--format", "text"}, &text), 0);
  EXPECT_NE(text.find("forest green"), std::string::npos) << text;
  ASSERT_EQ(vellum({"restore", url_ + "@" + between, "--format", "html"}, &text), 0);
  EXPECT_EQ(text, article_html("oxblood red"));

  // The new text is searchable, the old one too: one hit per URL, the latest that matches.
  auto hits = search({"\"forest green\""});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["capture_id"], second);
  hits = search({"oxblood"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["capture_id"], first);

  // A capture id names the URL too; a time bounds the history.
  ASSERT_EQ(vellum({"--json", "history", first}, &out), 0);
  EXPECT_EQ(json_lines(out).size(), 3u);
  ASSERT_EQ(vellum({"--json", "history", url_ + "@" + between}, &out), 0);
  EXPECT_EQ(json_lines(out).size(), 1u);
}

TEST_F(HistoryCliTest, UrlWithoutCapturesIsAnError) {
  capture();
  std::string err;
  EXPECT_EQ(vellum_stderr({"history", nginx_->url("/never-captured.html")}, &err), 1);
  EXPECT_NE(err.find("no capture of " + nginx_->url("/never-captured.html")), std::string::npos)
      << err;
}

TEST_F(HistoryCliTest, TextIsUnknownWithoutArticle) {
  std::string out;
  ASSERT_EQ(vellum({"archive", "--no-extract", url_}, &out), 0) << out;
  ASSERT_EQ(vellum({"history", url_}, &out), 0);
  EXPECT_NE(out.find("first      unknown"), std::string::npos) << out;
  ASSERT_EQ(vellum({"--json", "history", url_}, &out), 0);
  auto rows = json_lines(out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0]["text_digest"].is_null());
  EXPECT_TRUE(rows[0]["text_changed"].is_null());
  // Every documented key is there, null when not known, for scripts that read it.
  ASSERT_TRUE(rows[0].contains("title"));
  EXPECT_TRUE(rows[0]["title"].is_null());
}

TEST_F(HistoryCliTest, SearchGivesPublishedAsNullForAnArticleWithoutDate) {
  std::string page = article_html("oxblood red");
  page.erase(
      page.find("<meta property=\"article:published_time\""),
      std::string("<meta property=\"article:published_time\" content=\"2026-03-02T08:00:00Z\">")
          .size());
  write_file(site_ / "bridge.html", page);
  capture();
  auto hits = search({"oxblood"});
  ASSERT_EQ(hits.size(), 1u);
  ASSERT_TRUE(hits[0].contains("published"));
  EXPECT_TRUE(hits[0]["published"].is_null());
}

// A server that tells case apart serves two pages at /Bridge.html and /bridge.html, which share a
// canonical key: search gives each its hit, history keeps them apart, and a spelling captured as
// neither gets the history of the one `show` would pick, with a warning.
TEST_F(HistoryCliTest, PagesWhoseUrlsDifferInCaseAreKeptApart) {
  write_file(site_ / "Bridge.html", article_html("slate grey"));
  const std::string upper = nginx_->url("/Bridge.html");
  std::string out;
  ASSERT_EQ(vellum({"archive", upper}, &out), 0) << out;
  const std::string lower = capture();
  auto hits = search({"harbour"});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_NE(hits[0]["url"], hits[1]["url"]);
  ASSERT_EQ(vellum({"--json", "history", upper}, &out), 0) << out;
  auto rows = json_lines(out);
  ASSERT_EQ(rows.size(), 1u) << out;
  EXPECT_EQ(rows[0]["url"], upper);
  std::string err;
  ASSERT_EQ(vellum_stderr({"--json", "history", nginx_->url("/BRIDGE.html")}, &err), 0);
  EXPECT_NE(
      err.find("no capture of " + nginx_->url("/BRIDGE.html") + " itself; these are of " + url_),
      std::string::npos)
      << err;
  ASSERT_EQ(vellum({"--json", "history", nginx_->url("/BRIDGE.html")}, &out), 0) << out;
  rows = json_lines(out);
  ASSERT_EQ(rows.size(), 1u) << out;
  EXPECT_EQ(rows[0]["capture_id"], lower);
  ASSERT_EQ(vellum({"--json", "show", nginx_->url("/BRIDGE.html")}, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["capture_id"], lower);
}
