// The `vellum` CLI end to end against nginx on 127.0.0.1 serving the shared news corpus.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>

#include "archive/ArchiveDir.h"
#include "support/Corpus.h"
#include "support/Nginx.h"
#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/Tools.h"

using namespace vellum::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
    pages_ = build_corpus_site(site_.path());
    ASSERT_GT(pages_.size(), 100u);
    nginx_ = std::make_unique<Nginx>(site_.path());
  }
  std::string archive_dir() const { return (tmp_ / "archive").string(); }

  TempDir site_{"site"};
  TempDir tmp_{"cli"};
  std::vector<SitePage> pages_;
  std::unique_ptr<Nginx> nginx_;
};

}  // namespace

TEST_F(CliTest, ArchiveRestoreVerifyCorpusByteIdentical) {
  fs::path list = tmp_ / "urls.txt";
  std::string urls;
  for (const auto& p : pages_) urls += nginx_->url(p.path) + "\n";
  write_file(list, urls);

  std::string out;
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "--json", "archive", "-i", list.string(),
                        "--concurrency", "8"},
                       &out),
            0)
      << out;
  auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), pages_.size());
  std::map<std::string, std::string> ids;
  for (const auto& j : lines) {
    EXPECT_EQ(j["status"], 200) << j.dump();
    EXPECT_FALSE(j.contains("error")) << j.dump();
    ids[j["url"]] = j["capture_id"];
  }
  for (const auto& p : pages_) {
    std::string url = nginx_->url(p.path);
    ASSERT_TRUE(ids.count(url)) << url;
    std::string html;
    ASSERT_EQ(run_vellum({"--archive", archive_dir(), "restore", url, "--format", "html"}, &html),
              0);
    ASSERT_EQ(html, read_file(p.file)) << url;
  }
  // By capture id, into a file.
  fs::path outfile = tmp_ / "restored.html";
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "restore", ids.begin()->second, "--format",
                        "html", "-o", outfile.string()}),
            0);
  EXPECT_FALSE(read_file(outfile).empty());
  // A file written over keeps its permissions.
  fs::permissions(outfile, fs::perms::owner_read | fs::perms::owner_write);
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "restore", ids.begin()->second, "--format",
                        "html", "-o", outfile.string()}),
            0);
  EXPECT_EQ(fs::status(outfile).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // With --json, writing to a file reports what was written where.
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "--json", "restore", ids.begin()->second,
                        "--format", "text", "-o", outfile.string()},
                       &out),
            0);
  auto summary = json_lines(out);
  ASSERT_EQ(summary.size(), 1u) << out;
  EXPECT_EQ(summary[0]["capture_id"], ids.begin()->second);
  EXPECT_EQ(summary[0]["bytes"], read_file(outfile).size());
  EXPECT_EQ(summary[0]["output"], outfile.string());
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "verify"}, &out), 0) << out;
  EXPECT_NE(out.find("ok:"), std::string::npos) << out;

  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "--json", "list", "--limit", "5"}, &out), 0);
  EXPECT_EQ(json_lines(out).size(), 5u);
  // A count is decimal whatever it starts with: "010" is ten (not eight), "08" is eight.
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "--json", "list", "--limit", "010"}, &out), 0);
  EXPECT_EQ(json_lines(out).size(), 10u);
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "--json", "list", "--limit", "08"}, &out), 0);
  EXPECT_EQ(json_lines(out).size(), 8u);
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "show", ids.begin()->first}, &out), 0);
  EXPECT_NE(out.find(ids.begin()->second), std::string::npos);
}

TEST_F(CliTest, UnchangedRecaptureAddsLittle) {
  std::vector<std::string> args{"--archive", archive_dir(), "--json", "archive"};
  for (std::size_t i = 0; i < 20; ++i) args.push_back(nginx_->url(pages_[i].path));
  ASSERT_EQ(run_vellum(args), 0);
  auto size_of = [&] {
    std::uintmax_t n = 0;
    for (const auto& de : fs::directory_iterator(fs::path(archive_dir()) / "warc"))
      n += fs::file_size(de.path());
    return n;
  };
  auto before = size_of();
  std::string out;
  ASSERT_EQ(run_vellum(args, &out), 0);
  for (const auto& j : json_lines(out)) EXPECT_EQ(j.value("revisit", false), true) << j.dump();
  auto added = size_of() - before;
  EXPECT_LT(added, 20u * 2048u) << "re-capturing unchanged pages must add < 2 KiB each";
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "verify"}), 0);

  // The latest capture of each page is a revisit now: as text it reads like the first capture
  // (extracted from the payload it refers to), without a notice on stderr.
  const std::string url = nginx_->url(pages_[0].path);
  const std::string restore = shell_quote(VELLUM_CLI_PATH) + " --archive " +
                              shell_quote(archive_dir()) + " restore " + shell_quote(url) +
                              " --format text";
  auto [rc, notices] = shell(restore + " 2>&1 >/dev/null");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(notices, "");
  std::string text, direct;
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "restore", url, "--format", "text"}, &text), 0);
  ASSERT_EQ(
      run_vellum({"extract", pages_[0].file.string(), "--url", url, "--format", "text"}, &direct),
      0);
  EXPECT_EQ(text, direct);
}

TEST_F(CliTest, FailuresAreReportedPerUrlAndDoNotStopOthers) {
  int dead_port = free_port();
  std::string out;
  int rc = run_vellum({"--archive", archive_dir(), "--json", "archive", nginx_->url(pages_[0].path),
                       "http://127.0.0.1:" + std::to_string(dead_port) + "/nothing", "not a url",
                       nginx_->url("/missing.html"), nginx_->url(pages_[1].path)},
                      &out);
  EXPECT_NE(rc, 0);
  auto lines = json_lines(out);
  ASSERT_EQ(lines.size(), 5u);
  int ok = 0, failed = 0;
  for (const auto& j : lines) {
    if (j.contains("error")) {
      ++failed;
      EXPECT_FALSE(j["error"].get<std::string>().empty());
    } else {
      ++ok;
    }
  }
  EXPECT_EQ(failed, 2);  // refused connection, not a URL
  EXPECT_EQ(ok, 3);      // the 404 is a capture too
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "verify"}), 0);
}

TEST_F(CliTest, KillDuringArchiveLosesNothingReported) {
  // ~1,700 URLs: the corpus under ten path prefixes.
  TempDir big("big");
  auto pages = build_corpus_site(big.path(), 10);
  Nginx nginx(big.path());
  fs::path list = tmp_ / "urls.txt";
  std::string urls;
  std::map<std::string, fs::path> files;
  for (const auto& p : pages) {
    urls += nginx.url(p.path) + "\n";
    files[nginx.url(p.path)] = p.file;
  }
  write_file(list, urls);

  Subprocess proc({VELLUM_CLI_PATH, "--archive", archive_dir(), "--json", "archive", "-i",
                   list.string(), "--concurrency", "16"});
  std::vector<json> reported;
  std::string line;
  while (reported.size() < 400 && proc.read_line(line)) reported.push_back(json::parse(line));
  proc.kill(SIGKILL);
  EXPECT_EQ(proc.wait(), 128 + SIGKILL);
  ASSERT_EQ(reported.size(), 400u);

  std::string out;
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "verify"}, &out), 0) << out;
  for (const auto& j : reported) {
    std::string html;
    ASSERT_EQ(
        run_vellum({"--archive", archive_dir(), "restore", j["capture_id"], "--format", "html"},
                   &html),
        0);
    ASSERT_EQ(html, read_file(files[j["url"]])) << j.dump();
  }
  // The next writer closes what the killed one left open, and the archive still verifies.
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "archive", nginx.url(pages[0].path)}), 0);
  for (const auto& de : fs::directory_iterator(fs::path(archive_dir()) / "warc"))
    EXPECT_FALSE(de.path().string().ends_with(".open")) << de.path();
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "verify"}, &out), 0) << out;
}

// What `vellum archive` writes is read by an independent WARC implementation (warcio.js), as
// .warc.gz and as .warc.zst decompressed with the plain zstd tool.
TEST_F(CliTest, WarcioIndexesEveryCaptureWeWrote) {
  if (!on_path("node")) GTEST_SKIP() << "node is not on PATH: warcio.js cannot run";
  ASSERT_EQ(install_warcio(), "");
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < 15; ++i) urls.push_back(nginx_->url(pages_[i * 5].path));
  for (std::string compression : {"gzip", "zstd"}) {
    std::string dir = archive_dir() + "-" + compression;
    std::vector<std::string> args{"--archive", dir, "archive", "--compression", compression};
    args.insert(args.end(), urls.begin(), urls.end());
    ASSERT_EQ(run_vellum(args), 0);
    auto files = vellum::archive::ArchiveDir(dir).warc_files();
    ASSERT_EQ(files.size(), 1u);
    fs::path file = files[0].path;
    if (compression == "zstd") {
      fs::path plain = tmp_ / "plain.warc";
      auto [rc, out] = shell("zstd -d -q -f " + shell_quote(file.string()) + " -o " +
                             shell_quote(plain.string()) + " 2>&1");
      ASSERT_EQ(rc, 0) << out;
      file = plain;
    }
    std::string error;
    auto rows = warcio_cdx(file, &error);
    ASSERT_EQ(error, "");
    for (const auto& url : urls) {
      auto it = std::find_if(rows.begin(), rows.end(), [&](const json& r) {
        return r.value("url", "") == url && r.value("mime", "") != "warc/request";
      });
      ASSERT_NE(it, rows.end()) << compression << ": warcio did not index " << url;
      EXPECT_EQ(
          std::to_string((*it)["status"].is_string() ? std::stoi((*it)["status"].get<std::string>())
                                                     : (*it)["status"].get<int>()),
          "200");
    }
  }
}

// `restore -o PATH` writes PATH and nothing else: a symbolic link there is replaced, not
// followed, and a directory is refused.
TEST_F(CliTest, RestoreOutputNeverWritesOutsideThePathNamed) {
  std::string url = nginx_->url(pages_[0].path);
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "archive", url}), 0);
  fs::path outside = tmp_ / "outside.txt";
  write_file(outside, "keep");
  fs::create_directories(tmp_ / "out");
  fs::path link = tmp_ / "out" / "page.html";
  fs::create_symlink(outside, link);
  ASSERT_EQ(
      run_vellum({"--archive", archive_dir(), "restore", url, "--format", "html", "-o", link}), 0);
  EXPECT_FALSE(fs::is_symlink(link));
  EXPECT_EQ(read_file(link), read_file(pages_[0].file));
  EXPECT_EQ(read_file(outside), "keep");

  auto [rc, err] = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_dir()) +
                         " restore " + shell_quote(url) + " -o " +
                         shell_quote((tmp_ / "out").string()) + " 2>&1");
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("found a directory, expected a file name"), std::string::npos) << err;
  // Nothing was left beside the outputs.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(tmp_ / "out")) ++entries;
  EXPECT_EQ(entries, 1u);
}

// `-o` never writes into the archive: renaming the output over one of its files would destroy
// captures. A character device or a pipe is written into, not replaced.
TEST_F(CliTest, RestoreOutputIntoTheArchiveIsRefusedAndDevicesAreWrittenInto) {
  std::string url = nginx_->url(pages_[0].path);
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "archive", url}), 0);
  fs::path warc;
  for (const auto& e : fs::directory_iterator(fs::path(archive_dir()) / "warc")) warc = e.path();
  const std::string before = read_file(warc);
  // Through a relative path with "..", too.
  fs::path sneaky = fs::path(archive_dir()) / "articles" / ".." / "warc" / warc.filename();
  for (const fs::path& target : {warc, sneaky, fs::path(archive_dir()) / "page.html"}) {
    auto [rc, err] = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " +
                           shell_quote(archive_dir()) + " restore " + shell_quote(url) +
                           " --format html -o " + shell_quote(target.string()) + " 2>&1");
    EXPECT_EQ(rc, 1) << target;
    EXPECT_NE(err.find("the path is inside the archive"), std::string::npos) << err;
  }
  EXPECT_TRUE(read_file(warc) == before) << "the WARC file was changed";
  EXPECT_FALSE(fs::exists(fs::path(archive_dir()) / "page.html"));
  std::string page;
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "restore", url, "--format", "html"}, &page), 0);
  EXPECT_TRUE(page == read_file(pages_[0].file));

  // /dev/null stays the device it is.
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "restore", url, "-o", "/dev/null"}), 0);
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  // A named pipe is written into: a reader at its other end gets the page.
  fs::path fifo = tmp_ / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = read_file(fifo); });
  int rc = run_vellum(
      {"--archive", archive_dir(), "restore", url, "--format", "html", "-o", fifo.string()});
  reader.join();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_TRUE(received == read_file(pages_[0].file));
}

// A --resolve entry libcurl would refuse is a usage error naming it, before anything is
// fetched, instead of a libcurl message on every URL, even those of other hosts.
TEST_F(CliTest, BadResolveIsAUsageErrorBeforeAnythingIsFetched) {
  std::string url = nginx_->url(pages_[0].path);
  for (const std::string bad :
       {"example.com:abc:127.0.0.1", "example.com:70000:127.0.0.1", "example.com:443:notanip"}) {
    auto [rc, err] =
        shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_dir()) +
              " archive --resolve " + shell_quote(bad) + " " + shell_quote(url) + " 2>&1");
    EXPECT_EQ(rc, 2) << bad << ": " << err;
    EXPECT_NE(err.find("found '" + bad + "', expected HOST:PORT:ADDR"), std::string::npos) << err;
    EXPECT_EQ(err.find("CURLOPT_RESOLVE"), std::string::npos) << err;
  }
  EXPECT_FALSE(fs::exists(archive_dir())) << "nothing was archived";
}

// Values in the wrong form, found after the options are parsed, are usage errors (exit 2) that
// say what was found and what was expected; a URL list may start with a UTF-8 byte order mark.
TEST_F(CliTest, UsageErrorsSayWhatWasFoundAndExitTwo) {
  fs::path bom = tmp_ / "bom.txt", binary = tmp_ / "binary.txt";
  write_file(bom, "\xEF\xBB\xBF" + nginx_->url(pages_[0].path) + "\n");
  write_file(binary, std::string("http://a.test/\n\x01\x02\x7f\n", 20));
  const std::string v = shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_dir());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {" archive", "no URLs given"},
      {" archive -i " + shell_quote(tmp_.path().string()), "found a directory, expected a file"},
      {" archive -i " + shell_quote(binary.string()),
       "line 2: found a control byte (0x01), expected one URL a line"},
      {" archive --timeout 0 http://a.test/",
       "--timeout: found 0, expected a number greater than 0"},
      {" archive --timeout inf http://a.test/",
       "--timeout: found inf, expected a number greater than 0 and at most 86400"},
      {" archive --max-size -1 http://a.test/",
       "--max-size: found '-1', expected a whole number from 1"},
      {" archive --level 23 http://a.test/",
       "--level: found 23, expected 1 to 22 for --compression zstd"},
      {" archive --compression gzip --level 10 http://a.test/",
       "--level: found 10, expected 1 to 9 for --compression gzip"},
      {" import --rotate-size -1 x.warc", "--rotate-size: found '-1', expected a whole number"},
      {" show ''", "ref: found '', expected a capture id, a URL, or URL@TIMESTAMP"},
      {" restore http://a.test/ -o ''",
       "--output: found an empty path, expected a file to write (or no -o for stdout)"},
      {" restore ' '", "ref: found ' ', expected a capture id, a URL, or URL@TIMESTAMP"},
      {" list --limit 0", "--limit: found '0', expected a whole number from 1"},
      {" list --limit -5", "--limit: found '-5', expected a whole number from 1"},
      {" list --limit 9223372036854775808",
       "--limit: found '9223372036854775808', expected a whole number from 1 to "
       "9223372036854775807"},
      {" search the --limit 1e3", "--limit: found '1e3', expected a whole number from 1"},
      {" search the --limit 0", "--limit: found '0', expected a whole number from 1"},
      // Spaces around a number are refused on either side.
      {" archive --timeout ' 5' http://a.test/", "--timeout: found ' 5', expected a number"},
      {" archive --timeout '5 ' http://a.test/", "--timeout: found '5 ', expected a number"},
      {" list --domain 'a b'", "--domain: found 'a b', expected a host name"},
      {" list --domain 300.1", "ends in a number but is not an IPv4 address"},
      // What matches no stored host is refused: a port, a URL, an unbracketed IPv6 address.
      {" list --domain 127.0.0.1:8765",
       "--domain: found '127.0.0.1:8765', expected a host name such as example.com, without "
       "scheme, port or path"},
      {" export -o x.warc.gz --domain http://example.com/", "without scheme, port or path"},
      {" reextract --domain ::1", "(an IPv6 address in brackets: [::1])"},
      {" --plugin-timeout nan reextract",
       "--plugin-timeout: found nan, expected a number from 0.1"},
      {" list --since notatime", "cannot read --since 'notatime': expected YYYY"},
      // An unknown option where a value is required is named, not reported as the value missing.
      {" search -foo", "found the unknown option -foo, expected an option this command knows"},
      {" --plugin-dir " + shell_quote((tmp_ / "no-such-dir").string()) + " plugins",
       "--plugin-dir: Directory does not exist"},
  };
  for (const auto& [args, expect] : cases) {
    auto [rc, err] = shell(v + args + " 2>&1");
    EXPECT_EQ(rc, 2) << args << ": " << err;
    EXPECT_NE(err.find(expect), std::string::npos) << args << ": " << err;
  }
  {
    // With --json the reason is also a JSON object on standard output, even with no command.
    auto [rc, out] = shell(v + " --json 2>/dev/null");
    EXPECT_EQ(rc, 2);
    EXPECT_EQ(nlohmann::json::parse(out)["error"],
              "no command given; expected one of the commands `vellum --help` lists");
  }
  auto [rc, out] = shell(v + " --json archive --no-extract -i " + shell_quote(bom.string()));
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\"url\":\"" + nginx_->url(pages_[0].path) + "\""), std::string::npos) << out;
}

// `restore --format warc` writes the stored records as they are, even damaged ones (they may be
// all there is to salvage), but says which block fails its digest and exits non-zero.
TEST_F(CliTest, RestoreAsWarcOfADamagedRecordSaysSoAndFails) {
  std::string url = nginx_->url(pages_[0].path);
  ASSERT_EQ(run_vellum({"--archive", archive_dir(), "archive", "--compression", "none",
                        "--no-extract", url}),
            0);
  fs::path warc;
  for (const auto& e : fs::directory_iterator(fs::path(archive_dir()) / "warc")) warc = e.path();
  std::string data = read_file(warc);
  const std::string page = read_file(pages_[0].file);
  const std::string piece = page.substr(page.size() / 2, 64);
  auto at = data.find(piece);
  ASSERT_NE(at, std::string::npos);
  data[at] = static_cast<char>(data[at] ^ 0x20);
  write_file(warc, data);

  auto [rc, out] = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_dir()) +
                         " restore " + shell_quote(url) + " --format warc -o " +
                         shell_quote((tmp_ / "out.warc").string()) + " 2>&1");
  EXPECT_EQ(rc, 1) << out;
  EXPECT_NE(out.find("the response record"), std::string::npos) << out;
  EXPECT_NE(out.find("has block digest sha1:"), std::string::npos) << out;
  EXPECT_EQ(out.find("the request record"), std::string::npos) << "the request is intact: " << out;
  // Written as stored: the damaged byte is there.
  std::string written = read_file(tmp_ / "out.warc");
  EXPECT_NE(written.find(data.substr(at, 64)), std::string::npos);
  // The page itself is refused, as before.
  EXPECT_EQ(run_vellum({"--archive", archive_dir(), "restore", url, "--format", "html", "-o",
                        (tmp_ / "page.html").string()}),
            1);
  EXPECT_FALSE(fs::exists(tmp_ / "page.html"));
}

// In a compressed archive a record failing its checksum does not read; `restore --format warc`
// still writes it as its stored bytes decode (all there may be to salvage), says so, exits 1.
TEST_F(CliTest, RestoreAsWarcSalvagesACompressedRecordThatFailsItsChecksum) {
  const std::string url = nginx_->url(pages_[0].path);
  const std::string v = shell_quote(VELLUM_CLI_PATH);
  for (const std::string compression : {"zstd", "gzip"}) {
    SCOPED_TRACE(compression);
    const std::string dir = (tmp_ / ("salvage-" + compression)).string();
    ASSERT_EQ(run_vellum(
                  {"--archive", dir, "archive", "--compression", compression, "--no-extract", url}),
              0);
    const fs::path intact = tmp_ / ("intact-" + compression + ".warc");
    ASSERT_EQ(
        run_vellum({"--archive", dir, "restore", url, "--format", "warc", "-o", intact.string()}),
        0);
    auto [shown_rc, shown] =
        shell(v + " --archive " + shell_quote(dir) + " --json show " + shell_quote(url));
    ASSERT_EQ(shown_rc, 0) << shown;
    const nlohmann::json where = nlohmann::json::parse(shown)["warc"];
    const fs::path file = fs::path(dir) / "warc" / where["file"].get<std::string>();
    // The checksum closes the record's stored bytes: zstd's four, or gzip's CRC-32 before the
    // length.
    const std::uint64_t end =
        where["offset"].get<std::uint64_t>() + where["length"].get<std::uint64_t>();
    const std::uint64_t at = compression == "zstd" ? end - 2 : end - 6;
    std::string data = read_file(file);
    data[at] = static_cast<char>(data[at] ^ 0x01);
    write_file(file, data);

    const fs::path out = tmp_ / ("salvaged-" + compression + ".warc");
    auto [rc, err] = shell(v + " --archive " + shell_quote(dir) + " restore " + shell_quote(url) +
                           " --format warc -o " + shell_quote(out.string()) + " 2>&1");
    EXPECT_EQ(rc, 1) << err;
    EXPECT_NE(err.find("its response record does not read whole"), std::string::npos) << err;
    EXPECT_EQ(read_file(out), read_file(intact));
    // The page is refused: its checksum does not hold.
    EXPECT_EQ(run_vellum({"--archive", dir, "restore", url, "--format", "html", "-o",
                          (tmp_ / "page.html").string()}),
              1);
  }
}

// Long work draws a progress bar on a terminal and prints nothing of the kind into a pipe.
TEST_F(CliTest, ProgressBarOnlyOnATerminal) {
  if (!on_path("script")) GTEST_SKIP() << "script(1) is needed to give the command a terminal";
  std::vector<std::string> args{"--archive", archive_dir(), "archive"};
  for (std::size_t i = 0; i < 20; ++i) args.push_back(nginx_->url(pages_[i].path));
  ASSERT_EQ(run_vellum(args), 0);
  for (std::string cmd : {"reindex", "verify"}) {
    std::string line =
        shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive_dir()) + " " + cmd;
    auto [rc, tty] = shell("script -qec " + shell_quote(line) + " /dev/null");
    EXPECT_EQ(rc, 0) << tty;
    std::string label = cmd == "reindex" ? "reindexing [" : "verifying [";
    EXPECT_NE(tty.find(label), std::string::npos) << cmd << ": " << tty;
    EXPECT_NE(tty.find("100.0%"), std::string::npos) << cmd << ": " << tty;
    auto [prc, piped] = shell(line + " 2>&1 | cat");
    EXPECT_EQ(piped.find(label), std::string::npos) << cmd << ": " << piped;
    EXPECT_EQ(piped.find('\r'), std::string::npos) << cmd << ": " << piped;
  }
}

// `vellum` starts without libcurl and libxml2 (restore, list, show and search start faster);
// the commands that need them run in vellum-capture, which links both.
TEST(CliPrograms, ReadingProgramLoadsNeitherTheFetcherNorTheExtractors) {
  if (!on_path("readelf")) GTEST_SKIP() << "readelf is needed to read the programs' libraries";
  auto needed = [](const fs::path& program) {
    auto [rc, out] = shell("readelf -d " + shell_quote(program.string()) + " 2>&1");
    EXPECT_EQ(rc, 0) << out;
    std::string names;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);)
      if (line.find("(NEEDED)") != std::string::npos) names += line.substr(line.find('[')) + "\n";
    return names;
  };
  fs::path vellum = VELLUM_CLI_PATH;
  std::string reading = needed(vellum);
  std::string capture = needed(vellum.parent_path() / "vellum-capture");
  EXPECT_NE(reading.find("[libsqlite3"), std::string::npos) << reading;
  EXPECT_EQ(reading.find("[libcurl"), std::string::npos) << reading;
  EXPECT_EQ(reading.find("[libxml2"), std::string::npos) << reading;
  EXPECT_EQ(reading.find("[libcrypto"), std::string::npos) << reading;  // ~1.3 ms to load
  EXPECT_NE(capture.find("[libcurl"), std::string::npos) << capture;
  EXPECT_NE(capture.find("[libxml2"), std::string::npos) << capture;
}

// --archive naming something that is not an archive says what is there, for readers and
// writers alike, and changes nothing; so does --socket naming something that is not a socket.
TEST(CliPrograms, APathThatIsNoArchiveOrSocketSaysWhatIsThere) {
  TempDir tmp("not-archive");
  fs::path file = tmp / "file", empty = tmp / "empty";
  write_file(file, "notes");
  fs::create_directory(empty);
  auto vellum = [](const fs::path& archive, const std::string& args) {
    return shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive.string()) +
                 " " + args + " 2>&1");
  };
  for (const std::string cmd :
       {"list", "show abc", "verify", "reindex", "search words", "restore http://a.test/"}) {
    auto [rc, out] = vellum(file, cmd);
    EXPECT_EQ(rc, 1) << cmd;
    EXPECT_NE(out.find("found a regular file, expected an archive directory"), std::string::npos)
        << cmd << ": " << out;
    // An empty directory is not an archive either: no advice to reindex what is not there.
    std::tie(rc, out) = vellum(empty, cmd);
    EXPECT_EQ(rc, 1) << cmd;
    EXPECT_NE(out.find("the directory has neither warc/ nor index.sqlite3 in it"),
              std::string::npos)
        << cmd << ": " << out;
  }
  for (const std::string& cmd :
       std::vector<std::string>{"archive http://127.0.0.1:9/", "import " + file.string()}) {
    auto [rc, out] = vellum(file, cmd);
    EXPECT_EQ(rc, 1) << cmd;
    EXPECT_NE(out.find("cannot write an archive at " + file.string() +
                       ": found a regular file at " + file.string() + ", expected a directory"),
              std::string::npos)
        << cmd << ": " << out;
  }
  EXPECT_EQ(read_file(file), "notes");
  EXPECT_TRUE(fs::is_empty(empty));

  auto [rc, out] = shell(shell_quote(VELLUM_CLI_PATH) + " --socket " + shell_quote(file.string()) +
                         " status 2>&1");
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("found a regular file, expected vellumd's control socket"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("stale"), std::string::npos) << out;
  EXPECT_EQ(read_file(file), "notes");
}
