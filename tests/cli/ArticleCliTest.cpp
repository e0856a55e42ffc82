// Articles end to end: extracted at capture, stored as WARC metadata records and sidecar files,
// indexed, restored as text/markdown/json, rebuilt by reindex, redone by reextract; plugins
// routed, forced, and contained when they fail.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "archive/ArchiveDir.h"
#include "archive/RecordBuilder.h"
#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"
#include "warc/WarcReader.h"

using namespace vellum;
using namespace vellum::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class ArticleCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
    pages_ = build_corpus_site(site_.path());
    nginx_ = std::make_unique<Nginx>(site_.path());
    for (const auto& p : pages_)
      if (p.path.find("fundus/us/APNews_2023") != std::string::npos) page_ = p;
    ASSERT_FALSE(page_.path.empty());
    url_ = nginx_->url(page_.path);
  }
  std::vector<std::string> base() const {
    return {"--archive", (tmp_ / "archive").string(), "--plugin-dir", VELLUM_TEST_PLUGIN_DIR};
  }
  int vellum(std::vector<std::string> args, std::string* out = nullptr) {
    auto all = base();
    all.insert(all.end(), args.begin(), args.end());
    return run_vellum(all, out);
  }
  json restore_json(const std::string& ref) {
    std::string out;
    EXPECT_EQ(vellum({"restore", ref, "--format", "json"}, &out), 0) << out;
    return json::parse(out);
  }

  TempDir site_{"site"};
  TempDir tmp_{"articles"};
  std::vector<SitePage> pages_;
  SitePage page_;
  std::string url_;
  std::unique_ptr<Nginx> nginx_;
};

}  // namespace

TEST_F(ArticleCliTest, ArticleIsStoredInWarcSidecarAndIndex) {
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", url_}, &out), 0) << out;
  json line = json::parse(out);
  std::string id = line["capture_id"];
  ASSERT_TRUE(line.contains("title")) << out;
  std::string title = line["title"];
  EXPECT_FALSE(title.empty());

  // The WARC file: request, response, then the metadata record that refers to the response.
  auto files = archive::ArchiveDir(tmp_ / "archive").warc_files();
  ASSERT_EQ(files.size(), 1u);
  warc::WarcReader reader(files[0].path);
  std::vector<warc::WarcRecord> records;
  while (auto r = reader.next()) records.push_back(*r);
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[3].type(), "metadata");
  EXPECT_EQ(records[3].field_or("WARC-Refers-To"), records[2].record_id());
  EXPECT_EQ(records[3].field_or("Content-Type"), archive::kArticleContentType);
  json in_warc = json::parse(records[3].block);
  EXPECT_EQ(in_warc["capture_id"], id);
  EXPECT_EQ(in_warc["title"], title);

  // The sidecar: readable without Vellum, with the WARC location of the response.
  fs::path sidecar = tmp_ / "archive" / "articles" / "127.0.0.1" / (id + ".json");
  ASSERT_TRUE(fs::exists(sidecar));
  json side = json::parse(read_file(sidecar));
  EXPECT_EQ(side["title"], title);
  EXPECT_EQ(side["warc"]["file"], files[0].name);
  EXPECT_EQ(side["warc"]["record_id"], records[2].record_id());
  for (const char* key :
       {"schema_version", "capture_id",    "url",        "final_url", "canonical_url", "fetched_at",
        "http_status",    "source_domain", "title",      "authors",   "published",     "modified",
        "language",       "lead",          "key_points", "body_text", "sections",      "images",
        "tags",           "extractor",     "warc"})
    EXPECT_TRUE(side.contains(key)) << key;
  EXPECT_EQ(side["extractor"]["name"], "generic");

  // Restore as text in the layout of the seed article.
  ASSERT_EQ(vellum({"restore", url_, "--format", "text"}, &out), 0);
  std::istringstream text(out);
  std::string l1, l2, l3, l4, l5, l6, l7;
  std::getline(text, l1);
  std::getline(text, l2);
  std::getline(text, l3);
  std::getline(text, l4);
  std::getline(text, l5);
  std::getline(text, l6);
  std::getline(text, l7);
  EXPECT_EQ(l1, title);
  EXPECT_EQ(l2, "");
  EXPECT_EQ(l3, url_);
  EXPECT_EQ(l4, "");
  EXPECT_EQ(l5.rfind("Publish Date: 2023-04-28 ", 0), 0u) << l5;
  EXPECT_EQ(l7, "Source Domain: 127.0.0.1");
  EXPECT_NE(out.find(side["sections"][0]["paragraphs"][0].get<std::string>()), std::string::npos);

  ASSERT_EQ(vellum({"restore", id, "--format", "markdown"}, &out), 0);
  EXPECT_EQ(out.rfind("# " + title, 0), 0u) << out.substr(0, 200);
  EXPECT_EQ(vellum({"verify"}), 0);

  // Deleting index and sidecars loses nothing: reindex brings both back from the WARC file,
  // the sidecar byte for byte as the capture wrote it.
  std::string written_at_capture = read_file(sidecar);
  fs::remove(sidecar);
  for (auto f : {"index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"})
    fs::remove(tmp_ / "archive" / f);
  ASSERT_EQ(vellum({"reindex"}), 0);
  ASSERT_TRUE(fs::exists(sidecar));
  EXPECT_EQ(read_file(sidecar), written_at_capture);
  EXPECT_EQ(restore_json(id)["title"], title);
}

TEST_F(ArticleCliTest, NoExtractStoresNoArticleButRestoreStillExtracts) {
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", "--no-extract", url_}, &out), 0) << out;
  EXPECT_FALSE(json::parse(out).contains("title"));
  EXPECT_FALSE(fs::exists(tmp_ / "archive" / "articles"));
  json j = restore_json(url_);
  EXPECT_FALSE(j["title"].get<std::string>().empty());
  EXPECT_FALSE(fs::exists(tmp_ / "archive" / "articles")) << "restore writes nothing";
}

TEST_F(ArticleCliTest, ReextractWithAForcedPluginSupersedesTheArticle) {
  ASSERT_EQ(vellum({"archive", url_}), 0);
  // A 404 is stored too; reextract leaves it alone (only 2xx responses have articles).
  vellum({"archive", nginx_->url("/no-such-page.html")});
  EXPECT_EQ(restore_json(url_)["extractor"]["name"], "generic");
  std::string out;
  ASSERT_EQ(vellum({"list"}, &out), 0);
  ASSERT_NE(out.find("  404  "), std::string::npos) << out;
  ASSERT_EQ(vellum({"reextract", "--plugin", "hello"}, &out), 0) << out;
  EXPECT_NE(out.find("re-extracted 1 of 1 captures (0 without an article, 0 failed)"),
            std::string::npos)
      << out;
  json j = restore_json(url_);
  EXPECT_EQ(j["extractor"]["name"], "hello");
  EXPECT_EQ(j["extractor"]["version"], "1.0.0");
  EXPECT_EQ(vellum({"verify"}), 0);
  EXPECT_NE(vellum({"reextract", "--plugin", "no_such_plugin"}, &out), 0);
}

// A plugin's [plugins.config.<name>] table from --config reaches it in every command that runs
// plugins: in this process (extract) and in worker processes (reextract).
TEST_F(ArticleCliTest, PluginsGetTheirConfigurationTablesFromConfig) {
  fs::path cfg = tmp_ / "vellum.toml";
  write_file(cfg, "[plugins]\ndirs = [\"" + std::string(VELLUM_TEST_PLUGIN_DIR) +
                      "\"]\n\n[plugins.config.general]\ntitle_prefix = \"Configured: \"\n");
  std::string out;
  ASSERT_EQ(vellum({"--config", cfg.string(), "--json", "extract", page_.file.string(), "--url",
                    "https://example.com/a"},
                   &out),
            0);
  EXPECT_EQ(json::parse(out)["title"], "Configured: https://example.com/a") << out;
  ASSERT_EQ(vellum({"archive", "--no-extract", url_}), 0);
  ASSERT_EQ(vellum({"--config", cfg.string(), "reextract", "--plugin", "general"}, &out), 0) << out;
  EXPECT_EQ(restore_json(url_)["title"], "Configured: " + url_);
}

TEST_F(ArticleCliTest, FailingPluginFallsBackAndTheCaptureIsKept) {
  // throws.example is routed to the plugin that throws from extract().
  std::string host = "throws.example:" + std::to_string(nginx_->port());
  std::string url = "http://" + host + page_.path;
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", "--resolve", host + ":127.0.0.1", url}, &out), 0) << out;
  json j = restore_json(url);
  EXPECT_EQ(j["extractor"]["name"], "generic");
  std::string why = j["extractor"]["plugin_error"];
  EXPECT_NE(why.find("extract_throws"), std::string::npos) << why;
  EXPECT_NE(why.find("boom: layout changed"), std::string::npos) << why;
  // The message quoted the page's escape sequence: stored as one line without control characters.
  EXPECT_NE(why.find("near <h1>]0;owned[2J </h1>"), std::string::npos) << why;
  for (char c : why) EXPECT_GE(static_cast<unsigned char>(c), 0x20) << why;
  ASSERT_EQ(vellum({"restore", url, "--format", "html"}, &out), 0);
  EXPECT_EQ(out, read_file(page_.file));
}

// Plugins run in worker processes for `vellum archive` and `vellum reextract`: one that crashes
// or hangs costs its page the plugin article, within the page budget, and nothing else.
TEST_F(ArticleCliTest, PluginsThatCrashOrHangAreContainedInWorkerProcesses) {
  std::string port = std::to_string(nginx_->port());
  std::string crash = "http://segv.example:" + port + page_.path;
  std::string stuck = "http://hang.example:" + port + page_.path;
  std::string out;
  auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(vellum({"--json", "--plugin-timeout", "2", "archive", "--resolve",
                    "segv.example:" + port + ":127.0.0.1", "--resolve",
                    "hang.example:" + port + ":127.0.0.1", crash, stuck},
                   &out),
            0)
      << out;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_EQ(out.find("\"error\""), std::string::npos) << out;

  json j = restore_json(crash);
  EXPECT_EQ(j["extractor"]["name"], "generic");
  std::string why = j["extractor"]["plugin_error"];
  EXPECT_NE(why.find("plugin 'segv'"), std::string::npos) << why;
  EXPECT_NE(why.find("crashed on this page (SIGSEGV"), std::string::npos) << why;
  EXPECT_FALSE(j["title"].get<std::string>().empty());
  j = restore_json(stuck);
  EXPECT_EQ(j["extractor"]["name"], "generic");
  why = j["extractor"]["plugin_error"];
  EXPECT_NE(why.find("plugin 'hang'"), std::string::npos) << why;
  EXPECT_NE(why.find("did not finish this page within 2s"), std::string::npos) << why;
  ASSERT_EQ(vellum({"restore", crash, "--format", "html"}, &out), 0);
  EXPECT_EQ(out, read_file(page_.file));
  ASSERT_EQ(vellum({"restore", stuck, "--format", "html"}, &out), 0);
  EXPECT_EQ(out, read_file(page_.file));

  // reextract isolates too: both captures get the generic article again, the command finishes.
  ASSERT_EQ(vellum({"--plugin-timeout", "1", "reextract"}, &out), 0) << out;
  EXPECT_NE(out.find("re-extracted 2 of 2"), std::string::npos) << out;
  EXPECT_NE(restore_json(stuck)["extractor"]["plugin_error"].get<std::string>().find(
                "did not finish this page within 1s"),
            std::string::npos);
  EXPECT_EQ(vellum({"verify"}), 0);
}

TEST_F(ArticleCliTest, ExtractCommandTouchesNoArchive) {
  std::string out;
  ASSERT_EQ(vellum({"extract", page_.file.string(), "--url", "https://apnews.com/article/x",
                    "--format", "text"},
                   &out),
            0);
  EXPECT_NE(out.find("Source Domain: apnews.com"), std::string::npos) << out.substr(0, 400);
  EXPECT_FALSE(fs::exists(tmp_ / "archive"));
  // --json: the article as one JSON line, whatever --format says.
  ASSERT_EQ(vellum({"--json", "extract", page_.file.string(), "--url",
                    "https://apnews.com/article/x", "--format", "text"},
                   &out),
            0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_EQ(json::parse(out)["source_domain"], "apnews.com");
  ASSERT_EQ(vellum({"extract", page_.file.string(), "--plugin",
                    (fs::path(VELLUM_TEST_PLUGIN_DIR) / "hello.so").string()},
                   &out),
            0);
  EXPECT_EQ(json::parse(out)["extractor"]["name"], "hello");
  EXPECT_NE(vellum({"extract", page_.file.string(), "--plugin",
                    (fs::path(VELLUM_TEST_PLUGIN_DIR) / "wrong_abi.so").string()},
                   &out),
            0);
}

// What is not an HTML page gets no article from `extract`, as at capture, and says what it is.
TEST_F(ArticleCliTest, ExtractRefusesWhatIsNotAnHtmlPage) {
  fs::path empty = tmp_ / "empty.html", binary = tmp_ / "image.png", dense = tmp_ / "dense.html",
           text = tmp_ / "notes.txt";
  write_file(empty, "");
  write_file(binary, std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  const fs::path named_html = tmp_ / "image.html";
  write_file(named_html, std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  write_file(text, "Notes for Monday: call the printer.\n");
  std::string tags = "<html><body>";
  for (int i = 0; i < 600'000; ++i) tags += "<b>x</b>";
  write_file(dense, tags);
  const std::vector<std::pair<fs::path, std::string>> cases = {
      {tmp_.path(), ": found a directory, expected an HTML file"},
      {empty, ": found an empty file, expected an HTML page"},
      {binary, ": found a PNG image, expected an HTML page"},
      {named_html, ": found a PNG image, expected an HTML page"},
      {text,
       ": found no HTML markup near its start (no <html>, <head>, <body>, <title> or <meta>), "
       "expected an HTML page"},
      {dense, ": too much markup to extract: found 1200002 '<' characters, expected at most"},
  };
  for (const auto& [file, expect] : cases) {
    auto [rc, err] = shell(shell_quote(VELLUM_CLI_PATH) + " extract " + shell_quote(file.string()) +
                           " 2>&1 >/dev/null");
    EXPECT_EQ(rc, 1) << file;
    EXPECT_NE(err.find(file.string() + expect), std::string::npos) << err;
  }
}

// A file named as HTML is a page, as a server would serve it, even when it is a fragment
// without <html>, <head> or <body>; the same text under another name, or on standard input, is
// not taken for one.
TEST_F(ArticleCliTest, ExtractTakesAFileNamedAsHtmlForAPage) {
  const std::string fragment =
      "<h1>Harbour reopens</h1><p>The harbour reopened on Monday after three weeks of repairs "
      "to the sea wall, the port authority said in a statement.</p>";
  for (const char* name : {"fragment.html", "fragment.HTM", "fragment.xhtml"}) {
    const fs::path file = tmp_ / name;
    write_file(file, fragment);
    std::string out;
    ASSERT_EQ(vellum({"extract", file.string()}, &out), 0) << name << ": " << out;
    EXPECT_EQ(json::parse(out)["title"], "Harbour reopens") << out;
  }
  const fs::path other = tmp_ / "fragment.txt";
  write_file(other, fragment);
  // A page on standard input has no address of its own: --url is asked for.
  const fs::path page = tmp_ / "full.html";
  write_file(page, "<html><head><title>Harbour reopens</title></head><body>" + fragment +
                       "</body></html>");
  auto [stdin_rc, stdin_err] = shell(shell_quote(VELLUM_CLI_PATH) + " extract - < " +
                                     shell_quote(page.string()) + " 2>&1 >/dev/null");
  EXPECT_EQ(stdin_rc, 2) << stdin_err;
  EXPECT_NE(stdin_err.find("found no --url for the page on standard input"), std::string::npos)
      << stdin_err;
  auto [piped_rc, piped] =
      shell(shell_quote(VELLUM_CLI_PATH) + " extract - --url https://x.example/a < " +
            shell_quote(page.string()) + " 2>&1");
  ASSERT_EQ(piped_rc, 0) << piped;
  EXPECT_EQ(json::parse(piped)["url"], "https://x.example/a");
  for (const std::string& args :
       {shell_quote(other.string()), std::string("- <") + shell_quote(other.string())}) {
    auto [rc, err] = shell(shell_quote(VELLUM_CLI_PATH) + " extract " + args + " 2>&1 >/dev/null");
    EXPECT_EQ(rc, 1) << args;
    EXPECT_NE(err.find("found no HTML markup near its start"), std::string::npos) << err;
  }
}

// A page that opens with a long licence comment or many blank lines is still a page.
TEST_F(ArticleCliTest, ExtractReadsAPageAfterALongLeadingComment) {
  const std::string page =
      "<!DOCTYPE html><html><head><title>Harbour reopens</title></head><body><article><p>The "
      "harbour reopened on Monday after three weeks of repairs to the sea wall, the port "
      "authority said.</p></article></body></html>";
  for (const std::string& lead :
       {"<!--" + std::string(5000, '=') + "-->\n", std::string(3000, '\n'),
        "<?xml version=\"1.0\"?>\n<!-- " + std::string(2000, 'x') + " -->\n"}) {
    fs::path file = tmp_ / "lead.html";
    write_file(file, lead + page);
    std::string out;
    ASSERT_EQ(vellum({"extract", file.string()}, &out), 0) << out;
    EXPECT_EQ(json::parse(out)["title"], "Harbour reopens");
  }
}

// Damage that `restore` reads around is named by `verify`, which goes on reading past it; an
// article record the index names but the file no longer holds, and a damaged index file, fail
// `verify` too.
TEST_F(ArticleCliTest, VerifyNamesDamageReadsPastItAndChecksArticlesAndTheIndex) {
  std::vector<std::string> urls;
  for (const auto& p : pages_)
    if (urls.size() < 3 && p.path.find("fundus/") != std::string::npos)
      urls.push_back(nginx_->url(p.path));
  ASSERT_EQ(urls.size(), 3u);
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", urls[0], urls[1], urls[2]}, &out), 0) << out;
  std::vector<std::string> ids;
  std::istringstream lines(out);
  for (std::string l; std::getline(lines, l);) ids.push_back(json::parse(l)["capture_id"]);
  ASSERT_EQ(ids.size(), 3u);
  const fs::path archive = tmp_ / "archive";
  auto files = archive::ArchiveDir(archive).warc_files();
  ASSERT_EQ(files.size(), 1u);
  const fs::path file = files[0].path;
  const std::string intact = read_file(file);
  auto verify = [&](const std::vector<std::string>& extra = {}) {
    std::string cmd =
        shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive.string()) + " verify";
    for (const auto& e : extra) cmd += " " + shell_quote(e);
    return shell(cmd + " 2>&1");
  };

  // The first frame's magic number damaged: the name says zstd, so every record after it reads.
  std::string damaged = intact;
  damaged[2] = static_cast<char>(0xd0);
  write_file(file, damaged);
  for (const auto& id : ids) EXPECT_EQ(vellum({"restore", id, "--format", "text"}, &out), 0) << id;
  auto [rc, report] = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(report.find(files[0].name + ": offset 0: found bytes"), std::string::npos) << report;
  EXPECT_NE(report.find("whole records follow from offset"), std::string::npos) << report;
  EXPECT_EQ(report.find("no such record"), std::string::npos) << report;
  EXPECT_NE(report.find("1 problems"), std::string::npos) << report;

  // The last article record cut off: restore of that article fails, and so does verify.
  write_file(file, intact);
  warc::WarcReader reader(file);
  std::uint64_t last_meta = 0;
  std::string cut_id;  // the capture whose article is the file's last record (pages finish in
                       // any order)
  while (auto r = reader.next())
    if (r->type() == "metadata") {
      last_meta = reader.last_location().offset;
      cut_id = json::parse(r->block)["capture_id"].get<std::string>();
    }
  ASSERT_GT(last_meta, 0u);
  fs::resize_file(file, last_meta);
  std::tie(rc, report) = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(report.find("the article of capture " + cut_id + " names " + files[0].name +
                        ": offset " + std::to_string(last_meta) + ", but no such record"),
            std::string::npos)
      << report;
  std::tie(rc, report) = verify({cut_id});
  EXPECT_EQ(rc, 1) << report;
  write_file(file, intact);
  std::tie(rc, report) = verify();
  EXPECT_EQ(rc, 0) << report;

  // Damaged pages in the index: verify says so and how to rebuild it, and so does a damaged
  // first page (the schema), whatever command reads it.
  const fs::path index_file = archive / "index.sqlite3";
  ASSERT_FALSE(fs::exists(archive / "index.sqlite3-wal")) << "the index was left open";
  const std::string db = read_file(index_file);
  const std::size_t page =
      (static_cast<unsigned char>(db[16]) << 8) | static_cast<unsigned char>(db[17]);
  ASSERT_GT(db.size(), 4 * page);
  std::string bad = db;
  for (std::size_t p = page; p + page <= bad.size(); p += page)
    for (std::size_t i = p + 8; i < p + page / 2; ++i) bad[i] = '\xde';
  write_file(index_file, bad);
  std::tie(rc, report) = verify();
  EXPECT_EQ(rc, 1);
  EXPECT_NE(report.find("the index is damaged: `vellum reindex` rebuilds it"), std::string::npos)
      << report;
  bad = db;
  for (std::size_t i = 100; i < page; ++i) bad[i] = '\xde';
  write_file(index_file, bad);
  for (const char* command : {"list", "verify"}) {
    std::tie(rc, report) = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " +
                                 shell_quote(archive.string()) + " " + command + " 2>&1");
    EXPECT_EQ(rc, 1) << command;
    EXPECT_NE(report.find("the index is damaged: `vellum reindex` rebuilds it"), std::string::npos)
        << command << ": " << report;
  }
  std::tie(rc, report) = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " +
                               shell_quote(archive.string()) + " search council 2>&1");
  EXPECT_EQ(rc, 1);
  EXPECT_EQ(report.find("search query"), std::string::npos) << report;
  EXPECT_NE(report.find("`vellum reindex`"), std::string::npos) << report;
}

// The sidecars are what people read without Vellum: verify says when one is missing or no longer
// holds what its records say, and reindex writes them again.
TEST_F(ArticleCliTest, VerifyChecksArticleSidecarsAndReindexRewritesThem) {
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", url_}, &out), 0) << out;
  const std::string id = json::parse(out)["capture_id"];
  const fs::path archive = tmp_ / "archive";
  std::vector<fs::path> sidecars;
  for (const auto& e : fs::recursive_directory_iterator(archive / "articles"))
    if (e.is_regular_file()) sidecars.push_back(e.path());
  ASSERT_EQ(sidecars.size(), 1u);
  const fs::path sidecar = sidecars[0];
  ASSERT_EQ(sidecar.filename(), id + ".json");
  const std::string name = fs::relative(sidecar, archive).generic_string();
  const std::string intact = read_file(sidecar);
  auto run = [&](const std::string& args) {
    return shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive.string()) +
                 " " + args + " 2>&1");
  };
  auto [rc, report] = run("verify");
  EXPECT_EQ(rc, 0) << report;

  // Edited (its title), emptied, removed: each is named, by the whole verify and by verify REF.
  json edited = json::parse(intact);
  edited["title"] = "Something else";
  const std::vector<std::pair<std::string, std::string>> cases{
      {edited.dump(2), name + ": the article sidecar of capture " + id + " differs from its " +
                           "article record at "},
      {"", name + ": found no JSON object, expected the article of capture " + id},
      {"-", name + ": the article sidecar of capture " + id + " is missing"}};
  for (const auto& [content, message] : cases) {
    if (content == "-")
      fs::remove(sidecar);
    else
      write_file(sidecar, content);
    for (const std::string& args : {std::string("verify"), "verify " + id}) {
      std::tie(rc, report) = run(args);
      EXPECT_EQ(rc, 1) << args << ": " << report;
      EXPECT_NE(report.find(message), std::string::npos) << args << ": " << report;
      EXPECT_NE(report.find("`vellum reindex` writes it again"), std::string::npos) << report;
    }
  }
  // Something other than a file in its place is named, never read (a named pipe would block
  // verify, a link lead anywhere), and the other checks go on.
  const std::vector<std::pair<std::function<void()>, std::string>> entries{
      {[&] { fs::create_directory(sidecar); }, "a directory"},
      {[&] { ASSERT_EQ(mkfifo(sidecar.c_str(), 0600), 0); }, "a named pipe"},
      {[&] { fs::create_symlink("/etc/hostname", sidecar); }, "a symbolic link"}};
  for (const auto& [make, kind] : entries) {
    fs::remove(sidecar);
    make();
    std::tie(rc, report) = shell("timeout 20 " + shell_quote(VELLUM_CLI_PATH) + " --archive " +
                                 shell_quote(archive.string()) + " verify 2>&1");
    EXPECT_EQ(rc, 1) << kind << ": " << report;
    EXPECT_NE(report.find(name + ": found " + kind + ", expected the article sidecar of capture " +
                          id + " (a file)"),
              std::string::npos)
        << report;
    EXPECT_NE(report.find("1 captures checked, 1 problems"), std::string::npos) << report;
  }
  // reindex says what it could not write, and leaves no half-written file beside it.
  fs::remove(sidecar);
  fs::create_directory(sidecar);
  std::tie(rc, report) = run("reindex");
  EXPECT_EQ(rc, 1) << report;
  EXPECT_NE(report.find("cannot write the article sidecar of capture " + id), std::string::npos)
      << report;
  EXPECT_FALSE(fs::exists(sidecar.string() + ".tmp"));
  fs::remove(sidecar);

  std::tie(rc, report) = run("reindex");
  ASSERT_EQ(rc, 0) << report;
  EXPECT_EQ(read_file(sidecar), intact);
  std::tie(rc, report) = run("verify");
  EXPECT_EQ(rc, 0) << report;

  // A writer killed between committing a capture and writing its sidecar: the file it left
  // open holds the article; verify does not count the sidecar missing yet, and the next writer
  // to open the archive writes it.
  fs::remove(sidecar);
  const auto files = archive::ArchiveDir(archive).warc_files();
  ASSERT_EQ(files.size(), 1u);
  fs::rename(files[0].path, files[0].path.string() + ".open");
  std::tie(rc, report) = run("verify");
  EXPECT_EQ(rc, 0) << report;
  std::tie(rc, report) = run("archive " + shell_quote(url_));
  ASSERT_EQ(rc, 0) << report;
  EXPECT_NE(report.find("wrote 1 article sidecars that were missing"), std::string::npos) << report;
  ASSERT_TRUE(fs::exists(sidecar));
  EXPECT_EQ(read_file(sidecar), intact);
  std::tie(rc, report) = run("verify");
  EXPECT_EQ(rc, 0) << report;
}

// A writer killed before writing a sidecar, in a file that is also damaged inside (not a torn
// tail): recovery closes the file with every byte kept and still writes the sidecar.
TEST_F(ArticleCliTest, RecoveryWritesTheSidecarsOfADamagedFileLeftOpen) {
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", url_}, &out), 0) << out;
  const fs::path archive = tmp_ / "archive";
  fs::path sidecar;
  for (const auto& e : fs::recursive_directory_iterator(archive / "articles"))
    if (e.is_regular_file()) sidecar = e.path();
  const std::string intact = read_file(sidecar);
  fs::remove(sidecar);
  const auto files = archive::ArchiveDir(archive).warc_files();
  ASSERT_EQ(files.size(), 1u);
  std::uint64_t response = 0;
  {
    warc::WarcReader reader(files[0].path);
    while (auto r = reader.next())
      if (r->type() == "response") response = reader.last_location().offset;
  }
  ASSERT_GT(response, 0u);
  std::string bytes = read_file(files[0].path);
  bytes[response + 40] = static_cast<char>(bytes[response + 40] ^ 0x55);  // inside its frame
  const fs::path open = files[0].path.string() + ".open";
  write_file(open, bytes);
  fs::remove(files[0].path);
  auto [rc, report] =
      shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive.string()) +
            " archive " + shell_quote(url_) + " 2>&1");
  EXPECT_EQ(rc, 0) << report;
  EXPECT_NE(report.find("not a torn tail"), std::string::npos) << report;
  EXPECT_NE(report.find("wrote 1 article sidecars that were missing"), std::string::npos) << report;
  ASSERT_TRUE(fs::exists(sidecar)) << report;
  EXPECT_EQ(read_file(sidecar), intact);
}

// A sidecar that could not be written while the capture was stored (a full disk) is written
// when its WARC file is closed, so that the archive verifies.
TEST_F(ArticleCliTest, ASidecarAFullDiskKeptOutIsWrittenWhenTheFileCloses) {
  const fs::path archive = tmp_ / "archive";
  const fs::path log = tmp_ / "injected";
  auto [rc, out] = shell("env " +
                         fault_env({{"CALLS", "write"},
                                    {"PATH", "/articles/"},
                                    {"COUNT", "1"},
                                    {"ERRNO", std::to_string(ENOSPC)}},
                                   log) +
                         " " + shell_quote(VELLUM_CLI_PATH) + " --archive " +
                         shell_quote(archive.string()) + " archive " + shell_quote(url_) + " 2>&1");
  EXPECT_EQ(rc, 0) << out;
  ASSERT_TRUE(fs::exists(log)) << "no failure was injected: " << out;
  EXPECT_NE(out.find("cannot write the article sidecar"), std::string::npos) << out;
  EXPECT_NE(out.find("wrote 1 article sidecars that were missing"), std::string::npos) << out;
  std::tie(rc, out) = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " +
                            shell_quote(archive.string()) + " verify 2>&1");
  EXPECT_EQ(rc, 0) << out;
}

// In an uncompressed file nothing but its digest guards an article record: a damaged one is
// named, and reindex neither indexes it nor rewrites the sidecar (the intact copy) from it.
TEST_F(ArticleCliTest, ReindexKeepsTheSidecarOfADamagedArticleRecord) {
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", "--compression", "none", url_}, &out), 0) << out;
  const std::string id = json::parse(out)["capture_id"];
  const std::string title = json::parse(out)["title"];
  const fs::path archive = tmp_ / "archive";
  const auto files = archive::ArchiveDir(archive).warc_files();
  ASSERT_EQ(files.size(), 1u);
  std::string bytes = read_file(files[0].path);
  const std::size_t article = bytes.find("WARC-Type: metadata");
  ASSERT_NE(article, std::string::npos);
  const std::size_t at = bytes.find("\"title\":\"" + title, article);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 9] = bytes[at + 9] == 'X' ? 'Y' : 'X';  // the title's first letter
  write_file(files[0].path, bytes);
  fs::path sidecar;
  for (const auto& e : fs::recursive_directory_iterator(archive / "articles"))
    if (e.is_regular_file()) sidecar = e.path();
  const std::string intact = read_file(sidecar);
  ASSERT_NE(intact.find(title), std::string::npos);

  auto run = [&](const std::string& args) {
    return shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive.string()) +
                 " " + args + " 2>&1");
  };
  auto [rc, report] = run("verify");
  EXPECT_EQ(rc, 1) << report;
  EXPECT_NE(report.find("block digest is"), std::string::npos) << report;
  EXPECT_EQ(report.find("reindex` writes it again"), std::string::npos) << report;
  std::tie(rc, report) = run("reindex");
  EXPECT_EQ(rc, 1) << report;
  EXPECT_EQ(read_file(sidecar), intact);
  // restore extracts the stored page again, which reads.
  std::tie(rc, report) = run("restore " + id + " --format json");
  EXPECT_EQ(rc, 0) << report;
  EXPECT_NE(report.find(title), std::string::npos) << report;
}

// The stored article record damaged (a bad sector, say): `restore --format text` extracts the
// article again from the stored page, which reads, and says so, instead of failing.
TEST_F(ArticleCliTest, ADamagedArticleRecordIsExtractedAgainOnRestore) {
  std::string out;
  ASSERT_EQ(vellum({"--json", "archive", url_}, &out), 0) << out;
  const std::string title = json::parse(out)["title"];
  ASSERT_EQ(vellum({"restore", url_, "--format", "text"}, &out), 0);
  const std::string expected = out;
  auto files = archive::ArchiveDir(tmp_ / "archive").warc_files();
  ASSERT_EQ(files.size(), 1u);
  warc::WarcReader reader(files[0].path);
  std::optional<warc::RecordLocation> article;
  while (auto r = reader.next())
    if (r->type() == "metadata") article = reader.last_location();
  ASSERT_TRUE(article);
  std::string bytes = read_file(files[0].path);
  bytes[article->offset + article->length / 2] ^= 0x55;
  write_file(files[0].path, bytes);

  auto [rc, text] = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " +
                          shell_quote((tmp_ / "archive").string()) + " --plugin-dir " +
                          shell_quote(VELLUM_TEST_PLUGIN_DIR) + " restore " + shell_quote(url_) +
                          " --format text 2>" + shell_quote((tmp_ / "err").string()));
  EXPECT_EQ(rc, 0) << read_file(tmp_ / "err");
  EXPECT_EQ(text, expected);
  // Said once (by the process that extracts), and not as if no article had been stored.
  const std::string said = read_file(tmp_ / "err");
  const auto first = said.find("cannot be read");
  ASSERT_NE(first, std::string::npos) << said;
  EXPECT_EQ(said.find("cannot be read", first + 1), std::string::npos) << said;
  EXPECT_EQ(said.find("stored without an article"), std::string::npos) << said;
}

// `vellum plugins` lists what loads and names what is refused, also to a script reading --json;
// `--check FILE` says ok or why not.
TEST(PluginsCli, ListsPluginsNamesRefusalsAndChecksAFile) {
  TempDir dir("plugins-cli");
  const fs::path fixtures = VELLUM_TEST_PLUGIN_DIR;
  for (const char* name : {"hello.so", "wrong_abi.so"}) fs::copy_file(fixtures / name, dir / name);
  const std::string v = shell_quote(VELLUM_CLI_PATH) + " --plugin-dir " + shell_quote(dir.path());
  auto [rc, out] = shell(v + " plugins 2>/dev/null");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("hello  "), std::string::npos) << out;
  auto [json_rc, json_out] = shell(v + " --json plugins 2>/dev/null");
  EXPECT_EQ(json_rc, 1);
  bool listed = false, refused = false;
  for (const auto& j : json_lines(json_out)) {
    listed = listed || j.value("name", "") == "hello";
    refused = refused || j.value("error", "").find("wrong_abi.so") != std::string::npos;
  }
  EXPECT_TRUE(listed) << json_out;
  EXPECT_TRUE(refused) << "the refusal is on standard output too: " << json_out;
  auto [check_rc, check] = shell(shell_quote(VELLUM_CLI_PATH) + " plugins --check " +
                                 shell_quote((dir / "wrong_abi.so").string()) + " 2>&1");
  EXPECT_EQ(check_rc, 1) << check;
  EXPECT_NE(check.find("expected"), std::string::npos) << check;
  auto [ok_rc, ok] = shell(shell_quote(VELLUM_CLI_PATH) + " plugins --check " +
                           shell_quote((dir / "hello.so").string()));
  EXPECT_EQ(ok_rc, 0) << ok;
  EXPECT_EQ(ok.rfind("ok: hello ", 0), 0u) << ok;
}
