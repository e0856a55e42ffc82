// vellumd end to end: the real daemon against nginx serving corpus pages and a feed of them.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "daemon/DaemonHarness.h"
#include "support/Corpus.h"
#include "support/Nginx.h"

namespace vellum::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string rss(const Nginx& nginx, const std::vector<SitePage>& pages, std::size_t n) {
  std::string x =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel>"
      "<title>Corpus</title><link>" +
      nginx.url("/") + "</link>\n";
  for (std::size_t i = 0; i < n && i < pages.size(); ++i)
    x += "<item><title>Page " + std::to_string(i) + "</title><link>" + nginx.url(pages[i].path) +
         "</link><pubDate>Wed, 08 Apr 2026 16:09:31 GMT</pubDate></item>\n";
  return x + "</channel></rss>\n";
}

std::string feed_source(const Nginx& nginx, const std::string& interval) {
  return "[[source]]\nname = \"corpus\"\nkind = \"feed\"\nurl = \"" + nginx.url("/feed.xml") +
         "\"\ninterval = \"" + interval + "\"\n";
}

// URL -> number of captures in the archive.
std::map<std::string, int> captures_by_url(const fs::path& archive) {
  std::string out;
  int rc = run_vellum({"--archive", archive.string(), "--json", "list"}, &out);
  EXPECT_EQ(rc, 0) << out;
  std::map<std::string, int> counts;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    counts[json::parse(line).value("url", "")]++;
  }
  return counts;
}

bool open_files_left(const fs::path& archive) {
  for (const auto& e : fs::directory_iterator(archive / "warc"))
    if (e.path().extension() == ".open") return true;
  return false;
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Nginx::available()) GTEST_SKIP() << "nginx is not installed";
  }
};

TEST_F(DaemonTest, ArchivesEveryFeedItemThenLaterItemsThenDrainsOnSigterm) {
  DaemonHarness d("vd-feed");
  fs::path site = d.dir() / "site";
  auto pages = build_corpus_site(site);
  ASSERT_GE(pages.size(), 10u);
  Nginx nginx(site);
  write_file(site / "feed.xml", rss(nginx, pages, 6));
  d.write_config(d.config(feed_source(nginx, "2s")));
  d.start();

  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 6; })) << d.log();
  // Four more items appear in the feed: the next run picks them up.
  write_file(site / "feed.xml", rss(nginx, pages, 10));
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 10; })) << d.log();
  json st = d.status();
  EXPECT_EQ(st["captures"].get<int>(), 10) << "an item was captured twice:\n" << d.log();

  // Readers work while the daemon holds the archive.
  auto counts = captures_by_url(d.archive());
  EXPECT_EQ(counts.size(), 10u);

  EXPECT_EQ(d.stop(SIGTERM), 0) << d.log();
  EXPECT_FALSE(open_files_left(d.archive())) << "SIGTERM left a WARC file open";
  EXPECT_NE(d.log().find("vellumd stopped"), std::string::npos);

  counts = captures_by_url(d.archive());
  ASSERT_EQ(counts.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) {
    std::string url = nginx.url(pages[i].path);
    EXPECT_EQ(counts[url], 1) << url;
  }
  // Byte for byte, as served.
  fs::path restored = d.dir() / "restored.html";
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "restore", nginx.url(pages[3].path),
                        "--format", "html", "-o", restored.string()}),
            0);
  EXPECT_EQ(read_file(restored), read_file(pages[3].file));
  std::string out;
  EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "verify"}, &out), 0) << out;

  // A restart neither refetches the pages nor forgets the source: the feed is read again and
  // nothing new is captured (the first revisit is an hour away).
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) {
    return DaemonHarness::source(s, "corpus").value("runs", 0) >= 3;
  })) << d.log();
  EXPECT_EQ(d.status()["captures"].get<int>(), 0);
  EXPECT_EQ(d.stop(SIGTERM), 0);
}

TEST_F(DaemonTest, KillNineMidRunLosesNothingReportedAndCapturesNothingTwice) {
  DaemonHarness d("vd-kill");
  fs::path site = d.dir() / "site";
  auto pages = build_corpus_site(site, 2);
  const std::size_t n = std::min<std::size_t>(pages.size(), 300);
  Nginx nginx(site);
  write_file(site / "feed.xml", rss(nginx, pages, n));
  d.write_config(d.config(feed_source(nginx, "1h")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 40; })) << d.log();
  EXPECT_EQ(d.stop(SIGKILL), 128 + SIGKILL);
  auto reported = d.reported_captures();
  ASSERT_GE(reported.size(), 40u);

  d.start();
  ASSERT_TRUE(d.wait_for(
      [n](const json& s) {
        return s["urls"]["captured"].get<std::size_t>() >= n &&
               s["queue"]["in_flight"].get<int>() == 0;
      },
      std::chrono::seconds(120)))
      << d.log();
  EXPECT_EQ(d.stop(SIGTERM), 0);

  auto counts = captures_by_url(d.archive());
  EXPECT_EQ(counts.size(), n);
  for (const auto& [url, c] : counts) EXPECT_EQ(c, 1) << url << " was captured " << c << " times";
  for (const auto& id : reported) {
    std::string out;
    EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "show", id}, &out), 0)
        << "capture " << id << " was reported done before the kill and is gone";
  }
  std::string out;
  EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "verify"}, &out), 0) << out;
}

TEST_F(DaemonTest, CliTalksToTheDaemonAndArchiveWaitsForTheWriterLock) {
  DaemonHarness d("vd-cli");
  fs::path site = d.dir() / "site";
  auto pages = build_corpus_site(site);
  Nginx nginx(site);
  write_file(site / "feed.xml", rss(nginx, pages, 0));
  d.write_config(d.config(feed_source(nginx, "1h")));
  d.start();

  std::string out;
  const std::string sock = d.socket().string();
  ASSERT_EQ(run_vellum({"--socket", sock, "enqueue", nginx.url(pages[0].path), "ftp://nope"}, &out),
            1)
      << out;
  EXPECT_NE(out.find("queued  " + nginx.url(pages[0].path)), std::string::npos) << out;
  EXPECT_NE(out.find("refused ftp://nope"), std::string::npos) << out;
  // A plugin the daemon has not loaded is refused, and nothing is queued for it.
  auto [refused_rc, refused] =
      shell(shell_quote(VELLUM_CLI_PATH) + " --socket " + shell_quote(sock) +
            " enqueue --plugin nosuch " + shell_quote(nginx.url(pages[2].path)) + " 2>&1");
  EXPECT_NE(refused_rc, 0);
  EXPECT_NE(refused.find("no plugin named 'nosuch' is loaded (loaded: "), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("apnews"), std::string::npos) << refused;
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();

  ASSERT_EQ(run_vellum({"--socket", sock, "status"}, &out), 0) << out;
  EXPECT_NE(out.find("1 captures"), std::string::npos) << out;
  // Failed attempts are counted as such, retries included: not as URLs that failed.
  EXPECT_NE(out.find(" failed attempts (retries counted), "), std::string::npos) << out;
  EXPECT_NE(out.find("corpus  feed  " + nginx.url("/feed.xml")), std::string::npos) << out;
  ASSERT_EQ(run_vellum({"--socket", sock, "--json", "sources"}, &out), 0) << out;
  EXPECT_EQ(json::parse(out)["name"], "corpus");

  // The config file names the socket too.
  ASSERT_EQ(run_vellum({"--config", d.config_file().string(), "status"}, &out), 0) << out;

  // A second writer waits for the lock instead of writing beside the daemon.
  auto [rc, text] = shell("timeout 3 " + shell_quote(VELLUM_CLI_PATH) + " --archive " +
                          shell_quote(d.archive().string()) + " archive " +
                          shell_quote(nginx.url(pages[1].path)) + " 2>&1");
  EXPECT_EQ(rc, 124) << text;  // still waiting when timeout stopped it
  EXPECT_NE(text.find("vellum enqueue"), std::string::npos) << text;
  EXPECT_EQ(d.stop(SIGTERM), 0);
  EXPECT_EQ(captures_by_url(d.archive()).size(), 1u);
}

}  // namespace
}  // namespace vellum::test
