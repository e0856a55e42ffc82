// `vellum import` end to end: WARC files written by wget (of corpus pages served by nginx) and
// by another Vellum archive become captures that restore byte for byte, carry their articles and
// verify; damaged files import what precedes the damage and say where it is.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "archive/ArchiveDir.h"
#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"
#include "util/Digest.h"
#include "warc/HttpMessage.h"
#include "warc/WarcReader.h"

using namespace vellum;
using namespace vellum::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct CliRun {
  int rc = 0;
  std::string out, err;
};

// Runs the CLI with stdout and stderr kept apart.
CliRun vellum_cli(const std::vector<std::string>& args, const fs::path& scratch) {
  std::string cmd = shell_quote(VELLUM_CLI_PATH);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  fs::path err = scratch / "stderr.txt";
  CliRun r;
  std::tie(r.rc, r.out) = shell(cmd + " 2>" + shell_quote(err.string()));
  r.err = read_file(err);
  return r;
}

struct StoredRecord {
  std::string type, id, bytes;  // bytes: header as read + block
  warc::RecordLocation loc;
  std::string uri;
};

std::vector<StoredRecord> read_records(const fs::path& file) {
  std::vector<StoredRecord> out;
  warc::WarcReader reader(file);
  while (auto rec = reader.next())
    out.push_back({rec->type(), rec->record_id(), rec->header_as_read + rec->block,
                   reader.last_location(), rec->field_or("WARC-Target-URI")});
  return out;
}

// Every record of every WARC file of an archive, by record id.
std::map<std::string, StoredRecord> archive_records(const fs::path& archive) {
  std::map<std::string, StoredRecord> out;
  for (const auto& e : archive::ArchiveDir(archive).warc_files())
    for (auto& r : read_records(e.path)) out[r.id] = std::move(r);
  return out;
}

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
    ASSERT_TRUE(on_path("wget")) << "wget is needed for this test";
    pages_ = build_corpus_site(site_.path());
    ASSERT_GT(pages_.size(), 80u);
    nginx_ = std::make_unique<Nginx>(site_.path());
  }

  std::string url(std::size_t i) const { return nginx_->url(pages_[i].path); }

  // `wget --warc-file` of pages 0, 7, 14, ... (`count` of them); returns the WARC file.
  fs::path wget_warc(std::size_t count, const std::string& name, bool compress = true) {
    std::string cmd = "cd " + shell_quote(tmp_.path().string()) +
                      " && wget -q --warc-file=" + name + " -O /dev/null" +
                      (compress ? "" : " --no-warc-compression");
    for (std::size_t i = 0; i < count; ++i) cmd += " " + shell_quote(url(i * 7));
    auto [rc, log] = shell(cmd + " 2>&1");
    EXPECT_EQ(rc, 0) << log;
    return tmp_ / (name + (compress ? ".warc.gz" : ".warc"));
  }

  std::string archive(const std::string& name = "archive") const { return (tmp_ / name).string(); }

  CliRun cli(const std::vector<std::string>& args) { return vellum_cli(args, tmp_.path()); }

  // The archive exported as a WACZ file `name`, as the independent check (check_wacz.py)
  // reads it; null after a failed assertion.
  json exported_wacz(const std::string& name) {
    const fs::path wacz = tmp_ / name;
    CliRun exported = cli({"--archive", archive(), "export", "-o", wacz.string()});
    EXPECT_EQ(exported.rc, 0) << exported.out << exported.err;
    auto [rc, out] = shell("python3 " + shell_quote(VELLUM_SOURCE_DIR "/tests/cli/check_wacz.py") +
                           " " + shell_quote(wacz.string()) + " 2>&1");
    EXPECT_EQ(rc, 0) << out;
    return rc == 0 ? json::parse(out) : json();
  }

  std::size_t capture_count(const std::string& dir) {
    CliRun r = cli({"--archive", dir, "--json", "list"});
    EXPECT_EQ(r.rc, 0) << r.err;
    return json_lines(r.out).size();
  }

  TempDir site_{"site"};
  TempDir tmp_{"import"};
  std::vector<SitePage> pages_;
  std::unique_ptr<Nginx> nginx_;
};

}  // namespace

TEST_F(ImportTest, WgetWarcRestoresByteIdenticalWithArticlesAndVerifies) {
  constexpr std::size_t kPages = 12;
  fs::path source = wget_warc(kPages, "peer");
  CliRun r = cli({"--archive", archive(), "--json", "import", source.string()});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  json s = lines[0];
  EXPECT_EQ(s["file"], source.string());
  EXPECT_EQ(s["captures_imported"], kPages) << s.dump();
  EXPECT_EQ(s["requests_imported"], kPages) << s.dump();
  EXPECT_EQ(s["articles"], kPages) << s.dump();
  EXPECT_EQ(s["duplicates_skipped"], 0) << s.dump();
  EXPECT_EQ(s["refused"], 0) << s.dump();
  EXPECT_TRUE(s["errors"].empty()) << s.dump();
  // warcinfo, wget's metadata and resource records: skipped and counted.
  EXPECT_EQ(s["records"].get<std::size_t>(),
            2 * kPages + s["other_records_skipped"].get<std::size_t>());
  EXPECT_GE(s["other_records_skipped"].get<int>(), 1);

  std::string phrase, phrase_url;  // words from one imported page's body, for search below
  for (std::size_t i = 0; i < kPages; ++i) {
    const SitePage& page = pages_[i * 7];
    std::string u = url(i * 7);
    CliRun html = cli({"--archive", archive(), "restore", u, "--format", "html"});
    ASSERT_EQ(html.rc, 0) << u << ": " << html.err;
    EXPECT_EQ(html.out, read_file(page.file)) << u;

    // The article is the one extraction makes of the served page, as at capture time.
    CliRun extracted = cli({"extract", page.file.string(), "--url", u, "--format", "json"});
    ASSERT_EQ(extracted.rc, 0) << extracted.err;
    json want = json::parse(extracted.out);
    CliRun stored = cli({"--archive", archive(), "restore", u, "--format", "json"});
    ASSERT_EQ(stored.rc, 0) << stored.err;
    json got = json::parse(stored.out);
    ASSERT_TRUE(want["title"].is_string()) << u;
    EXPECT_EQ(got["title"], want["title"]) << u;
    EXPECT_EQ(got["body_text"], want["body_text"]) << u;
    EXPECT_EQ(got["url"], u);
    // The sidecar is there too.
    std::string id = got["capture_id"];
    EXPECT_TRUE(fs::exists(tmp_ / "archive" / "articles" / "127.0.0.1" / (id + ".json"))) << id;

    CliRun text = cli({"--archive", archive(), "restore", u, "--format", "text"});
    ASSERT_EQ(text.rc, 0) << text.err;
    EXPECT_EQ(text.out.substr(0, text.out.find('\n')), want["title"].get<std::string>()) << u;

    // Five plain words in a row from the body (letters only, so the phrase is unambiguous).
    if (phrase.empty() && got["body_text"].is_string()) {
      std::istringstream words(got["body_text"].get<std::string>());
      std::vector<std::string> run;
      for (std::string w; words >> w && run.size() < 5;) {
        bool plain = w.size() > 2 && std::all_of(w.begin(), w.end(), [](unsigned char c) {
                       return std::isalpha(c) != 0;
                     });
        if (plain)
          run.push_back(w);
        else
          run.clear();
      }
      if (run.size() == 5) {
        for (const auto& w : run) phrase += (phrase.empty() ? "" : " ") + w;
        phrase_url = u;
      }
    }
  }

  // Imported articles are searchable: a phrase from one of them finds that page first.
  ASSERT_FALSE(phrase.empty()) << "no page had five plain words in a row";
  CliRun found = cli({"--archive", archive(), "--json", "search", "\"" + phrase + "\""});
  ASSERT_EQ(found.rc, 0) << found.err;
  auto hits = json_lines(found.out);
  ASSERT_FALSE(hits.empty()) << phrase;
  EXPECT_EQ(hits[0]["url"], phrase_url) << phrase;

  // The source records are kept byte for byte (header as written by wget, block).
  auto stored = archive_records(archive());
  int kept = 0;
  for (const auto& rec : read_records(source)) {
    if (rec.type != "request" && rec.type != "response") continue;
    ASSERT_TRUE(stored.count(rec.id)) << rec.type << " " << rec.id;
    EXPECT_EQ(stored[rec.id].bytes, rec.bytes) << rec.id;
    ++kept;
  }
  EXPECT_EQ(kept, static_cast<int>(2 * kPages));

  CliRun verify = cli({"--archive", archive(), "verify"});
  EXPECT_EQ(verify.rc, 0) << verify.out << verify.err;

  // The index equals the one `vellum reindex` builds from the WARC files.
  CliRun before = cli({"--archive", archive(), "--json", "list"});
  ASSERT_EQ(cli({"--archive", archive(), "reindex"}).rc, 0);
  CliRun after = cli({"--archive", archive(), "--json", "list"});
  auto sorted_lines = [](const std::string& out) {
    std::vector<std::string> lines;
    for (const auto& j : json_lines(out)) lines.push_back(j.dump());
    std::sort(lines.begin(), lines.end());  // (captures of the same second tie in the listing)
    return lines;
  };
  EXPECT_EQ(sorted_lines(before.out), sorted_lines(after.out));
  EXPECT_EQ(json_lines(after.out).size(), kPages);

  // A second import adds nothing, and says so.
  CliRun again = cli({"--archive", archive(), "--json", "import", source.string()});
  ASSERT_EQ(again.rc, 0) << again.err;
  json s2 = json_lines(again.out).at(0);
  EXPECT_EQ(s2["captures_imported"], 0) << s2.dump();
  EXPECT_EQ(s2["duplicates_skipped"], kPages) << s2.dump();
  EXPECT_EQ(archive_records(archive()).size(), stored.size()) << "no record written again";
  CliRun plain = cli({"--archive", archive(), "import", source.string()});
  EXPECT_EQ(plain.rc, 0);
  EXPECT_NE(plain.out.find("nothing new"), std::string::npos) << plain.out;
  EXPECT_EQ(capture_count(archive()), kPages);
}

// wget --warc-dedup writes revisits whose WARC-Block-Digest is the SHA-1 of an empty block
// while the block holds the response head: they are imported, restore the page, and verify.
TEST_F(ImportTest, WgetDedupRevisitsImportRestoreAndVerify) {
  std::string urls;
  for (std::size_t i : {0, 7, 14}) urls += " " + shell_quote(url(i));
  const std::string dir = shell_quote(tmp_.path().string());
  auto [rc, log] = shell("cd " + dir + " && wget -q --warc-file=first --warc-cdx -O /dev/null" +
                         urls + " && wget -q --warc-file=second --warc-dedup=first.cdx -O " +
                         "/dev/null" + urls + " 2>&1");
  ASSERT_EQ(rc, 0) << log;
  std::size_t revisits = 0;
  for (const auto& r : read_records(tmp_ / "second.warc.gz")) revisits += r.type == "revisit";
  ASSERT_EQ(revisits, 3u) << "wget wrote no revisits to test with";

  CliRun r = cli({"--archive", archive(), "--json", "import", (tmp_ / "first.warc.gz").string(),
                  (tmp_ / "second.warc.gz").string()});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[1]["captures_imported"], 3) << lines[1].dump();
  EXPECT_EQ(lines[1]["refused"], 0) << lines[1].dump();

  CliRun history = cli({"--archive", archive(), "--json", "history", url(7)});
  ASSERT_EQ(history.rc, 0) << history.err;
  auto rows = json_lines(history.out);
  ASSERT_EQ(rows.size(), 2u) << history.out;
  EXPECT_EQ(rows[1]["type"], "revisit") << history.out;
  CliRun restored = cli({"--archive", archive(), "restore", url(7), "--format", "html"});
  ASSERT_EQ(restored.rc, 0) << restored.err;
  EXPECT_EQ(restored.out, read_file(pages_[7].file));
  CliRun verify = cli({"--archive", archive(), "verify"});
  EXPECT_EQ(verify.rc, 0) << verify.out << verify.err;
}

// Some crawlers write their SHA-1 digests in hexadecimal. An export's CDXJ gives every SHA-1 in
// base32, as CDX readers (pywb) compare them, whatever form the imported record used.
TEST_F(ImportTest, HexadecimalDigestsAreExportedInBase32) {
  ASSERT_TRUE(on_path("python3")) << "python3 is needed for this test (scripts/dev.sh installs it)";
  fs::path source = wget_warc(3, "hex", false);
  std::string text = read_file(source);
  std::set<std::string> base32;
  warc::WarcReader reader(source);
  while (auto rec = reader.next()) {
    if (rec->type() != "response") continue;
    auto head = warc::parse_http_head(rec->block);
    ASSERT_TRUE(head);
    util::Sha1 sha;
    sha.update(warc::http_payload(rec->block, *head).bytes);
    const auto digest = sha.finish();
    std::string hex = "sha1:";
    for (std::uint8_t b : digest)
      hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
    const std::string b32 = util::warc_sha1(digest);
    ASSERT_EQ(rec->field_or("WARC-Payload-Digest"), b32);
    for (std::size_t at; (at = text.find("WARC-Payload-Digest: " + b32)) != std::string::npos;)
      text.replace(at + 21, b32.size(), hex);
    base32.insert(b32.substr(5));
  }
  ASSERT_EQ(base32.size(), 3u);
  write_file(source, text);
  CliRun imported = cli({"--archive", archive(), "--json", "import", source.string()});
  ASSERT_EQ(imported.rc, 0) << imported.out << imported.err;

  const json found = exported_wacz("hex.wacz");
  ASSERT_TRUE(found.is_object());
  std::set<std::string> listed;
  for (const auto& c : found["cdxj"]) listed.insert(c["digest"].get<std::string>());
  EXPECT_EQ(listed, base32) << found.dump();
}

// A revisit of a revisit (another crawler's deduplication chained) is named in a WACZ's
// pages by the article of the capture at the end of the chain, as a revisit of a response is.
TEST_F(ImportTest, ARevisitOfARevisitIsAPageWithItsOriginalsTitle) {
  ASSERT_TRUE(on_path("python3")) << "python3 is needed for this test (scripts/dev.sh installs it)";
  const fs::path original = wget_warc(1, "original", false);
  std::string response_id, uri, digest, head;
  {
    warc::WarcReader reader(original);
    while (auto rec = reader.next())
      if (rec->type() == "response") {
        response_id = rec->record_id();
        uri = rec->field_or("WARC-Target-URI");
        digest = rec->field_or("WARC-Payload-Digest");
        head = rec->block.substr(0, rec->block.find("\r\n\r\n") + 4);
      }
  }
  ASSERT_FALSE(response_id.empty());
  const std::string b = "<urn:uuid:0b0b0b0b-0000-4000-8000-00000000000b>";
  const std::string c = "<urn:uuid:0c0c0c0c-0000-4000-8000-00000000000c>";
  auto revisit = [&](const std::string& id, const std::string& refers_to, const char* date) {
    return "WARC/1.1\r\nWARC-Type: revisit\r\nWARC-Record-ID: " + id + "\r\nWARC-Date: " + date +
           "\r\nWARC-Target-URI: " + uri + "\r\nWARC-Refers-To: " + refers_to +
           "\r\nWARC-Profile: http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
           "\r\nWARC-Payload-Digest: " +
           digest + "\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: " +
           std::to_string(head.size()) + "\r\n\r\n" + head + "\r\n\r\n";
  };
  const fs::path revisits = tmp_ / "revisits.warc";
  write_file(revisits, revisit(b, response_id, "2031-01-01T00:00:00Z") +
                           revisit(c, b, "2032-01-01T00:00:00Z"));
  CliRun imported =
      cli({"--archive", archive(), "--json", "import", original.string(), revisits.string()});
  ASSERT_EQ(imported.rc, 0) << imported.out << imported.err;
  CliRun listed = cli({"--archive", archive(), "--json", "list"});
  std::string title;
  for (const auto& row : json_lines(listed.out))
    if (row["type"] == "response") {
      CliRun article = cli({"--archive", archive(), "restore", row["capture_id"].get<std::string>(),
                            "--format", "json"});
      ASSERT_EQ(article.rc, 0) << article.err;
      title = json::parse(article.out)["title"];
    }
  ASSERT_FALSE(title.empty()) << listed.out;

  const json found = exported_wacz("chain.wacz");
  ASSERT_TRUE(found.is_object());
  const std::string out = found.dump();
  std::map<std::string, std::string> titles;
  for (const auto& p : found["pages"]) titles[p["id"]] = p.value("title", "");
  ASSERT_EQ(titles.size(), 3u) << out;
  EXPECT_EQ(titles["0b0b0b0b-0000-4000-8000-00000000000b"], title) << out;
  EXPECT_EQ(titles["0c0c0c0c-0000-4000-8000-00000000000c"], title) << out;
}

TEST_F(ImportTest, NoExtractStoresCapturesWithoutArticles) {
  fs::path source = wget_warc(3, "plain", false);
  CliRun r = cli({"--archive", archive(), "--json", "import", "--no-extract", source.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  json s = json_lines(r.out).at(0);
  EXPECT_EQ(s["captures_imported"], 3);
  EXPECT_EQ(s["articles"], 0);
  EXPECT_FALSE(fs::exists(tmp_ / "archive" / "articles" / "127.0.0.1"));
  CliRun html = cli({"--archive", archive(), "restore", url(0), "--format", "html"});
  EXPECT_EQ(html.out, read_file(pages_[0].file));
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

TEST_F(ImportTest, VellumZstArchiveImportsIntoAnother) {
  constexpr std::size_t kPages = 10;
  std::vector<std::string> args{"--archive", archive("first"), "--json", "archive"};
  for (std::size_t i = 0; i < kPages; ++i) args.push_back(url(i));
  CliRun captured = cli(args);
  ASSERT_EQ(captured.rc, 0) << captured.err;

  std::vector<std::string> files;
  for (const auto& e : archive::ArchiveDir(archive("first")).warc_files()) {
    EXPECT_TRUE(e.name.ends_with(".warc.zst")) << e.name;
    files.push_back(e.path.string());
  }
  ASSERT_FALSE(files.empty());
  args = {"--archive", archive("second"), "--json", "import"};
  args.insert(args.end(), files.begin(), files.end());
  CliRun r = cli(args);
  ASSERT_EQ(r.rc, 0) << r.err;
  std::uint64_t imported = 0;
  for (const auto& j : json_lines(r.out)) imported += j["captures_imported"].get<std::uint64_t>();
  EXPECT_EQ(imported, kPages);

  for (std::size_t i = 0; i < kPages; ++i) {
    CliRun html = cli({"--archive", archive("second"), "restore", url(i), "--format", "html"});
    ASSERT_EQ(html.rc, 0) << html.err;
    EXPECT_EQ(html.out, read_file(pages_[i].file)) << url(i);
    CliRun a = cli({"--archive", archive("first"), "restore", url(i), "--format", "json"});
    CliRun b = cli({"--archive", archive("second"), "restore", url(i), "--format", "json"});
    json ja = json::parse(a.out), jb = json::parse(b.out);
    EXPECT_EQ(ja["capture_id"], jb["capture_id"]) << "the same capture, by its record id";
    EXPECT_EQ(ja["title"], jb["title"]);
    EXPECT_EQ(ja["body_text"], jb["body_text"]);
  }
  EXPECT_EQ(cli({"--archive", archive("second"), "verify"}).rc, 0);

  // Importing the archive into itself finds only what it has.
  args[1] = archive("first");
  CliRun self = cli(args);
  EXPECT_EQ(self.rc, 0) << self.err;
  std::uint64_t dups = 0;
  for (const auto& j : json_lines(self.out)) {
    EXPECT_EQ(j["captures_imported"], 0);
    dups += j["duplicates_skipped"].get<std::uint64_t>();
  }
  EXPECT_EQ(dups, kPages);
}

TEST_F(ImportTest, TruncatedGzipImportsWhatPrecedesTheDamageAndNamesTheOffset) {
  fs::path source = wget_warc(12, "whole");
  auto records = read_records(source);
  // Cut the file in the middle of the sixth response.
  std::vector<const StoredRecord*> responses;
  for (const auto& r : records)
    if (r.type == "response") responses.push_back(&r);
  ASSERT_EQ(responses.size(), 12u);
  const StoredRecord& cut_in = *responses[5];
  std::string bytes = read_file(source);
  fs::path truncated = tmp_ / "truncated.warc.gz";
  write_file(truncated, bytes.substr(0, cut_in.loc.offset + cut_in.loc.length / 2));

  CliRun r = cli({"--archive", archive(), "--json", "import", truncated.string()});
  EXPECT_EQ(r.rc, 1) << r.out << r.err;
  EXPECT_NE(r.err.find(truncated.string() + ": offset " + std::to_string(cut_in.loc.offset)),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("gzip member"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no intact record follows it"), std::string::npos) << r.err;
  json s = json_lines(r.out).at(0);
  EXPECT_EQ(s["captures_imported"], 5) << s.dump();
  ASSERT_EQ(s["errors"].size(), 1u) << s.dump();

  for (std::size_t i = 0; i < 5; ++i) {
    CliRun html = cli({"--archive", archive(), "restore", url(i * 7), "--format", "html"});
    ASSERT_EQ(html.rc, 0) << html.err;
    EXPECT_EQ(html.out, read_file(pages_[i * 7].file));
  }
  EXPECT_NE(cli({"--archive", archive(), "restore", url(5 * 7), "--format", "html"}).rc, 0);
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);

  // The whole file afterwards adds the rest.
  CliRun rest = cli({"--archive", archive(), "--json", "import", source.string()});
  EXPECT_EQ(rest.rc, 0) << rest.err;
  json s2 = json_lines(rest.out).at(0);
  EXPECT_EQ(s2["captures_imported"], 7);
  EXPECT_EQ(s2["duplicates_skipped"], 5);
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

TEST_F(ImportTest, GarbageAndBadZstdFramesAreRefusedAndNothingStoredIsLost) {
  fs::path source = wget_warc(4, "good");
  ASSERT_EQ(cli({"--archive", archive(), "import", source.string()}).rc, 0);
  ASSERT_EQ(capture_count(archive()), 4u);

  fs::path junk = tmp_ / "junk.warc.gz";
  write_file(junk, "This is not a WARC file at all.\n" + std::string(5000, 'x'));
  CliRun r = cli({"--archive", archive(), "import", junk.string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(junk.string() + ": offset 0: found 'This is not a WARC file at all.'"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("expected a version line"), std::string::npos) << r.err;

  CliRun missing = cli({"--archive", archive(), "import", (tmp_ / "nowhere.warc").string()});
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("nowhere.warc: found no such file"), std::string::npos) << missing.err;

  // A .warc.zst from another archive with a damaged frame in the middle.
  std::vector<std::string> args{"--archive", archive("other"), "archive"};
  for (std::size_t i = 40; i < 46; ++i) args.push_back(url(i));
  ASSERT_EQ(cli(args).rc, 0);
  auto files = archive::ArchiveDir(archive("other")).warc_files();
  ASSERT_EQ(files.size(), 1u);
  auto records = read_records(files[0].path);
  const StoredRecord* victim = nullptr;
  int responses = 0;
  for (const auto& rec : records)
    if (rec.type == "response" && ++responses == 4) victim = &rec;
  ASSERT_NE(victim, nullptr);
  std::string bytes = read_file(files[0].path);
  bytes[victim->loc.offset + victim->loc.length / 2] ^= 0x55;
  fs::path damaged = tmp_ / "damaged.warc.zst";
  write_file(damaged, bytes);
  CliRun z = cli({"--archive", archive(), "--json", "import", damaged.string()});
  EXPECT_EQ(z.rc, 1);
  EXPECT_NE(z.err.find(damaged.string() + ": offset " + std::to_string(victim->loc.offset)),
            std::string::npos)
      << z.err;
  EXPECT_NE(z.err.find("zstd"), std::string::npos) << z.err;
  EXPECT_NE(z.err.find("reading resumed at the next intact record"), std::string::npos) << z.err;
  // Every capture but the damaged one: reading goes on at the next frame.
  EXPECT_EQ(json_lines(z.out).at(0)["captures_imported"], 5) << z.out;
  for (std::size_t i = 40; i < 46; ++i) {
    CliRun html = cli({"--archive", archive(), "restore", url(i), "--format", "html"});
    if (url(i) == victim->uri)
      EXPECT_NE(html.rc, 0) << "the damaged capture is not imported";
    else
      EXPECT_EQ(html.out, read_file(pages_[i].file)) << url(i);
  }

  EXPECT_EQ(capture_count(archive()), 9u);
  CliRun verify = cli({"--archive", archive(), "verify"});
  EXPECT_EQ(verify.rc, 0) << verify.out << verify.err;
  for (std::size_t i = 0; i < 4; ++i) {
    CliRun html = cli({"--archive", archive(), "restore", url(i * 7), "--format", "html"});
    EXPECT_EQ(html.out, read_file(pages_[i * 7].file));
  }
}

TEST_F(ImportTest, RecordWithWrongBlockDigestIsRefused) {
  fs::path source = wget_warc(3, "altered", false);
  auto records = read_records(source);
  const StoredRecord* second = nullptr;
  int responses = 0;
  for (const auto& rec : records)
    if (rec.type == "response" && ++responses == 2) second = &rec;
  ASSERT_NE(second, nullptr);
  std::string bytes = read_file(source);
  // One byte of the page changed, same length: the declared digests no longer hold.
  std::size_t at = bytes.find("<title", second->loc.offset);
  ASSERT_LT(at, second->loc.offset + second->loc.length);
  bytes[at + 1] = 'T';
  write_file(source, bytes);

  CliRun r = cli({"--archive", archive(), "--json", "import", source.string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find(second->id), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("block digest is sha1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not imported"), std::string::npos) << r.err;
  json s = json_lines(r.out).at(0);
  EXPECT_EQ(s["captures_imported"], 2);
  EXPECT_EQ(s["refused"], 1);
  EXPECT_NE(cli({"--archive", archive(), "restore", url(7), "--format", "html"}).rc, 0);
  EXPECT_EQ(cli({"--archive", archive(), "restore", url(0), "--format", "html"}).out,
            read_file(pages_[0].file));
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

// A capture without a date the archive can order it by, or without the URI it captured, is
// refused with what was found; a date with an offset from UTC is stored in UTC.
TEST_F(ImportTest, RecordsWithoutAUsableDateOrUriAreRefused) {
  fs::path source = wget_warc(3, "dates", false);
  auto records = read_records(source);
  std::vector<const StoredRecord*> responses;
  for (const auto& rec : records)
    if (rec.type == "response") responses.push_back(&rec);
  ASSERT_EQ(responses.size(), 3u);
  std::string bytes = read_file(source);
  // Edit from the last record back, so that earlier offsets stay right.
  auto header_of = [&](const StoredRecord& r) {
    return std::pair{r.loc.offset, bytes.find("\r\n\r\n", r.loc.offset)};
  };
  auto [h2, e2] = header_of(*responses[2]);
  std::size_t date2 = bytes.find("WARC-Date: ", h2);
  ASSERT_LT(date2, e2);
  const std::string utc = bytes.substr(date2 + 11, 20);  // 2026-11-27T12:00:00Z
  ASSERT_EQ(utc.back(), 'Z') << utc;
  bytes.replace(date2 + 11, 20, utc.substr(0, 19) + "+02:00");
  auto [h1, e1] = header_of(*responses[1]);
  std::size_t date1 = bytes.find("WARC-Date: ", h1);
  ASSERT_LT(date1, e1);
  bytes.replace(date1 + 11, 20, "garbageZ");
  auto [h0, e0] = header_of(*responses[0]);
  std::size_t uri0 = bytes.find("WARC-Target-URI: ", h0);
  ASSERT_LT(uri0, e0);
  bytes.erase(uri0, bytes.find("\r\n", uri0) + 2 - uri0);
  write_file(source, bytes);

  CliRun r = cli({"--archive", archive(), "--json", "import", source.string()});
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("it has no WARC-Target-URI, expected the URI it captured"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("its WARC-Date is 'garbageZ', expected a date and time such as"),
            std::string::npos)
      << r.err;
  json s = json_lines(r.out).at(0);
  EXPECT_EQ(s["captures_imported"], 1);
  EXPECT_EQ(s["refused"], 2);
  std::string imported = responses[2]->uri;  // wget writes it in angle brackets (WARC/1.0)
  if (imported.front() == '<') imported = imported.substr(1, imported.size() - 2);
  CliRun shown = cli({"--archive", archive(), "--json", "show", imported});
  ASSERT_EQ(shown.rc, 0) << shown.err;
  // 12:00:00+02:00 is 10:00:00 UTC (the day before, when captured before 02:00 UTC).
  std::tm tm{};
  ASSERT_TRUE(strptime(utc.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) << utc;
  const std::time_t two_hours_earlier = timegm(&tm) - 2 * 3600;
  std::tm earlier{};
  gmtime_r(&two_hours_earlier, &earlier);
  char want[32];
  std::strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S", &earlier);
  EXPECT_EQ(json::parse(shown.out)["date"].get<std::string>().substr(0, 19), want) << shown.out;
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

// A response refused for its digest takes with it what refers to it: its request is skipped
// with that reason, and a revisit of it is refused rather than imported as a revisit of
// nothing, so the archive verifies straight after the import.
TEST_F(ImportTest, WhatRefersToARefusedResponseIsNotImported) {
  // A plain .warc holding a capture of page 0 and a revisit of it, then page 1.
  for (const std::string& u : {url(0), url(0), url(1)})
    ASSERT_EQ(
        cli({"--archive", archive("first"), "archive", "--compression", "none", "--no-extract", u})
            .rc,
        0);
  std::vector<fs::path> files;
  for (const auto& e : archive::ArchiveDir(archive("first")).warc_files()) files.push_back(e.path);
  ASSERT_EQ(files.size(), 3u);
  const StoredRecord* response = nullptr;
  auto records = read_records(files[0]);
  for (const auto& rec : records)
    if (rec.type == "response") response = &rec;
  ASSERT_NE(response, nullptr);
  std::string bytes = read_file(files[0]);
  std::size_t at = bytes.find("<title", response->loc.offset);
  ASSERT_LT(at, response->loc.offset + response->loc.length);
  bytes[at + 1] = 'T';
  write_file(files[0], bytes);

  std::vector<std::string> args{"--archive", archive("second"), "--json", "import"};
  for (const auto& f : files) args.push_back(f.string());
  CliRun r = cli(args);
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find("block digest is sha1:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("its response was refused (named with the refusals of this file); skipped"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("revisit record"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("which was refused above"), std::string::npos) << r.err;
  std::uint64_t imported = 0, refused = 0;
  for (const auto& j : json_lines(r.out)) {
    imported += j["captures_imported"].get<std::uint64_t>();
    refused += j["refused"].get<std::uint64_t>();
  }
  EXPECT_EQ(imported, 1u);
  EXPECT_EQ(refused, 2u);
  CliRun verify = cli({"--archive", archive("second"), "verify"});
  EXPECT_EQ(verify.rc, 0) << verify.out << verify.err;
  EXPECT_EQ(cli({"--archive", archive("second"), "restore", url(1), "--format", "html"}).out,
            read_file(pages_[1].file));
}

TEST_F(ImportTest, WaitsForAnotherWriterAndSaysSo) {
  fs::path source = wget_warc(2, "later");
  fs::create_directories(tmp_ / "archive");
  fs::path lock = tmp_ / "archive" / "lock";
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(flock(fd, LOCK_EX), 0);
  const std::string holder = "4242 vellumd\n";
  ASSERT_EQ(::pwrite(fd, holder.data(), holder.size(), 0), static_cast<ssize_t>(holder.size()));

  fs::path err = tmp_ / "import-stderr.txt";
  Subprocess p({"/bin/sh", "-c",
                "exec " + shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive()) +
                    " import " + shell_quote(source.string()) + " 2>" + shell_quote(err.string())});
  std::string said;
  // The file exists once the shell has run; up to 30 s on a loaded machine.
  for (int i = 0; i < 600 && said.find("waiting") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (fs::exists(err)) said = read_file(err);
  }
  EXPECT_NE(said.find("is being written by process 4242 vellumd; waiting for it to finish"),
            std::string::npos)
      << said;
  EXPECT_TRUE(p.running()) << "import must wait while another process writes";
  ::close(fd);  // the other writer is done
  EXPECT_EQ(p.wait(), 0) << read_file(err);
  EXPECT_EQ(capture_count(archive()), 2u);
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

TEST_F(ImportTest, GarbageBetweenGzipMembersIsReportedAndSkipped) {
  fs::path source = wget_warc(6, "spliced");
  auto records = read_records(source);
  std::vector<const StoredRecord*> responses;
  for (const auto& r : records)
    if (r.type == "response") responses.push_back(&r);
  ASSERT_EQ(responses.size(), 6u);
  const std::uint64_t at = responses[2]->loc.offset + responses[2]->loc.length;
  std::string bytes = read_file(source);
  const std::string junk(300, '\x8b');
  fs::path spliced = tmp_ / "spliced-junk.warc.gz";
  write_file(spliced, bytes.substr(0, at) + junk + bytes.substr(at));

  CliRun r = cli({"--archive", archive(), "--json", "import", spliced.string()});
  EXPECT_EQ(r.rc, 1) << r.err;
  EXPECT_NE(r.err.find(spliced.string() + ": offset " + std::to_string(at) + ": found bytes 8b"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("offset " + std::to_string(at + junk.size()) + " (300 bytes skipped)"),
            std::string::npos)
      << r.err;
  json s = json_lines(r.out).at(0);
  EXPECT_EQ(s["captures_imported"], 6) << s.dump();
  EXPECT_EQ(s["errors"].size(), 1u);
  for (std::size_t i = 0; i < 6; ++i)
    EXPECT_EQ(cli({"--archive", archive(), "restore", url(i * 7), "--format", "html"}).out,
              read_file(pages_[i * 7].file));
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

// A response sent with a transfer coding besides chunked ("Transfer-Encoding: gzip, chunked",
// which a crawler that asked for it with TE may have stored) is restored and extracted decoded;
// its payload digest stays that of the bytes after chunked framing, as stored.
TEST_F(ImportTest, ATransferCodedResponseRestoresDecoded) {
  const std::string html =
      "<html><head><title>Sent as gzip</title></head><body><article><p>A page the server sent "
      "with a gzip transfer coding, which the reader of the archive never sees.</p></article>"
      "</body></html>";
  const fs::path plain = tmp_ / "page.html";
  write_file(plain, html);
  auto [rc, gz] = shell("gzip -c -n " + shell_quote(plain.string()));
  ASSERT_EQ(rc, 0);
  char size[20];
  std::snprintf(size, sizeof size, "%zx\r\n", gz.size());
  const std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
      "Transfer-Encoding: gzip, chunked\r\n\r\n" +
      std::string(size) + gz + "\r\n0\r\n\r\n";
  const std::string record =
      "WARC/1.1\r\nWARC-Type: response\r\n"
      "WARC-Record-ID: <urn:uuid:0e0e0e0e-0000-4000-8000-00000000000e>\r\n"
      "WARC-Date: 2026-11-27T12:00:00Z\r\nWARC-Target-URI: http://example.com/coded\r\n"
      "Content-Type: application/http; msgtype=response\r\nContent-Length: " +
      std::to_string(block.size()) + "\r\n\r\n" + block + "\r\n\r\n";
  const fs::path source = tmp_ / "coded.warc";
  write_file(source, record);

  CliRun r = cli({"--archive", archive(), "import", source.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  CliRun restored =
      cli({"--archive", archive(), "restore", "http://example.com/coded", "--format", "html"});
  ASSERT_EQ(restored.rc, 0) << restored.err;
  EXPECT_EQ(restored.out, html);
  CliRun text =
      cli({"--archive", archive(), "restore", "http://example.com/coded", "--format", "text"});
  ASSERT_EQ(text.rc, 0) << text.err;
  EXPECT_EQ(text.out.rfind("Sent as gzip\n", 0), 0u) << text.out;
  EXPECT_NE(text.out.find("which the reader of the archive never sees."), std::string::npos)
      << text.out;
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

// Another crawler's revisits that name no original, or a revisit, or a response of another URL:
// `history` compares each with the text of the response whose payload it repeats, as restore
// finds it, and `show` names the URI a revisit takes its payload from.
TEST_F(ImportTest, HistoryAndShowFollowImportedRevisitsToTheirResponse) {
  const std::string html =
      "<html><head><title>Tide tables</title></head><body><article><p>The tide tables for the "
      "harbour are printed every Monday, with the times of high and low water.</p></article>"
      "</body></html>";
  const std::string digest = util::warc_sha1(html);
  auto record = [](std::vector<std::string> lines, const std::string& block) {
    std::string out = "WARC/1.0\r\n";
    for (const auto& l : lines) out += l + "\r\n";
    return out + "Content-Length: " + std::to_string(block.size()) + "\r\n\r\n" + block +
           "\r\n\r\n";
  };
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n";
  auto id = [](char c) {
    return "<urn:uuid:" + std::string(8, c) + "-0000-4000-8000-000000000000>";
  };
  auto revisit = [&](char c, int day, const std::string& uri, const std::string& extra) {
    std::vector<std::string> lines{
        "WARC-Type: revisit",
        "WARC-Record-ID: " + id(c),
        "WARC-Date: 2020-05-0" + std::to_string(day) + "T10:00:00Z",
        "WARC-Target-URI: " + uri,
        "Content-Type: application/http; msgtype=response",
        "WARC-Profile: http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
        "WARC-Payload-Digest: " + digest};
    if (!extra.empty()) lines.push_back(extra);
    return record(lines, head);
  };
  const std::string page = "http://example.com/tides";
  const std::string copy = "http://example.com/tides-copy";
  const std::string warc =
      record({"WARC-Type: response", "WARC-Record-ID: " + id('a'),
              "WARC-Date: 2020-05-01T10:00:00Z", "WARC-Target-URI: " + page,
              "Content-Type: application/http; msgtype=response", "WARC-Payload-Digest: " + digest},
             head + html) +
      revisit('b', 2, page, "") +                                   // names no original
      revisit('c', 3, page, "WARC-Refers-To: " + id('b')) +         // a revisit of a revisit
      revisit('d', 4, copy, "WARC-Refers-To-Target-URI: " + page);  // of another URL
  const fs::path source = tmp_ / "revisits.warc";
  write_file(source, warc);
  CliRun r = cli({"--archive", archive(), "import", source.string()});
  ASSERT_EQ(r.rc, 0) << r.err;

  CliRun history = cli({"--archive", archive(), "--json", "history", page});
  ASSERT_EQ(history.rc, 0) << history.err;
  auto rows = json_lines(history.out);
  ASSERT_EQ(rows.size(), 3u) << history.out;
  ASSERT_TRUE(rows[0]["text_digest"].is_string()) << history.out;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["type"], "revisit");
    EXPECT_EQ(rows[i]["text_digest"], rows[0]["text_digest"]) << history.out;
    EXPECT_EQ(rows[i]["text_changed"], false) << history.out;
    EXPECT_EQ(rows[i]["title"], "Tide tables") << history.out;
  }
  history = cli({"--archive", archive(), "--json", "history", copy});
  ASSERT_EQ(history.rc, 0) << history.err;
  rows = json_lines(history.out);
  ASSERT_EQ(rows.size(), 1u) << history.out;
  EXPECT_EQ(
      rows[0]["text_digest"],
      json_lines(cli({"--archive", archive(), "--json", "history", page}).out)[0]["text_digest"]);

  CliRun show = cli({"--archive", archive(), "--json", "show", copy});
  ASSERT_EQ(show.rc, 0) << show.err;
  EXPECT_EQ(json::parse(show.out)["original_uri"], page) << show.out;
  show = cli({"--archive", archive(), "show", copy});
  EXPECT_NE(show.out.find("original at:    " + page + "\n"), std::string::npos) << show.out;
  CliRun restored = cli({"--archive", archive(), "restore", copy, "--format", "html"});
  ASSERT_EQ(restored.rc, 0) << restored.err;
  EXPECT_EQ(restored.out, html);
  EXPECT_EQ(cli({"--archive", archive(), "verify"}).rc, 0);
}

// `restore --format warc` of an imported capture gives its records as the source file held them:
// the version line, the fields as spelt (no space after a colon, a folded line) and the block.
TEST_F(ImportTest, RestoreAsWarcGivesAnImportedRecordAsItsSourceWroteIt) {
  const std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
  const std::string source_bytes =
      "WARC/1.0\r\nWARC-Type:response\r\n"
      "WARC-Record-ID: <urn:uuid:0f0f0f0f-0000-4000-8000-00000000000f>\r\n"
      "WARC-Date: 2020-05-01T10:00:00Z\r\nWARC-Target-URI: <http://example.com/kept>\r\n"
      "X-Note: one line\r\n  folded onto another\r\n"
      "Content-Type: application/http; msgtype=response\r\n"
      "WARC-Payload-Digest: " +
      util::warc_sha1("hello") + "\r\nContent-Length: " + std::to_string(block.size()) +
      "\r\n\r\n" + block + "\r\n\r\n";
  const fs::path source = tmp_ / "kept.warc";
  write_file(source, source_bytes);
  CliRun r = cli({"--archive", archive(), "import", "--no-extract", source.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  CliRun restored =
      cli({"--archive", archive(), "restore", "http://example.com/kept", "--format", "warc"});
  ASSERT_EQ(restored.rc, 0) << restored.err;
  EXPECT_EQ(restored.out, source_bytes);
}

// A URL or header of an imported record that holds control characters (an escape sequence) is
// printed by list and show with them escaped, as a URL carries them; --json escapes them too.
TEST_F(ImportTest, ControlCharactersOfImportedRecordsDoNotReachTheTerminal) {
  const std::string block =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Note: a\x1b]0;owned\x07z\r\n"
      "Content-Length: 2\r\n\r\nok";
  const std::string uri = "http://ex.example/a\x1b[2Jb";
  const std::string source_bytes =
      "WARC/1.0\r\nWARC-Type: response\r\n"
      "WARC-Record-ID: <urn:uuid:0d0d0d0d-0000-4000-8000-00000000000d>\r\n"
      "WARC-Date: 2020-05-01T10:00:00Z\r\nWARC-Target-URI: " +
      uri + "\r\nContent-Type: application/http; msgtype=response\r\nContent-Length: " +
      std::to_string(block.size()) + "\r\n\r\n" + block + "\r\n\r\n";
  const fs::path source = tmp_ / "escape.warc";
  write_file(source, source_bytes);
  CliRun r = cli({"--archive", archive(), "import", "--no-extract", source.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--archive", archive(), "list"},
        std::vector<std::string>{"--archive", archive(), "show", "0d0d0d0d"}}) {
    CliRun out = cli(args);
    ASSERT_EQ(out.rc, 0) << out.err;
    EXPECT_EQ(out.out.find('\x1b'), std::string::npos) << out.out;
    EXPECT_EQ(out.out.find('\x07'), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("http://ex.example/a%1B[2Jb"), std::string::npos) << out.out;
  }
  CliRun json_out = cli({"--archive", archive(), "--json", "list"});
  ASSERT_EQ(json_out.rc, 0);
  EXPECT_EQ(json_out.out.find('\x1b'), std::string::npos) << json_out.out;
  EXPECT_EQ(json::parse(json_out.out)["url"], uri);
}
