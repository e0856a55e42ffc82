// `vellum export` end to end: a real archive captured from nginx (two hosts, a re-capture that
// becomes a revisit), exported as .warc.gz and as WACZ, read back by Vellum's WarcReader, by
// warcio.js and by an independent WACZ check in plain Python.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include <csignal>
#include <thread>
#include <tuple>

#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"
#include "util/Digest.h"
#include "util/Text.h"
#include "warc/HttpMessage.h"
#include "warc/WarcReader.h"

using namespace vellum;
using namespace vellum::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string stamp14(const std::string& warc_date) {
  std::string digits;
  for (char c : warc_date)
    if (c >= '0' && c <= '9') digits += c;
  return digits.substr(0, 14);
}

// Runs the CLI with stdout and stderr together.
std::pair<int, std::string> vellum_all(const std::vector<std::string>& args) {
  std::string cmd = shell_quote(VELLUM_CLI_PATH);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return shell(cmd + " 2>&1");
}

struct ExportedRecord {
  warc::WarcRecord record;
  warc::RecordLocation location;
};

// Reads an exported .warc.gz with Vellum's reader and checks what every file must satisfy:
// gzip, warcinfo first, one member per record and members back to back, digests valid.
std::vector<ExportedRecord> read_export(const fs::path& file) {
  std::vector<ExportedRecord> out;
  warc::WarcReader reader(file);
  EXPECT_EQ(reader.compression(), warc::Compression::gzip);
  std::uint64_t expected_offset = 0;
  while (auto r = reader.next()) {
    auto loc = reader.last_location();
    EXPECT_EQ(loc.offset, expected_offset) << "members must follow each other";
    expected_offset = loc.offset + loc.length;
    // Exactly one record in exactly this member: read_record_bytes_at refuses anything else.
    EXPECT_NO_THROW(warc::read_record_bytes_at(file, loc));
    EXPECT_EQ(r->field_or("WARC-Block-Digest"), util::warc_sha1(r->block)) << r->record_id();
    if (r->type() == "response") {
      auto head = warc::parse_http_head(r->block);
      EXPECT_TRUE(head.has_value());
      if (head) {
        EXPECT_EQ(r->field_or("WARC-Payload-Digest"),
                  util::warc_sha1(warc::http_payload(r->block, *head).bytes))
            << r->record_id();
      }
    }
    out.push_back({std::move(*r), loc});
  }
  EXPECT_EQ(expected_offset, fs::file_size(file));
  EXPECT_FALSE(out.empty());
  if (!out.empty()) {
    EXPECT_EQ(out.front().record.type(), "warcinfo");
  }
  return out;
}

// The archive every test reads: captured once for the whole suite.
class ExportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!Nginx::available()) return;
    site_ = new TempDir("export-site");
    work_ = new TempDir("export-archive");
    auto pages = build_corpus_site(site_->path());
    nginx_ = new Nginx(site_->path());
    const std::string port = std::to_string(nginx_->port());
    auto url = [&](const std::string& host, std::size_t i) {
      return "http://" + host + ":" + port + pages[i].path;
    };
    auto capture = [&](const std::vector<std::string>& urls, bool second_run) {
      std::vector<std::string> args{"--archive",     archive(),
                                    "--json",        "archive",
                                    "--resolve",     "news-a.test:" + port + ":127.0.0.1",
                                    "--resolve",     "news-b.test:" + port + ":127.0.0.1",
                                    "--concurrency", "1"};
      args.insert(args.end(), urls.begin(), urls.end());
      std::string out;
      int rc = run_vellum(args, &out);
      EXPECT_EQ(rc, 0) << out;
      for (const auto& j : json_lines(out)) {
        if (!j["capture_id"].is_string()) continue;
        if (second_run) second_run_.insert(j["capture_id"]);
        if (j.contains("title")) titles_[j["capture_id"]] = j["title"];
      }
    };
    // First run: four pages on one host, two on another.
    capture({url("news-a.test", 0), url("news-a.test", 1), url("news-a.test", 2),
             url("news-a.test", 3), url("news-b.test", 4), url("news-b.test", 5)},
            false);
    // Second run: one page again, unchanged (a revisit), and a new page.
    capture({url("news-a.test", 0), url("news-b.test", 6)}, true);
    std::string out;
    EXPECT_EQ(run_vellum({"--archive", archive(), "--json", "list"}, &out), 0);
    for (auto& j : json_lines(out)) rows_.push_back(j);
    std::sort(rows_.begin(), rows_.end(),
              [](const json& a, const json& b) { return a["date"] < b["date"]; });
  }
  static void TearDownTestSuite() {
    delete nginx_;
    delete work_;
    delete site_;
    nginx_ = nullptr;
    work_ = nullptr;
    site_ = nullptr;
  }
  void SetUp() override {
    if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
    ASSERT_EQ(rows_.size(), 8u) << "the archive should hold 8 captures";
    ASSERT_EQ(second_run_.size(), 2u);
    ASSERT_EQ(revisit()["type"], "revisit");
  }

  static std::string archive() { return (work_->path() / "archive").string(); }
  // The re-capture of the second run.
  static const json& revisit() {
    for (const auto& r : rows_)
      if (r["type"] == "revisit") return r;
    return rows_.front();
  }
  static std::vector<json> rows_where(const std::function<bool(const json&)>& keep) {
    std::vector<json> v;
    for (const auto& r : rows_)
      if (keep(r)) v.push_back(r);
    return v;
  }

  // Runs `vellum export` with --json; returns its summary.
  json export_ok(const std::vector<std::string>& args) {
    std::vector<std::string> all{"--archive", archive(), "--json", "export"};
    all.insert(all.end(), args.begin(), args.end());
    std::string out;
    int rc = run_vellum(all, &out);
    EXPECT_EQ(rc, 0) << out;
    auto lines = json_lines(out);
    EXPECT_EQ(lines.size(), 1u) << out;
    return lines.empty() ? json() : lines.front();
  }

  // Every capture in `expected` (request, response or revisit, article) is in the export with
  // its stored bytes; nothing else but the warcinfo and `extra_responses`.
  void expect_captures(const fs::path& file, const std::vector<json>& expected,
                       const std::set<std::string>& extra_responses = {}) {
    const std::vector<ExportedRecord> records = read_export(file);
    std::map<std::string, const ExportedRecord*> responses;
    std::map<std::string, const ExportedRecord*> requests_for;  // by WARC-Concurrent-To
    std::map<std::string, const ExportedRecord*> articles_for;  // by WARC-Refers-To
    for (const auto& r : records) {
      const std::string type = r.record.type();
      if (type == "response" || type == "revisit")
        responses[r.record.record_id()] = &r;
      else if (type == "request")
        requests_for[r.record.field_or("WARC-Concurrent-To")] = &r;
      else if (type == "metadata")
        articles_for[r.record.field_or("WARC-Refers-To")] = &r;
      else
        EXPECT_EQ(type, "warcinfo");
    }
    EXPECT_EQ(responses.size(), expected.size() + extra_responses.size());
    for (const auto& row : expected) {
      const std::string id = row["warc"]["record_id"];
      SCOPED_TRACE(row.dump());
      ASSERT_TRUE(responses.count(id)) << "capture missing from the export";
      EXPECT_TRUE(requests_for.count(id)) << "its request is missing";
      // The record's bytes are those stored in the archive.
      auto stored = warc::read_record_bytes_at(
          fs::path(archive()) / "warc" / row["warc"]["file"].get<std::string>(),
          {row["warc"]["offset"].get<std::uint64_t>(), row["warc"]["length"].get<std::uint64_t>()});
      EXPECT_TRUE(stored == warc::read_record_bytes_at(file, responses[id]->location))
          << "record bytes changed";
      if (row["type"] == "response" && row["status"] == 200) {
        EXPECT_TRUE(articles_for.count(id)) << "its article record is missing";
      }
    }
    for (const auto& id : extra_responses) {
      EXPECT_TRUE(responses.count(id)) << id;
      EXPECT_FALSE(articles_for.count(id)) << "an added original brings no article: " << id;
    }
  }

  // Serves `html` as /NAME, archives it uncompressed into ARCHIVE (so that a test can change
  // bytes in a record's header) and returns the capture id, URL and WARC file.
  struct Uncompressed {
    std::string id, url;
    fs::path file;
  };
  static Uncompressed archive_uncompressed(const std::string& arc, const std::string& name,
                                           const std::string& html) {
    write_file(site_->path() / name, html);
    Uncompressed u;
    u.url = "http://127.0.0.1:" + std::to_string(nginx_->port()) + "/" + name;
    std::string out_text;
    EXPECT_EQ(run_vellum({"--archive", arc, "--json", "archive", "--compression", "none", u.url},
                         &out_text),
              0)
        << out_text;
    u.id = json_lines(out_text).at(0)["capture_id"];
    for (const auto& e : fs::directory_iterator(fs::path(arc) / "warc")) u.file = e.path();
    return u;
  }

  TempDir out_{"export-out"};
  static TempDir* site_;
  static TempDir* work_;
  static Nginx* nginx_;
  static std::vector<json> rows_;
  static std::map<std::string, std::string> titles_;
  static std::set<std::string> second_run_;  // capture ids
};

TempDir* ExportTest::site_ = nullptr;
TempDir* ExportTest::work_ = nullptr;
Nginx* ExportTest::nginx_ = nullptr;
std::vector<json> ExportTest::rows_;
std::map<std::string, std::string> ExportTest::titles_;
std::set<std::string> ExportTest::second_run_;

}  // namespace

TEST_F(ExportTest, WarcGzHoldsEveryCaptureAndReadsWithWarcio) {
  fs::path file = out_ / "all.warc.gz";
  json s = export_ok({"--format", "warc.gz", "-o", file.string()});
  EXPECT_EQ(s["captures"], rows_.size());
  EXPECT_EQ(s["referenced"], 0);
  EXPECT_EQ(s["file"], file.string());
  EXPECT_EQ(s["bytes"], fs::file_size(file));
  auto records = read_export(file);
  EXPECT_EQ(s["records"], records.size());
  EXPECT_EQ(records.front().record.field_or("WARC-Filename"), "all.warc.gz");
  expect_captures(file, rows_);
  // Nothing but the export is left in the directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(out_.path()), fs::directory_iterator()), 1);

  if (!on_path("node")) GTEST_SKIP() << "node is not on PATH: warcio.js cannot run";
  ASSERT_EQ(install_warcio(), "");
  std::string error;
  auto cdx = warcio_cdx(file, &error);
  ASSERT_EQ(error, "");
  std::map<std::string, std::uint64_t> offsets;  // record id -> offset in the export
  for (const auto& r : records) offsets[r.record.record_id()] = r.location.offset;
  for (const auto& row : rows_) {
    SCOPED_TRACE(row.dump());
    auto it = std::find_if(cdx.begin(), cdx.end(), [&](const json& c) {
      return c.value("url", "") == row["url"] && c.value("timestamp", "") == stamp14(row["date"]) &&
             c.value("offset", std::uint64_t{0}) == offsets[row["warc"]["record_id"]];
    });
    EXPECT_NE(it, cdx.end()) << "warcio cdx-index does not list this capture";
  }
}

TEST_F(ExportTest, WaczPassesAnIndependentCheck) {
  ASSERT_TRUE(on_path("python3")) << "python3 is needed for this test (scripts/dev.sh installs it)";
  fs::path file = out_ / "all.wacz";
  json s = export_ok({"-o", file.string()});  // the format from the name
  EXPECT_EQ(s["format"], "wacz");
  EXPECT_EQ(s["captures"], rows_.size());
  auto [rc, out] = shell("python3 " + shell_quote(VELLUM_SOURCE_DIR "/tests/cli/check_wacz.py") +
                         " " + shell_quote(file.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  json found = json::parse(out);

  // The CDXJ lists every capture once, at its time.
  std::set<std::tuple<std::string, std::string, std::string>> want, got;
  for (const auto& row : rows_)
    want.emplace(row["url"].get<std::string>(), stamp14(row["date"]),
                 row["warc"]["record_id"].get<std::string>());
  for (const auto& c : found["cdxj"])
    got.emplace(c["url"].get<std::string>(), c["timestamp"].get<std::string>(),
                c["record_id"].get<std::string>());
  EXPECT_EQ(got, want);
  EXPECT_EQ(found["cdxj"].size(), rows_.size());
  // Keys as pywb computes them to look a URL up: for these plain URLs, the host's labels
  // reversed, the port, then the path lower-cased without a trailing slash.
  for (const auto& c : found["cdxj"]) {
    const std::string url = c["url"];
    if (url.find_first_of("?%") != std::string::npos) continue;
    const std::size_t host_at = url.find("://") + 3, path_at = url.find('/', host_at);
    std::string host = url.substr(host_at, path_at - host_at), port;
    if (auto colon = host.find(':'); colon != std::string::npos) {
      port = host.substr(colon);
      host.erase(colon);
    }
    std::string key;
    for (std::size_t end = host.size(), dot;; end = dot) {
      dot = host.rfind('.', end - 1);
      key += host.substr(dot == std::string::npos ? 0 : dot + 1,
                         end - (dot == std::string::npos ? 0 : dot + 1));
      if (dot == std::string::npos) break;
      key += ',';
    }
    std::string path = util::to_lower(url.substr(path_at));
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    EXPECT_EQ(c["key"], key + port + ")" + path) << url;
  }

  // pages.jsonl: every page, with the title of its article.
  EXPECT_EQ(s["pages"], found["pages"].size());
  std::map<std::string, json> pages;
  for (const auto& p : found["pages"]) pages[p["id"]] = p;
  std::size_t titled = 0;
  for (const auto& row : rows_) {
    SCOPED_TRACE(row.dump());
    ASSERT_TRUE(pages.count(row["capture_id"])) << "capture not listed as a page";
    const json& p = pages[row["capture_id"]];
    EXPECT_EQ(p["url"], row["url"]);
    EXPECT_EQ(p["ts"], row["date"]);
    auto t = titles_.find(row["capture_id"]);
    if (t != titles_.end()) {
      EXPECT_EQ(p.value("title", ""), t->second);
      ++titled;
    }
  }
  EXPECT_GE(titled, 7u) << "every first capture of a corpus page has a title";
  // A revisit stored without an article is named by the article of the capture it refers to.
  std::string original = revisit()["refers_to"];
  original = original.substr(original.find("uuid:") + 5);
  original.pop_back();
  ASSERT_TRUE(titles_.count(original));
  EXPECT_EQ(pages[revisit()["capture_id"]].value("title", ""), titles_[original]);
  std::set<std::string> paths;
  for (const auto& r : found["resources"]) paths.insert(r["path"]);
  EXPECT_EQ(paths, (std::set<std::string>{"archive/data.warc.gz", "indexes/index.cdx",
                                          "pages/pages.jsonl"}));
}

TEST_F(ExportTest, DomainFilterSelectsThatHostOnly) {
  fs::path file = out_ / "b.warc.gz";
  json s = export_ok({"--domain", "news-b.test", "-o", file.string()});
  auto expected = rows_where(
      [](const json& r) { return r["url"].get<std::string>().starts_with("http://news-b.test:"); });
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(s["captures"], expected.size());
  expect_captures(file, expected);
}

TEST_F(ExportTest, TimeFilterKeepsRevisitsResolvable) {
  // --since the second run: the revisit and the new page; the response the revisit refers to
  // comes along (request and response, no article, no page).
  auto expected = rows_where([](const json& r) { return second_run_.count(r["capture_id"]); });
  ASSERT_EQ(expected.size(), 2u);
  const std::string since = expected.front()["date"];
  fs::path file = out_ / "late.warc.gz";
  json s = export_ok({"--since", since, "-o", file.string()});
  EXPECT_EQ(s["captures"], 2);
  EXPECT_EQ(s["referenced"], 1);
  const std::string original = revisit()["refers_to"];
  expect_captures(file, expected, {original});

  // The same as WACZ: the original is indexed, so the revisit resolves; it is no page.
  ASSERT_TRUE(on_path("python3")) << "python3 is needed for this test (scripts/dev.sh installs it)";
  fs::path wacz = out_ / "late.wacz";
  s = export_ok({"--since", since, "-o", wacz.string()});
  auto [rc, out] = shell("python3 " + shell_quote(VELLUM_SOURCE_DIR "/tests/cli/check_wacz.py") +
                         " " + shell_quote(wacz.string()) + " 2>&1");
  ASSERT_EQ(rc, 0) << out;
  json found = json::parse(out);
  std::set<std::string> ids;
  for (const auto& c : found["cdxj"]) ids.insert(c["record_id"]);
  EXPECT_EQ(ids, (std::set<std::string>{original, expected[0]["warc"]["record_id"],
                                        expected[1]["warc"]["record_id"]}));
  EXPECT_EQ(found["pages"].size(), 2u);

  // --until the end of the first run: its six captures, nothing referenced.
  auto first_run = rows_where([&](const json& r) { return r["date"] < since; });
  ASSERT_EQ(first_run.size(), 6u);
  fs::path early = out_ / "early.warc.gz";
  s = export_ok({"--until", first_run.back()["date"], "-o", early.string()});
  EXPECT_EQ(s["captures"], 6);
  EXPECT_EQ(s["referenced"], 0);
  expect_captures(early, first_run);
}

TEST_F(ExportTest, EmptySelectionIsAnErrorAndWritesNothing) {
  fs::path file = out_ / "none.wacz";
  auto [rc, out] = vellum_all(
      {"--archive", archive(), "export", "--domain", "nowhere.test", "-o", file.string()});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("nothing to export"), std::string::npos) << out;
  EXPECT_NE(out.find("domain nowhere.test"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_empty(out_.path()));
}

TEST_F(ExportTest, MissingOutputDirectoryIsAnError) {
  fs::path file = out_ / "missing" / "out.wacz";
  auto [rc, out] = vellum_all({"--archive", archive(), "export", "-o", file.string()});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("does not exist"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(out_ / "missing"));
  EXPECT_TRUE(fs::is_empty(out_.path()));
}

TEST_F(ExportTest, FormatAndNameMustAgree) {
  auto [rc, out] = vellum_all(
      {"--archive", archive(), "export", "--format", "warc.gz", "-o", (out_ / "x.wacz").string()});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("expected a name ending in .warc.gz"), std::string::npos) << out;
  std::tie(rc, out) =
      vellum_all({"--archive", archive(), "export", "-o", (out_ / "x.zip").string()});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("--format"), std::string::npos) << out;
  EXPECT_TRUE(fs::is_empty(out_.path()));
}

// An export is renamed over its name when complete: a name inside the archive (its WARC files,
// its index) or a device is refused before anything is written.
TEST_F(ExportTest, OutputInsideTheArchiveOrOnADeviceIsRefused) {
  fs::path copy = out_ / "copy";
  fs::copy(archive(), copy, fs::copy_options::recursive);
  fs::path warc = copy / "warc" / rows_[0]["warc"]["file"].get<std::string>();
  const std::string before = read_file(warc), index_before = read_file(copy / "index.sqlite3");
  for (const fs::path& target : {warc, copy / "index.sqlite3", copy / "new.warc.gz"}) {
    auto [rc, out] = vellum_all(
        {"--archive", copy.string(), "export", "--format", "warc.gz", "-o", target.string()});
    EXPECT_EQ(rc, 1) << target;
    EXPECT_NE(out.find("the path is inside the archive"), std::string::npos) << out;
  }
  EXPECT_TRUE(read_file(warc) == before) << "a WARC file of the archive was changed";
  EXPECT_TRUE(read_file(copy / "index.sqlite3") == index_before);
  EXPECT_FALSE(fs::exists(copy / "new.warc.gz"));
  auto [rc, out] =
      vellum_all({"--archive", archive(), "export", "--format", "warc.gz", "-o", "/dev/null"});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("found a character device, expected a file name or a regular file"),
            std::string::npos)
      << out;
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
}

TEST_F(ExportTest, DamagedRecordFailsTheExportAndLeavesNoFile) {
  // A copy of the archive with one response's stored bytes damaged.
  fs::path copy = out_ / "damaged";
  fs::copy(archive(), copy, fs::copy_options::recursive);
  const json& victim = rows_[2];
  fs::path warc = copy / "warc" / victim["warc"]["file"].get<std::string>();
  std::string data = read_file(warc);
  const std::uint64_t at = victim["warc"]["offset"].get<std::uint64_t>() +
                           victim["warc"]["length"].get<std::uint64_t>() / 2;
  for (std::uint64_t i = at; i < at + 16; ++i) data[i] = static_cast<char>(~data[i]);
  write_file(warc, data);

  fs::path dir = out_ / "exports";
  fs::create_directory(dir);
  for (const char* name : {"out.wacz", "out.warc.gz"}) {
    auto [rc, out] =
        vellum_all({"--archive", copy.string(), "export", "-o", (dir / name).string()});
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find(victim["warc"]["file"].get<std::string>()), std::string::npos) << out;
    EXPECT_TRUE(fs::is_empty(dir)) << "a failed export must leave nothing behind";
  }
}

// Flips 16 bytes in the middle of the record stored at (offset, length) in `warc`, or with
// `in_tail` 40 bytes before its end (in the block of an uncompressed record).
void damage_record(const fs::path& warc, std::uint64_t offset, std::uint64_t length,
                   bool in_tail = false) {
  std::string data = read_file(warc);
  const std::uint64_t at = in_tail ? offset + length - 40 : offset + length / 2;
  for (std::uint64_t i = at; i < at + 16; ++i) data[i] = static_cast<char>(~data[i]);
  write_file(warc, data);
}

// With --skip-damaged the captures that read are exported, each with its stored bytes, and what
// is left out is named: a capture whose response is damaged, the revisit whose payload is in
// it, and the article of a capture whose own records are sound (the capture goes without it).
// The exit status says something was left out; the archive itself is untouched.
TEST_F(ExportTest, SkipDamagedExportsWhatReadsAndNamesTheRest) {
  fs::path copy = out_ / "damaged";
  fs::copy(archive(), copy, fs::copy_options::recursive);
  const json& rev = revisit();
  const json* original = nullptr;
  for (const auto& r : rows_)
    if (r["warc"]["record_id"] == rev["refers_to"]) original = &r;
  ASSERT_NE(original, nullptr) << rev.dump();
  damage_record(copy / "warc" / (*original)["warc"]["file"].get<std::string>(),
                (*original)["warc"]["offset"], (*original)["warc"]["length"]);
  // The article of another capture.
  const json* with_article = nullptr;
  for (const auto& r : rows_)
    if (&r != original && r["type"] == "response" && r["status"] == 200) with_article = &r;
  ASSERT_NE(with_article, nullptr);
  const fs::path article_file = copy / "warc" / (*with_article)["warc"]["file"].get<std::string>();
  std::optional<warc::RecordLocation> article_at;
  {
    warc::WarcReader reader(article_file);
    while (auto r = reader.next())
      if (r->type() == "metadata" &&
          r->field_or("WARC-Refers-To") == (*with_article)["warc"]["record_id"])
        article_at = reader.last_location();
  }
  ASSERT_TRUE(article_at.has_value());
  damage_record(article_file, article_at->offset, article_at->length);
  const std::string before = read_file(article_file);

  // Without the option the export fails and says the option exists.
  fs::path out = out_ / "salvage.warc.gz";
  auto [rc, text] = vellum_all({"--archive", copy.string(), "export", "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("--skip-damaged"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));

  std::string summary_text;
  rc = run_vellum(
      {"--archive", copy.string(), "--json", "export", "--skip-damaged", "-o", out.string()},
      &summary_text);
  EXPECT_EQ(rc, 1) << summary_text;
  auto lines = json_lines(summary_text);
  ASSERT_EQ(lines.size(), 1u) << summary_text;
  const json& s = lines.front();
  EXPECT_EQ(s["captures"], rows_.size() - 2);
  EXPECT_EQ(s["skipped"], 2);
  ASSERT_EQ(s["left_out"].size(), 3u) << s.dump();
  const std::string named = s["left_out"].dump();
  for (const json* r : {original, &rev, with_article})
    EXPECT_NE(named.find((*r)["capture_id"].get<std::string>()), std::string::npos) << named;
  EXPECT_NE(named.find("is a revisit of record"), std::string::npos) << named;

  std::vector<json> expected;
  for (const auto& r : rows_)
    if (&r != original && &r != &rev && &r != with_article) expected.push_back(r);
  expect_captures(out, expected, {(*with_article)["warc"]["record_id"]});
  // The capture whose article was damaged is there, with its stored bytes, without the article.
  bool found = false;
  for (const auto& r : read_export(out)) {
    if (r.record.record_id() == (*with_article)["warc"]["record_id"]) found = true;
    EXPECT_NE(r.record.field_or("WARC-Refers-To"), (*with_article)["warc"]["record_id"])
        << "the damaged article was exported";
  }
  EXPECT_TRUE(found) << "the capture with the damaged article is missing";
  EXPECT_EQ(read_file(article_file), before) << "export changed the archive";
}

// A record whose bytes no longer match its WARC-Block-Digest (an uncompressed archive has no
// frame checksum to catch it) fails the export as well; it is not copied on as if sound.
TEST_F(ExportTest, ABlockThatFailsItsDigestIsDamagedToo) {
  TempDir work("export-plain");
  const std::string arc = (work.path() / "archive").string();
  // Long enough that the middle of the record lies in the page.
  std::string page = "<html><head><title>Plain</title></head><body>";
  for (int i = 0; i < 200; ++i)
    page += "<p>Stored without compression, so no frame checksum guards it.</p>\n";
  write_file(site_->path() / "plain-export.html", page + "</body></html>");
  const std::string url =
      "http://127.0.0.1:" + std::to_string(nginx_->port()) + "/plain-export.html";
  ASSERT_EQ(run_vellum({"--archive", arc, "archive", "--compression", "none", "--no-extract", url}),
            0);
  std::string listing;
  ASSERT_EQ(run_vellum({"--archive", arc, "--json", "list"}, &listing), 0);
  const json row = json_lines(listing).at(0);
  damage_record(fs::path(arc) / "warc" / row["warc"]["file"].get<std::string>(),
                row["warc"]["offset"], row["warc"]["length"]);
  const fs::path out = work.path() / "out.warc.gz";
  auto [rc, text] = vellum_all({"--archive", arc, "export", "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("block digest is"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));
  // Nothing else to export: an error, and no file.
  std::tie(rc, text) =
      vellum_all({"--archive", arc, "export", "--skip-damaged", "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("none of the 1 selected captures can be exported"), std::string::npos)
      << text;
  EXPECT_FALSE(fs::exists(out));
}

// Runs `sql` on an archive's index (to make it disagree with the records).
void edit_index(const std::string& archive, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((fs::path(archive) / "index.sqlite3").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// The one number `sql` selects from an archive's index.
std::uint64_t index_number(const std::string& archive, const std::string& sql) {
  sqlite3* db = nullptr;
  std::uint64_t n = 0;
  if (sqlite3_open((fs::path(archive) / "index.sqlite3").c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
      n = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  EXPECT_GT(n, 0u) << sql;
  return n;
}

// A record must say what the index says of it, and a request must belong to its response: an
// index whose revisit points at another record, or whose request is another capture's, makes
// export fail rather than write an export whose revisit cannot be resolved, and `verify` names
// both. A damaged request costs only the request: with --skip-damaged the capture and the
// revisits of it are exported.
TEST_F(ExportTest, RecordsMustAgreeWithTheIndexAndADamagedRequestCostsOnlyItself) {
  TempDir work("export-agree");
  const std::string arc = (work.path() / "archive").string();
  write_file(site_->path() / "agree-a.html",
             "<html><body><p>Page A, captured twice.</p></body></html>");
  write_file(site_->path() / "agree-b.html", "<html><body><p>Page B.</p></body></html>");
  const std::string base = "http://127.0.0.1:" + std::to_string(nginx_->port());
  // A and B in one file (a request lies in its response's file), then A again: a revisit.
  ASSERT_EQ(run_vellum({"--archive", arc, "archive", "--compression", "none", "--no-extract",
                        "--concurrency", "1", base + "/agree-a.html", base + "/agree-b.html"}),
            0);
  ASSERT_EQ(run_vellum({"--archive", arc, "archive", "--compression", "none", "--no-extract",
                        base + "/agree-a.html"}),
            0);
  std::string listing;
  ASSERT_EQ(run_vellum({"--archive", arc, "--json", "list"}, &listing), 0);
  json a, b, rev;
  for (const auto& j : json_lines(listing)) {
    if (j["type"] == "revisit")
      rev = j;
    else if (j["url"].get<std::string>().ends_with("agree-a.html"))
      a = j;
    else
      b = j;
  }
  ASSERT_TRUE(rev.is_object() && a.is_object() && b.is_object()) << listing;
  const fs::path out = work.path() / "out.warc.gz";
  auto capture_id = [](const json& j) { return j["capture_id"].get<std::string>(); };
  const fs::path clean = work.path() / "clean";
  fs::copy(arc, clean, fs::copy_options::recursive);
  auto restore_archive = [&] {
    fs::remove_all(arc);
    fs::copy(clean, arc, fs::copy_options::recursive);
  };

  // The index says the revisit refers to B.
  edit_index(arc, "UPDATE captures SET refers_to = '" + b["warc"]["record_id"].get<std::string>() +
                      "' WHERE capture_id = '" + capture_id(rev) + "'");
  auto [rc, text] = vellum_all({"--archive", arc, "export", "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(
      text.find("the record's WARC-Refers-To is '" + a["warc"]["record_id"].get<std::string>() +
                "', the index says '" + b["warc"]["record_id"].get<std::string>() + "'"),
      std::string::npos)
      << text;
  EXPECT_FALSE(fs::exists(out));
  std::tie(rc, text) = vellum_all({"--archive", arc, "verify"});
  EXPECT_NE(rc, 0) << text;
  EXPECT_NE(text.find("WARC-Refers-To"), std::string::npos) << text;

  // The index gives B the request of A.
  restore_archive();
  ASSERT_EQ(a["warc"]["file"], b["warc"]["file"]);
  edit_index(arc,
             "UPDATE captures SET (request_offset, request_length) = (SELECT request_offset, "
             "request_length FROM captures WHERE capture_id = '" +
                 capture_id(a) + "') WHERE capture_id = '" + capture_id(b) + "'");
  std::tie(rc, text) =
      vellum_all({"--archive", arc, "export", "--until", b["date"], "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("which is not linked to"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));
  std::tie(rc, text) = vellum_all({"--archive", arc, "verify"});
  EXPECT_NE(rc, 0) << text;
  EXPECT_NE(
      text.find("which is not linked to the response " + b["warc"]["record_id"].get<std::string>()),
      std::string::npos)
      << text;

  // A's request is damaged: A is exported without it, and so is the revisit of A.
  restore_archive();
  const fs::path a_file = fs::path(arc) / "warc" / a["warc"]["file"].get<std::string>();
  damage_record(a_file,
                index_number(arc, "SELECT request_offset FROM captures WHERE capture_id = '" +
                                      capture_id(a) + "'"),
                index_number(arc, "SELECT request_length FROM captures WHERE capture_id = '" +
                                      capture_id(a) + "'"),
                true);
  std::string summary_text;
  rc = run_vellum({"--archive", arc, "--json", "export", "--skip-damaged", "-o", out.string()},
                  &summary_text);
  EXPECT_EQ(rc, 1) << summary_text;
  const json summary = json_lines(summary_text).at(0);
  EXPECT_EQ(summary["captures"], 3);
  EXPECT_EQ(summary["skipped"], 0);
  ASSERT_EQ(summary["left_out"].size(), 1u) << summary.dump();
  EXPECT_NE(summary["left_out"][0].get<std::string>().find("its request record is left out"),
            std::string::npos)
      << summary.dump();
  std::set<std::string> responses, requests_for;
  for (const auto& r : read_export(out)) {
    if (r.record.type() == "response" || r.record.type() == "revisit")
      responses.insert(r.record.record_id());
    if (r.record.type() == "request") requests_for.insert(r.record.field_or("WARC-Concurrent-To"));
  }
  EXPECT_EQ(responses.size(), 3u);
  EXPECT_FALSE(requests_for.count(a["warc"]["record_id"])) << "the damaged request was exported";
  EXPECT_TRUE(requests_for.count(b["warc"]["record_id"]));

  // Only the revisit selected: A comes along for it, and its missing request is named too.
  rc = run_vellum({"--archive", arc, "--json", "export", "--skip-damaged", "--since", rev["date"],
                   "-o", out.string()},
                  &summary_text);
  EXPECT_EQ(rc, 1) << summary_text;
  const json only_revisit = json_lines(summary_text).at(0);
  ASSERT_EQ(only_revisit["left_out"].size(), 1u) << only_revisit.dump();
  EXPECT_NE(only_revisit["left_out"][0].get<std::string>().find(
                "added for the revisits that refer to it, is exported without what is damaged: "
                "its request record is left out"),
            std::string::npos)
      << only_revisit.dump();
}

// An article record's header fields are not covered by its digests: in an uncompressed archive a
// WARC-Refers-To that no longer names the capture's response, or a changed WARC-Date, is found by
// comparing them with the index. verify names both; export stops, or with --skip-damaged exports
// the capture without its article.
TEST_F(ExportTest, AnArticleRecordMustReferToItsCaptureAndKeepItsDate) {
  TempDir work("export-article-fields");
  const std::string arc = (work.path() / "archive").string();
  const auto [id, url, file] = archive_uncompressed(
      arc, "fields.html",
      "<html><head><title>Fields</title></head><body><article><p>An article whose record is "
      "damaged in its header, where no digest reaches.</p></article></body></html>");
  const std::string where = "FROM articles WHERE capture_id = '" + id + "'";
  const std::uint64_t offset = index_number(arc, "SELECT offset " + where);
  const std::uint64_t length = index_number(arc, "SELECT length " + where);
  std::string data = read_file(file);
  const std::string header = data.substr(offset, data.find("\r\n\r\n", offset) - offset);
  ASSERT_LT(header.size(), length);
  // One hex digit of the UUID WARC-Refers-To names, and the year of WARC-Date.
  const std::size_t refers = data.find("WARC-Refers-To: <urn:uuid:", offset) + 26;
  const std::size_t date = data.find("WARC-Date: ", offset) + 11;
  ASSERT_LT(refers, offset + header.size());
  ASSERT_LT(date, offset + header.size());
  data[refers] = data[refers] == 'a' ? 'b' : 'a';
  data[date + 3] = data[date + 3] == '1' ? '2' : '1';
  write_file(file, data);

  for (const std::vector<std::string>& verify :
       {std::vector<std::string>{"--archive", arc, "verify"},
        std::vector<std::string>{"--archive", arc, "verify", id}}) {
    auto [rc, text] = vellum_all(verify);
    EXPECT_NE(rc, 0) << text;
    EXPECT_NE(text.find("the article of capture " + id + " has WARC-Refers-To '"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("(the response it was extracted from)"), std::string::npos) << text;
    EXPECT_NE(text.find("has WARC-Date '"), std::string::npos) << text;
  }
  const fs::path out = work.path() / "out.warc.gz";
  auto [rc, text] = vellum_all({"--archive", arc, "export", "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("has WARC-Refers-To '"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));
  std::string summary_text;
  rc = run_vellum({"--archive", arc, "--json", "export", "--skip-damaged", "-o", out.string()},
                  &summary_text);
  EXPECT_EQ(rc, 1) << summary_text;
  const json summary = json_lines(summary_text).at(0);
  EXPECT_EQ(summary["captures"], 1);
  ASSERT_EQ(summary["left_out"].size(), 1u) << summary.dump();
  EXPECT_NE(summary["left_out"][0].get<std::string>().find("its article is left out"),
            std::string::npos)
      << summary.dump();
  std::set<std::string> types;
  for (const auto& r : read_export(out)) types.insert(r.record.type());
  EXPECT_TRUE(types.count("response"));
  EXPECT_FALSE(types.count("metadata"));
}

// Ctrl-C or SIGTERM during an export removes the temporary file, as a failure does, and leaves
// no output.
TEST_F(ExportTest, AnExportStoppedByASignalLeavesNothingBehind) {
  TempDir work("export-signal");
  const std::string arc = (work.path() / "archive").string();
  // One large page, so that the export takes a while (gzip of tens of megabytes).
  std::string big = "<html><body>";
  std::uint64_t x = 88172645463325252ull;
  while (big.size() < (48u << 20)) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    big += "<p>" + std::to_string(x) + " " + std::to_string(x >> 3) + "</p>\n";
  }
  write_file(site_->path() / "big-export.html", big + "</body></html>");
  ASSERT_EQ(run_vellum({"--archive", arc, "archive", "--no-extract", "--max-size", "100000000",
                        "http://127.0.0.1:" + std::to_string(nginx_->port()) + "/big-export.html"}),
            0);
  for (int sig : {SIGINT, SIGTERM}) {
    const fs::path out = work.path() / ("out-" + std::to_string(sig) + ".warc.gz");
    Subprocess p({VELLUM_CLI_PATH, "--archive", arc, "--quiet", "export", "-o", out.string()});
    bool seen = false;
    for (int i = 0; i < 2000 && !seen; ++i) {
      for (const auto& e : fs::directory_iterator(work.path()))
        seen |= e.path().filename().string().starts_with(out.filename().string() + ".vellum-tmp-");
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ASSERT_TRUE(seen) << "the export's temporary file never appeared";
    p.kill(sig);
    const int status = p.wait();
    EXPECT_NE(status, 0);
    EXPECT_FALSE(fs::exists(out)) << "the export finished before the signal; make the page larger";
    for (const auto& e : fs::directory_iterator(work.path()))
      EXPECT_FALSE(e.path().filename().string().find(".vellum-tmp-") != std::string::npos)
          << e.path() << " left behind after signal " << sig;
  }

  // Under nohup (SIGHUP ignored, which a child inherits) a hang-up does not stop the export.
  const fs::path out = work.path() / "out-nohup.warc.gz";
  struct sigaction ignore {
  }, before{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGHUP, &ignore, &before);
  Subprocess p({VELLUM_CLI_PATH, "--archive", arc, "--quiet", "export", "-o", out.string()});
  ::sigaction(SIGHUP, &before, nullptr);
  bool seen = false;
  for (int i = 0; i < 2000 && !seen; ++i) {
    for (const auto& e : fs::directory_iterator(work.path()))
      seen |= e.path().filename().string().starts_with("out-nohup.warc.gz.vellum-tmp-");
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(seen) << "the export's temporary file never appeared";
  p.kill(SIGHUP);
  EXPECT_EQ(p.wait(), 0);
  EXPECT_TRUE(fs::exists(out)) << "a hang-up stopped an export that ignores SIGHUP";
}

// A request record is paired with its response by WARC-Concurrent-To and by being of the same
// URI; damage to its WARC-Target-URI, which no digest covers, is found by verify and export.
TEST_F(ExportTest, ARequestRecordMustBeOfItsCapturesUri) {
  TempDir work("export-request-uri");
  const std::string arc = (work.path() / "archive").string();
  const auto [id, url, file] = archive_uncompressed(
      arc, "asked.html",
      "<html><head><title>Asked</title></head><body><p>A page whose request record is damaged "
      "in its header.</p></body></html>");
  const std::uint64_t offset =
      index_number(arc, "SELECT request_offset FROM captures WHERE capture_id = '" + id + "'");
  std::string data = read_file(file);
  const std::size_t head_end = data.find("\r\n\r\n", offset);
  const std::size_t target = data.find("WARC-Target-URI: " + url, offset);
  ASSERT_LT(target, head_end);
  const std::size_t letter = target + std::string("WARC-Target-URI: ").size() + url.size() - 6;
  ASSERT_EQ(data[letter], 'd');  // asked.html -> askex.html
  data[letter] = 'x';
  write_file(file, data);

  for (const std::vector<std::string>& verify :
       {std::vector<std::string>{"--archive", arc, "verify"},
        std::vector<std::string>{"--archive", arc, "verify", id}}) {
    auto [rc, text] = vellum_all(verify);
    EXPECT_NE(rc, 0) << text;
    EXPECT_NE(text.find("is of http://127.0.0.1:" + std::to_string(nginx_->port()) +
                        "/askex.html, its response "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("; expected the same WARC-Target-URI"), std::string::npos) << text;
  }
  const fs::path out = work.path() / "out.warc.gz";
  auto [rc, text] = vellum_all({"--archive", arc, "export", "-o", out.string()});
  EXPECT_EQ(rc, 1) << text;
  EXPECT_NE(text.find("expected the same WARC-Target-URI"), std::string::npos) << text;
  EXPECT_FALSE(fs::exists(out));

  // Read again, the index no longer pairs them: the capture stands alone and still restores.
  std::tie(rc, text) = vellum_all({"--archive", arc, "reindex"});
  ASSERT_EQ(rc, 0) << text;
  EXPECT_EQ(index_number(arc,
                         "SELECT count(*) FROM captures WHERE request_length = 0 AND "
                         "capture_id = '" +
                             id + "'"),
            1u);
  std::tie(rc, text) = vellum_all({"--archive", arc, "restore", id, "--format", "html"});
  EXPECT_EQ(rc, 0) << text;
  EXPECT_NE(text.find("damaged in its header"), std::string::npos) << text;
}
