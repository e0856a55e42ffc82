// vellumd against sources that misbehave, served by the in-process fault server: malformed,
// huge, slow and endless feeds, robots.txt, 429 with Retry-After, conditional GET, the
// private-network guard, reloads (good and bad), plugin drop-in, and the notify protocol.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/DaemonHarness.h"
#include "support/Nginx.h"
#include "support/TestHttpServer.h"

namespace vellum::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

std::string page(const std::string& title) {
  return "<html><head><title>" + title + "</title></head><body><article><h1>" + title +
         "</h1><p>The first paragraph of " + title +
         " has enough words in it to be taken for the body of an article.</p></article></body>"
         "</html>";
}

std::string rss_of(const std::vector<std::string>& urls) {
  std::string x = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>";
  for (const auto& u : urls) x += "<item><link>" + u + "</link></item>";
  return x + "</channel></rss>";
}

std::string source(const std::string& name, const std::string& url,
                   const std::string& kind = "feed", const std::string& extra = {}) {
  return "[[source]]\nname = \"" + name + "\"\nkind = \"" + kind + "\"\nurl = \"" + url +
         "\"\ninterval = \"1h\"\n" + extra + "\n";
}

std::string last_error(const json& status, const std::string& name) {
  return DaemonHarness::source(status, name).value("last_error", std::string());
}

int runs(const json& status, const std::string& name) {
  return DaemonHarness::source(status, name).value("runs", 0);
}

TEST(DaemonFault, BadFeedsFailAloneWithTheirOwnReasonAndTheDaemonKeepsWorking) {
  TestHttpServer server;
  server.on("/good.xml", Reply::ok(rss_of({server.url("/a/good")}), "application/rss+xml"));
  server.on("/a/good", Reply::ok(page("Good"), "text/html"));
  server.on("/malformed.xml", Reply::ok("<rss><channel><item><link>", "application/rss+xml"));
  server.on("/html.xml", Reply::ok(page("Not a feed"), "text/html"));
  std::string fill;
  while (fill.size() < (256u << 10)) fill += "<item><title>again</title></item>";
  server.on("/endless.xml", Reply::endless(fill));
  Reply slow = Reply::ok(rss_of({server.url("/a/slow")}), "application/rss+xml");
  slow.drip_bytes = 4;
  slow.drip_interval = 1000ms;
  server.on("/slow.xml", slow);
  // 50 MB: a large description around two items.
  std::string huge = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>";
  huge += "<item><link>" + server.url("/a/huge1") + "</link><description>";
  huge += std::string(50u << 20, 'w');
  huge += "</description></item><item><link>" + server.url("/a/huge2") + "</link></item>";
  huge += "</channel></rss>";
  server.on("/huge.xml", Reply::ok(huge, "application/rss+xml"));
  server.on("/a/huge1", Reply::ok(page("Huge one"), "text/html"));
  server.on("/a/huge2", Reply::ok(page("Huge two"), "text/html"));

  DaemonHarness d("vd-faults");
  std::string sources =
      source("good", server.url("/good.xml")) + source("malformed", server.url("/malformed.xml")) +
      source("html", server.url("/html.xml")) + source("endless", server.url("/endless.xml")) +
      source("slow", server.url("/slow.xml")) + source("huge", server.url("/huge.xml"));
  d.write_config(d.config(sources, "timeout = \"3s\"\nmax_document_size = \"60MiB\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) {
    for (const char* n : {"good", "malformed", "html", "endless", "slow", "huge"})
      if (runs(s, n) < 1) return false;
    return s["captures"].get<int>() >= 3;
  })) << d.log();
  json s = d.status();
  EXPECT_EQ(last_error(s, "good"), "");
  EXPECT_EQ(last_error(s, "huge"), "");
  EXPECT_NE(last_error(s, "malformed"), "");
  EXPECT_NE(last_error(s, "html").find("HTML"), std::string::npos) << last_error(s, "html");
  EXPECT_NE(last_error(s, "endless").find("max_document_size"), std::string::npos)
      << last_error(s, "endless");
  EXPECT_NE(last_error(s, "slow").find("timed out"), std::string::npos) << last_error(s, "slow");
  EXPECT_EQ(s["captures"].get<int>(), 3) << d.log();  // good, huge1, huge2
  EXPECT_EQ(d.stop(), 0) << d.log();
}

TEST(DaemonFault, RobotsTxtIsHonouredAndRetryAfterIsWaitedFor) {
  TestHttpServer server;
  server.on("/robots.txt", Reply::ok("User-agent: *\nDisallow: /private/\n"));
  server.on("/private/secret", Reply::ok(page("Secret"), "text/html"));
  server.on("/public/open", Reply::ok(page("Open"), "text/html"));
  std::mutex mu;
  std::vector<std::chrono::steady_clock::time_point> busy_times;
  server.on("/public/busy", [&](const ReceivedRequest&) {
    std::lock_guard lk(mu);
    busy_times.push_back(std::chrono::steady_clock::now());
    if (busy_times.size() == 1)
      return Reply::raw(http_response(429, "slow down", {"Retry-After: 2"}));
    return Reply::ok(page("Busy"), "text/html");
  });
  // The feed answers 304 when asked with the validator it handed out.
  server.on("/feed.xml", [&](const ReceivedRequest& r) {
    if (r.header("If-None-Match") == "\"v1\"") return Reply::raw(http_response(304, ""));
    return Reply::ok(rss_of({server.url("/private/secret"), server.url("/public/open"),
                             server.url("/public/busy")}),
                     "application/rss+xml", {"ETag: \"v1\""});
  });

  DaemonHarness d("vd-polite");
  d.write_config(d.config(source("site", server.url("/feed.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 2; })) << d.log();
  json s = d.status();
  EXPECT_EQ(s["robots_refused"].get<int>(), 1);
  EXPECT_TRUE(server.requests_for("/private/secret").empty());
  ASSERT_EQ(busy_times.size(), 2u);
  EXPECT_GE(busy_times[1] - busy_times[0], 2s) << "Retry-After: 2 was not waited for";

  // A restart remembers when the source is due (an hour from now) and what was captured: it
  // fetches neither the feed nor the pages again.
  EXPECT_EQ(d.stop(), 0);
  std::size_t before = server.request_count();
  d.start();
  json sources = d.request({{"command", "sources"}});
  EXPECT_NE(sources["sources"][0].value("next_run", ""), "now");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(server.request_count(), before) << "a restart fetched again what was not due";
  EXPECT_EQ(d.stop(), 0);
}

// Fetching robots.txt is a request to the host: the first page waits the host's delay after
// it, and the Crawl-delay robots.txt asks for, like every later one.
TEST(DaemonFault, TheRequestAfterRobotsTxtWaitsTheHostsDelay) {
  std::mutex mu;
  std::map<std::string, std::chrono::steady_clock::time_point> seen;
  TestHttpServer server;
  auto timed = [&](Reply reply) {
    return [&, reply](const ReceivedRequest& r) {
      std::lock_guard lk(mu);
      seen.emplace(r.target, std::chrono::steady_clock::now());
      return reply;
    };
  };
  server.on("/robots.txt", timed(Reply::ok("User-agent: *\nCrawl-delay: 1\n")));
  server.on("/feed.xml", timed(Reply::ok(rss_of({server.url("/a")}), "application/rss+xml")));
  server.on("/a", timed(Reply::ok(page("A"), "text/html")));
  DaemonHarness d("vd-robots-delay");
  d.write_config(d.config(source("f", server.url("/feed.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  std::lock_guard lk(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_GE(seen["/feed.xml"] - seen["/robots.txt"], 1s) << "the feed came right after robots.txt";
  EXPECT_GE(seen["/a"] - seen["/feed.xml"], 1s);
  EXPECT_EQ(d.stop(), 0) << d.log();
}

// The same with the configured delay and no Crawl-delay.
TEST(DaemonFault, TheRequestAfterRobotsTxtWaitsPerHostDelay) {
  std::mutex mu;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> seen;
  TestHttpServer server;
  server.on("/*", [&](const ReceivedRequest& r) {
    {
      std::lock_guard lk(mu);
      seen.emplace_back(r.target, std::chrono::steady_clock::now());
    }
    if (r.target == "/robots.txt") return Reply::ok("User-agent: *\nDisallow: /private/\n");
    if (r.target == "/feed.xml")
      return Reply::ok(rss_of({server.url("/a")}), "application/rss+xml");
    return Reply::ok(page("A"), "text/html");
  });
  DaemonHarness d("vd-robots-host-delay");
  d.write_config(d.config(source("f", server.url("/feed.xml")), "per_host_delay = \"700ms\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  std::lock_guard lk(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].first, "/robots.txt");
  for (std::size_t i = 1; i < seen.size(); ++i)
    EXPECT_GE(seen[i].second - seen[i - 1].second, 700ms) << seen[i].first;
  EXPECT_EQ(d.stop(), 0) << d.log();
}

// A Crawl-delay longer than fetch.robots_cache: the page that waited for robots.txt is fetched
// by the rules just read, not sent to fetch robots.txt again for ever.
TEST(DaemonFault, ACrawlDelayLongerThanTheRobotsCacheStillLetsThePageBeFetched) {
  TestHttpServer server;
  server.on("/robots.txt", Reply::ok("User-agent: *\nCrawl-delay: 2\n"));
  server.on("/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-robots-expire");
  d.write_config(d.config("", "robots_cache = \"1s\"\n"));
  d.start();
  d.request({{"command", "enqueue"}, {"urls", {server.url("/a")}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(server.requests_for("/robots.txt").size(), 1u);
  EXPECT_EQ(server.requests_for("/a").size(), 1u);
  EXPECT_EQ(d.stop(), 0) << d.log();
}

// A shorter fetch.robots_cache applies on reload to the robots.txt files already held.
TEST(DaemonFault, AShorterRobotsCacheOnReloadExpiresHeldRobotsTxt) {
  TestHttpServer server;
  server.on("/robots.txt", Reply::ok("User-agent: *\nDisallow: /private/\n"));
  server.on("/a", Reply::ok(page("A"), "text/html"));
  server.on("/b", Reply::ok(page("B"), "text/html"));
  DaemonHarness d("vd-robots-cache");
  d.write_config(d.config("", "robots_cache = \"1h\"\n"));
  d.start();
  d.request({{"command", "enqueue"}, {"urls", {server.url("/a")}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(server.requests_for("/robots.txt").size(), 1u);

  d.write_config(d.config("", "robots_cache = \"1s\"\n"));
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_for([&](const json&) {
    return d.log().find("reloaded") != std::string::npos;
  })) << d.log();
  std::this_thread::sleep_for(1200ms);
  d.request({{"command", "enqueue"}, {"urls", {server.url("/b")}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 2; })) << d.log();
  EXPECT_EQ(server.requests_for("/robots.txt").size(), 2u)
      << "robots.txt was trusted for the old hour";
  EXPECT_EQ(d.stop(), 0) << d.log();
}

TEST(DaemonFault, ARedirectIsFollowedOnlyWhereRobotsTxtAllows) {
  TestHttpServer a, b;
  a.on("/robots.txt", Reply::ok("User-agent: *\nDisallow: /private/\n"));
  b.on("/robots.txt", Reply::ok("User-agent: *\nDisallow: /closed/\n"));
  a.on("/go-private", Reply::redirect(302, "/private/x"));
  a.on("/private/x", Reply::ok(page("Private"), "text/html"));
  a.on("/go-closed", Reply::redirect(302, b.url("/closed/y")));
  a.on("/go-open", Reply::redirect(301, b.url("/open/z")));
  b.on("/closed/y", Reply::ok(page("Closed"), "text/html"));
  b.on("/open/z", Reply::ok(page("Open"), "text/html"));
  a.on("/feed.xml",
       Reply::ok(rss_of({a.url("/go-private"), a.url("/go-closed"), a.url("/go-open")}),
                 "application/rss+xml"));
  DaemonHarness d("vd-redirect-robots");
  d.write_config(d.config(source("f", a.url("/feed.xml"))));
  d.start();
  // The redirects are stored; the open page behind one is fetched as a URL of its own.
  ASSERT_TRUE(d.wait_for([&](const json& s) {
    return s["captures"].get<int>() >= 4 && s["robots_refused"].get<int>() >= 2;
  })) << d.log();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(a.requests_for("/private/x").empty()) << "followed a redirect robots.txt disallows";
  EXPECT_TRUE(b.requests_for("/closed/y").empty()) << "followed a redirect robots.txt disallows";
  EXPECT_EQ(b.requests_for("/open/z").size(), 1u);
  EXPECT_EQ(b.requests_for("/robots.txt").size(), 1u);
  EXPECT_NE(d.log().find("not following the redirect to " + a.url("/private/x")), std::string::npos)
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonFault, ConditionalGetSendsTheFeedsValidators) {
  TestHttpServer server;
  std::atomic<int> not_modified{0};
  server.on("/feed.xml", [&](const ReceivedRequest& r) {
    if (r.header("If-None-Match") == "\"v1\"" &&
        r.header("If-Modified-Since") == "Wed, 08 Apr 2026 16:09:31 GMT") {
      ++not_modified;
      return Reply::raw(http_response(304, ""));
    }
    return Reply::ok(rss_of({server.url("/a")}), "application/rss+xml",
                     {"ETag: \"v1\"", "Last-Modified: Wed, 08 Apr 2026 16:09:31 GMT"});
  });
  server.on("/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-cond");
  // A source that runs every second (tests only: the shortest interval allowed).
  d.write_config(d.config("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"" +
                          server.url("/feed.xml") + "\"\ninterval = \"1s\"\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return runs(s, "f") >= 3; })) << d.log();
  EXPECT_GE(not_modified.load(), 2);
  EXPECT_EQ(d.status()["captures"].get<int>(), 1);
  EXPECT_NE(d.log().find("not modified"), std::string::npos);
  EXPECT_EQ(d.stop(), 0);
}

// Validators belong to the document they came with: a source whose URL changes asks for the
// new one unconditionally, and a document answered without validators clears the old ones.
TEST(DaemonFault, ValidatorsAreSentOnlyToTheUrlTheyCameFrom) {
  TestHttpServer server;
  std::atomic<bool> a_has_validators{true};
  server.on("/a.xml", [&](const ReceivedRequest& r) {
    if (!r.header("If-None-Match").empty()) return Reply::raw(http_response(304, ""));
    std::vector<std::string> headers;
    if (a_has_validators)
      headers = {"ETag: \"a1\"", "Last-Modified: Sun, 15 Jun 2025 10:00:00 GMT"};
    return Reply::ok(rss_of({server.url("/x")}), "application/rss+xml", headers);
  });
  server.on("/b.xml", [&](const ReceivedRequest& r) {
    if (!r.header("If-None-Match").empty() || !r.header("If-Modified-Since").empty())
      return Reply::raw(http_response(304, ""));
    return Reply::ok(rss_of({server.url("/y")}), "application/rss+xml");
  });
  server.on("/x", Reply::ok(page("X"), "text/html"));
  server.on("/y", Reply::ok(page("Y"), "text/html"));
  auto feed = [&](const std::string& path) {
    return "[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"" + server.url(path) +
           "\"\ninterval = \"1s\"\n";
  };
  DaemonHarness d("vd-validators");
  d.write_config(d.config(feed("/a.xml")));
  d.start();
  ASSERT_TRUE(d.wait_for([&](const json& s) { return runs(s, "f") >= 2; })) << d.log();
  ASSERT_FALSE(server.requests_for("/a.xml").back().header("If-None-Match").empty())
      << "the second run of /a.xml was not conditional\n"
      << d.log();
  d.write_config(d.config(feed("/b.xml")));
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_for([&](const json& s) { return s["captures"].get<int>() >= 2; }))
      << "/b.xml's item was never found: its first request carried /a.xml's validators\n"
      << d.log();
  for (const auto& r : server.requests_for("/b.xml"))
    EXPECT_EQ(r.header("If-Modified-Since"), "") << "sent /a.xml's Last-Modified to /b.xml";
  // Back to /a.xml, now answered without validators: the next run asks unconditionally.
  a_has_validators = false;
  d.write_config(d.config(feed("/a.xml")));
  d.signal(SIGHUP);
  const std::size_t before = server.requests_for("/a.xml").size();
  ASSERT_TRUE(d.wait_for([&](const json&) {
    return server.requests_for("/a.xml").size() >= before + 2;
  })) << d.log();
  const auto a = server.requests_for("/a.xml");
  EXPECT_EQ(a[before].header("If-None-Match"), "") << "the old URL's validators came back";
  EXPECT_EQ(a[before + 1].header("If-None-Match"), "") << "a 200 without an ETag kept the old one";
  EXPECT_EQ(d.stop(), 0);
}

// A feed's link holding a line break writes no line of its own into the log: the URL is taken
// in the form it is requested and recorded, and logged so.
TEST(DaemonFault, AFeedCannotWriteLinesIntoTheLog) {
  TestHttpServer server;
  const std::string forged = "2026-01-01 00:00:00.000 error FORGED LINE";
  // The second link cannot be fetched at all (a '%' in its host that starts no escape).
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/story") + "&#10;" + forged,
                                           "http://ex%zz.example/a&#13;&#10;" + forged + " 2"}),
                                   "application/rss+xml"));
  server.on("/story*", Reply::ok(page("Story"), "text/html"));
  DaemonHarness d("vd-log-forge");
  d.write_config(d.config(source("f", server.url("/feed.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  const std::string log = d.log();
  EXPECT_EQ(log.find("\n" + forged), std::string::npos) << log;
  EXPECT_NE(log.find("1 links cannot be fetched and were left out, the first: "
                     "http://ex%zz.example/a%0D%0A" +
                     forged),
            std::string::npos)
      << log;
  const std::string stored =
      server.url("/story") + "2026-01-01%2000:00:00.000%20error%20FORGED%20LINE";
  EXPECT_NE(log.find(" " + stored), std::string::npos) << "the log names the URL as stored\n"
                                                       << log;
  std::string list;
  EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "--json", "list"}, &list), 0);
  EXPECT_NE(list.find(stored), std::string::npos) << list;
}

TEST(DaemonFault, PrivateAddressesAreRefusedUnlessAllowed) {
  TestHttpServer server;
  server.on("/inside", Reply::ok(page("Inside"), "text/html"));
  DaemonHarness d("vd-guard");
  // A public-looking name whose address is loopback: what a hostile DNS answer would give.
  std::string port = server.base_url().substr(server.base_url().rfind(':') + 1);
  d.write_config(d.config("", "resolve = [\"news.example.com:" + port + ":127.0.0.1\"]\n",
                          /*allow_private=*/false));
  d.start();
  auto r =
      d.request({{"command", "enqueue"},
                 {"urls", {server.url("/inside"), "http://news.example.com:" + port + "/inside"}}});
  ASSERT_TRUE(r.value("ok", false)) << r.dump();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["errors"].get<int>() >= 2; })) << d.log();
  EXPECT_EQ(server.request_count(), 0u) << "the daemon connected to a loopback address";
  EXPECT_NE(d.log().find("allow_private_networks"), std::string::npos) << d.log();
  EXPECT_EQ(d.status()["captures"].get<int>(), 0);
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonFault, SighupKeepsTheOldConfigWhenTheNewOneIsBadAndAppliesAGoodOne) {
  TestHttpServer server;
  server.on("/one.xml", Reply::ok(rss_of({}), "application/rss+xml"));
  server.on("/two.xml", Reply::ok(rss_of({server.url("/two/a")}), "application/rss+xml"));
  server.on("/two/a", Reply::ok(page("Two A"), "text/html"));
  DaemonHarness d("vd-reload");
  d.write_config(d.config(source("one", server.url("/one.xml"))));
  d.start();

  d.write_config(d.config(source("one", server.url("/one.xml")), "concurency = 3\n"));
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_for([&](const json&) {
    return d.log().find("keeping the running one") != std::string::npos;
  })) << d.log();
  EXPECT_NE(d.log().find("concurency"), std::string::npos);
  json s = d.status();
  ASSERT_EQ(s["sources"].size(), 1u);

  d.write_config(
      d.config(source("one", server.url("/one.xml")) + source("two", server.url("/two.xml"))));
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_for([](const json& s) {
    return s["sources"].size() == 2 && s["captures"].get<int>() >= 1;
  })) << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonFault, APluginDroppedInAndSighupGoesLiveWithoutARestart) {
  TestHttpServer server;
  server.on("/today", Reply::ok("<html><head><title>t</title></head><body><h1>Hello from the "
                                "template</h1><article><p>Body.</p></article></body></html>",
                                "text/html"));
  DaemonHarness d("vd-plugin");
  fs::path plugins = d.dir() / "plugins";
  fs::create_directories(plugins);
  std::string cfg = d.config(
      "", "resolve = [\"hello.example:" + std::to_string(server.port()) + ":127.0.0.1\"]\n");
  std::string from = "dirs = [" + DaemonHarness::quoted(VELLUM_PLUGIN_BUILD_DIR) + "]";
  cfg.replace(cfg.find(from), from.size(), "dirs = [" + DaemonHarness::quoted(plugins) + "]");
  d.write_config(cfg);
  d.start();
  EXPECT_NE(d.log().find("plugins: none"), std::string::npos) << d.log();

  fs::path so = build_template_plugin(d.dir() / "hello");
  fs::copy_file(so, plugins / "hello.so");
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_for([&](const json&) {
    return d.log().find("plugins: hello") != std::string::npos;
  })) << d.log();
  std::string url = "http://hello.example:" + std::to_string(server.port()) + "/today";
  d.request({{"command", "enqueue"}, {"urls", {url}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(d.stop(), 0);

  std::string out;
  ASSERT_EQ(
      run_vellum({"--archive", d.archive().string(), "restore", url, "--format", "json"}, &out), 0)
      << out;
  json article = json::parse(out);
  EXPECT_EQ(article["extractor"]["name"], "hello") << out;
  EXPECT_EQ(article["title"], "Hello from the template");
}

// Processes running this build's plugin worker program with `mark` (NAME=value) in their
// environment. Workers inherit the daemon's environment, so a mark given to one daemon finds its
// workers even after they lose their parent, and not those of other tests running beside it.
int extract_workers_marked(const std::string& mark) {
  int n = 0;
  std::error_code ec;
  fs::path worker = fs::canonical(VELLUM_EXTRACT_WORKER_PATH, ec);
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::error_code ec2;
    if (fs::read_symlink(e.path() / "exe", ec2) != worker) continue;  // a zombie has no exe
    std::ifstream in(e.path() / "environ", std::ios::binary);
    std::string var;
    while (std::getline(in, var, '\0'))
      if (var == mark) {
        ++n;
        break;
      }
  }
  return n;
}

TEST(DaemonFault, APluginThatCrashesOrHangsCostsOnePageAndTheDaemonCarriesOn) {
  TestHttpServer server;
  server.on("/crash", Reply::ok(page("Crash"), "text/html"));
  server.on("/stuck", Reply::ok(page("Stuck"), "text/html"));
  server.on("/today", Reply::ok(page("Hello from the template"), "text/html"));
  DaemonHarness d("vd-isolate");
  std::string port = std::to_string(server.port());
  std::string cfg =
      d.config("", "resolve = [\"segv.example:" + port + ":127.0.0.1\", \"hang.example:" + port +
                       ":127.0.0.1\", \"hello.example:" + port + ":127.0.0.1\"]\n");
  std::string from = "dirs = [" + DaemonHarness::quoted(VELLUM_PLUGIN_BUILD_DIR) + "]";
  cfg.replace(cfg.find(from), from.size(),
              "dirs = [" + DaemonHarness::quoted(VELLUM_TEST_PLUGIN_DIR) +
                  "]\npage_timeout = \"1s\"\nworker_memory = \"512MiB\"");
  d.write_config(cfg);
  const std::string mark = "VELLUM_TEST_DAEMON=isolate-" + std::to_string(::getpid());
  d.start(mark);
  EXPECT_NE(d.log().find("(isolated in worker processes)"), std::string::npos) << d.log();
  std::string crash = "http://segv.example:" + port + "/crash";
  std::string stuck = "http://hang.example:" + port + "/stuck";
  std::string hello = "http://hello.example:" + port + "/today";
  d.request({{"command", "enqueue"}, {"urls", {crash}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  d.request({{"command", "enqueue"}, {"urls", {stuck}}});
  // The stuck page holds its worker for the whole page timeout (1 s); polled every 100 ms.
  int workers_seen = 0;
  ASSERT_TRUE(d.wait_for([&](const json& s) {
    workers_seen = std::max(workers_seen, extract_workers_marked(mark));
    return s["captures"].get<int>() >= 2;
  })) << d.log();
  // Still running, and the next page through a good plugin gets its article.
  d.request({{"command", "enqueue"}, {"urls", {hello}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 3; })) << d.log();
  EXPECT_NE(d.log().find("crashed on this page (SIGSEGV"), std::string::npos) << d.log();
  EXPECT_GT(workers_seen, 0) << "no plugin worker seen while the stuck page was extracted";
  EXPECT_EQ(d.stop(), 0) << d.log();
  for (int i = 0; i < 50 && extract_workers_marked(mark) > 0; ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(extract_workers_marked(mark), 0) << "plugin workers outlived the daemon";

  auto article = [&](const std::string& url) {
    std::string out;
    EXPECT_EQ(
        run_vellum({"--archive", d.archive().string(), "restore", url, "--format", "json"}, &out),
        0)
        << out;
    return json::parse(out);
  };
  json a = article(crash);
  EXPECT_EQ(a["extractor"]["name"], "generic");
  EXPECT_EQ(a["title"], "Crash");
  EXPECT_NE(a["extractor"]["plugin_error"].get<std::string>().find(
                "plugin 'segv' (" + (fs::path(VELLUM_TEST_PLUGIN_DIR) / "segv.so").string() +
                ") crashed on this page (SIGSEGV"),
            std::string::npos)
      << a.dump();
  a = article(stuck);
  EXPECT_EQ(a["extractor"]["name"], "generic");
  EXPECT_NE(
      a["extractor"]["plugin_error"].get<std::string>().find("did not finish this page within 1s"),
      std::string::npos)
      << a.dump();
  a = article(hello);
  EXPECT_EQ(a["extractor"]["name"], "hello") << a.dump();
  EXPECT_EQ(a["title"], "Hello from the template");
}

TEST(DaemonFault, SigtermFinishesTheCaptureInFlightBeforeExiting) {
  TestHttpServer server;
  Reply slow = Reply::ok(page("Slow"), "text/html");
  slow.drip_bytes = 16;
  slow.drip_interval = 150ms;  // about two seconds for the whole page
  server.on("/slow", slow);
  DaemonHarness d("vd-drain");
  d.write_config(d.config(""));
  d.start();
  d.request({{"command", "enqueue"}, {"urls", {server.url("/slow")}}});
  ASSERT_TRUE(d.wait_for([&](const json& s) {
    return s["queue"]["in_flight"].get<int>() == 1 && !server.requests_for("/slow").empty();
  })) << d.log();
  EXPECT_EQ(d.status()["captures"].get<int>(), 0) << "the page arrived before the test could stop";
  d.signal(SIGTERM);
  // While it drains, the daemon still answers, and says so.
  EXPECT_TRUE(
      d.wait_for([](const json& s) { return s["draining"].get<bool>(); }, std::chrono::seconds(5)))
      << d.log();
  json refused = d.request({{"command", "enqueue"}, {"urls", {server.url("/other")}}});
  EXPECT_EQ(refused["ok"], false) << refused.dump();
  EXPECT_EQ(d.wait_exit(), 0) << d.log();
  std::string out;
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "restore", server.url("/slow"),
                        "--format", "html"},
                       &out),
            0)
      << d.log();
  EXPECT_EQ(out, page("Slow"));
}

// The disk returns EIO on a sync (injected with the preloaded tests/faultfs library): the
// capture fails, the daemon stays up, and the page is fetched and stored again on its retry.
TEST(DaemonFault, AFailedSyncFailsOneCaptureAndItIsRetried) {
  TestHttpServer server;
  std::vector<std::string> urls;
  for (const char* p : {"/one", "/two", "/three"}) {
    server.on(p, Reply::ok(page(p + 1), "text/html"));
    urls.push_back(server.url(p));
  }
  DaemonHarness d("vd-eio");
  d.write_config(d.config(""));
  fs::path injected = d.dir() / "injected";
  d.start(fault_env({{"CALLS", "fdatasync"}, {"PATH", ".warc.zst.open"}}, injected));
  d.request({{"command", "enqueue"}, {"urls", urls}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 3; }, 60s))
      << d.log();
  EXPECT_EQ(read_file(injected).find("fdatasync"), 0u) << "no failure was injected";
  EXPECT_NE(d.log().find("could not store the capture: fdatasync"), std::string::npos) << d.log();
  EXPECT_NE(d.log().find("Input/output error"), std::string::npos) << d.log();
  EXPECT_EQ(d.stop(), 0) << d.log();
  EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "verify"}), 0);
  for (const char* p : {"/one", "/two", "/three"}) {
    std::string out;
    ASSERT_EQ(run_vellum(
                  {"--archive", d.archive().string(), "restore", server.url(p), "--format", "html"},
                  &out),
              0)
        << p;
    EXPECT_EQ(out, page(p + 1)) << p;
  }
}

TEST(DaemonFault, SourceHeadersAndCookiesAreSentButNeverLogged) {
  TestHttpServer server;
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/member/story")}), "application/rss+xml"));
  server.on("/member/story", Reply::ok(page("Members only"), "text/html"));
  DaemonHarness d("vd-secret");
  fs::path cookies = d.dir() / "cookies.txt";
  write_file(cookies,
             "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tc00kie-value\n");
  d.write_config(d.config(source("members", server.url("/feed.xml"), "feed",
                                 "headers = { \"X-Token\" = \"s3cret-token\" }\ncookie_file = " +
                                     DaemonHarness::quoted(cookies) + "\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  for (const char* target : {"/feed.xml", "/member/story"}) {
    auto reqs = server.requests_for(target);
    ASSERT_FALSE(reqs.empty()) << target;
    EXPECT_EQ(reqs[0].header("X-Token"), "s3cret-token") << target;
    EXPECT_EQ(reqs[0].header("Cookie"), "session=c00kie-value") << target;
  }
  EXPECT_EQ(d.log().find("s3cret-token"), std::string::npos) << "a header value was logged";
  EXPECT_EQ(d.log().find("c00kie-value"), std::string::npos) << "a cookie was logged";
}

// A source's headers go to its own origin only: not to a page it lists on another site, nor to
// the target of a redirect queued as a URL of its own (its site's robots.txt not yet read).
// Another port is another origin.
TEST(DaemonFault, SourceHeadersGoToTheSourcesOriginOnly) {
  TestHttpServer server, other, third;
  server.on("/feed.xml",
            Reply::ok(rss_of({server.url("/own"), other.url("/listed"), server.url("/moved")}),
                      "application/rss+xml"));
  server.on("/own", Reply::ok(page("Own"), "text/html"));
  server.on("/moved", Reply::redirect(301, third.url("/target")));
  other.on("/listed", Reply::ok(page("Listed"), "text/html"));
  third.on("/target", Reply::ok(page("Target"), "text/html"));
  DaemonHarness d("vd-origin");
  d.write_config(d.config(source("members", server.url("/feed.xml"), "feed",
                                 "headers = { \"X-Token\" = \"s3cret-token\" }\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([&](const json& s) {
    return s["captures"].get<int>() >= 4 && s["queue"]["queued"].get<int>() == 0 &&
           s["queue"]["in_flight"].get<int>() == 0;
  })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  EXPECT_NE(d.log().find("queued as a URL of its own"), std::string::npos) << d.log();
  for (const char* target : {"/feed.xml", "/own", "/moved"}) {
    auto reqs = server.requests_for(target);
    ASSERT_FALSE(reqs.empty()) << target;
    EXPECT_EQ(reqs[0].header("X-Token"), "s3cret-token") << target;
  }
  for (const auto& [site, target] : {std::pair{&other, "/listed"}, std::pair{&third, "/target"}}) {
    auto reqs = site->requests_for(target);
    ASSERT_FALSE(reqs.empty()) << target;
    for (const auto& r : reqs) EXPECT_EQ(r.header("X-Token"), "") << target;
  }
}

TEST(DaemonFault, ServesPrometheusMetricsOnLoopback) {
  if (!on_path("curl")) GTEST_SKIP() << "curl is not installed";
  TestHttpServer server;
  server.on("/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-metrics");
  int port = free_port();
  d.write_config(
      d.config("[metrics]\nenabled = true\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n"));
  d.start();
  d.request({{"command", "enqueue"}, {"urls", {server.url("/a")}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  auto [rc, body] = shell("curl -sf http://127.0.0.1:" + std::to_string(port) + "/metrics");
  ASSERT_EQ(rc, 0);
  EXPECT_NE(body.find("# TYPE vellum_captures_total counter\nvellum_captures_total 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("vellum_frontier_queued 0"), std::string::npos) << body;
  EXPECT_EQ(d.stop(), 0);
}

// A listing page whose site plugin lists its links (here: in data-story attributes, where no
// <a href> finder looks): the plugin's links are followed, still subject to link_pattern, and
// the page's ordinary anchors are not.
TEST(DaemonSources, AListingPagesPluginFindsItsLinks) {
  TestHttpServer server;
  server.on("/front/", Reply::ok("<html><body><a href=\"/stories/by-anchor\">A</a>"
                                 "<div data-story=\"/stories/one\"></div><div data-story=\"" +
                                     server.url("/stories/two") +
                                     "#top\"></div><div data-story=\"/about\"></div>"
                                     "<div data-story=\"/stories/one\"></div></body></html>",
                                 "text/html"));
  for (const char* p : {"/stories/one", "/stories/two", "/stories/by-anchor", "/about"})
    server.on(p, Reply::ok(page(p), "text/html"));
  DaemonHarness d("vd-links");
  std::string cfg = d.config(source("front", server.url("/front/"), "page",
                                    "link_pattern = \"/stories/\"\nplugin = \"general\"\n"));
  std::string from = "dirs = [" + DaemonHarness::quoted(VELLUM_PLUGIN_BUILD_DIR) + "]";
  cfg.replace(cfg.find(from), from.size(),
              "dirs = [" + DaemonHarness::quoted(VELLUM_TEST_PLUGIN_DIR) + "]");
  d.write_config(cfg);
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) {
    return s["captures"].get<int>() >= 2 && s["queue"]["queued"].get<int>() == 0 &&
           s["queue"]["in_flight"].get<int>() == 0;
  })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  EXPECT_EQ(server.requests_for("/stories/one").size(), 1u);
  EXPECT_EQ(server.requests_for("/stories/two").size(), 1u);
  EXPECT_TRUE(server.requests_for("/stories/by-anchor").empty()) << "the plugin's list decides";
  EXPECT_TRUE(server.requests_for("/about").empty()) << "link_pattern still applies";
  std::string out;
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "restore", server.url("/stories/two"),
                        "--format", "json"},
                       &out),
            0);
  EXPECT_EQ(json::parse(out)["extractor"]["name"], "general");
}

TEST(DaemonSources, ListingPagesSitemapIndexesAndSingleUrlsAreFollowed) {
  TestHttpServer server;
  // A listing page: only links matching the pattern are articles.
  server.on("/news/", Reply::ok("<html><body><a href=\"/news/2026/one\">One</a> <a "
                                "href=\"/about\">About</a> <a href=\"2026/two#top\">Two</a>"
                                "</body></html>",
                                "text/html"));
  server.on("/news/2026/one", Reply::ok(page("One"), "text/html"));
  server.on("/news/2026/two", Reply::ok(page("Two"), "text/html"));
  server.on("/about", Reply::ok(page("About"), "text/html"));
  // A sitemap index with two sitemaps, one of them a Google News sitemap.
  server.on("/sitemap-index.xml",
            Reply::ok("<?xml version=\"1.0\"?><sitemapindex "
                      "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap><loc>" +
                          server.url("/sitemap-a.xml") + "</loc></sitemap><sitemap><loc>" +
                          server.url("/sitemap-news.xml") + "</loc></sitemap></sitemapindex>",
                      "application/xml"));
  server.on("/sitemap-a.xml",
            Reply::ok("<?xml version=\"1.0\"?><urlset "
                      "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><url><loc>" +
                          server.url("/s/a") + "</loc></url></urlset>",
                      "application/xml"));
  server.on("/sitemap-news.xml",
            Reply::ok("<?xml version=\"1.0\"?><urlset "
                      "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" "
                      "xmlns:n=\"http://www.google.com/schemas/sitemap-news/0.9\"><url><loc>" +
                          server.url("/s/news") +
                          "</loc><n:news><n:publication_date>2026-04-08T16:09:31Z"
                          "</n:publication_date><n:title>News</n:title></n:news></url></urlset>",
                      "application/xml"));
  server.on("/s/a", Reply::ok(page("Sitemap A"), "text/html"));
  server.on("/s/news", Reply::ok(page("Sitemap News"), "text/html"));
  // A single page, captured on every run of its source.
  server.on("/front", Reply::ok(page("Front"), "text/html"));

  DaemonHarness d("vd-kinds");
  d.write_config(d.config(
      source("listing", server.url("/news/"), "page", "link_pattern = \"/news/\\\\d{4}/\"\n") +
      source("map", server.url("/sitemap-index.xml"), "sitemap") +
      "[[source]]\nname = \"front\"\nkind = \"url\"\nurl = \"" + server.url("/front") +
      "\"\ninterval = \"1s\"\n"));
  d.start();
  // The single page comes round every second, so the capture count alone could be reached by it
  // before the sitemap chain is done on a slow machine: wait for each page.
  const char* pages[] = {"/news/2026/one", "/news/2026/two", "/s/a", "/s/news"};
  ASSERT_TRUE(d.wait_for([&](const json& s) {
    for (const char* p : pages)
      if (server.requests_for(p).empty()) return false;
    return s["captures"].get<int>() >= 6 && server.requests_for("/front").size() >= 2;
  })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  EXPECT_TRUE(server.requests_for("/about").empty()) << "a link outside link_pattern was taken";
  for (const char* p : pages) EXPECT_EQ(server.requests_for(p).size(), 1u) << p;
  // The single page was captured again, as a revisit record since it did not change.
  std::string out;
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "--json", "list"}, &out), 0);
  int front = 0, front_revisits = 0;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    json row = json::parse(line);
    if (row.value("url", "") != server.url("/front")) continue;
    ++front;
    if (row.value("type", row.value("record_type", "")) == "revisit") ++front_revisits;
  }
  EXPECT_GE(front, 2);
  EXPECT_GE(front_revisits, 1) << out;
}

std::string sitemap_index_of(const std::vector<std::string>& urls) {
  std::string x =
      "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
  for (const auto& u : urls) x += "<sitemap><loc>" + u + "</loc></sitemap>";
  return x + "</sitemapindex>";
}

std::string sitemap_of(const std::vector<std::string>& urls) {
  std::string x =
      "<?xml version=\"1.0\"?><urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">";
  for (const auto& u : urls) x += "<url><loc>" + u + "</loc></url>";
  return x + "</urlset>";
}

TEST(DaemonSources, SitemapIndexesThatListEachOtherAreReadOncePerRun) {
  TestHttpServer server;
  // The index lists itself and a second index, which lists the first again and a sitemap.
  server.on("/index.xml",
            Reply::ok(sitemap_index_of({server.url("/index.xml"), server.url("/index-2.xml")}),
                      "application/xml"));
  server.on("/index-2.xml",
            Reply::ok(sitemap_index_of({server.url("/index.xml"), server.url("/map.xml")}),
                      "application/xml"));
  server.on("/map.xml", Reply::ok(sitemap_of({server.url("/s/a")}), "application/xml"));
  server.on("/s/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-loop");
  d.write_config(d.config(source("map", server.url("/index.xml"), "sitemap")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) {
    return s["captures"].get<int>() >= 1 && runs(s, "map") >= 1;
  })) << d.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(server.requests_for("/index.xml").size(), 1u);
  EXPECT_EQ(server.requests_for("/index-2.xml").size(), 1u);
  EXPECT_EQ(server.requests_for("/map.xml").size(), 1u);
  EXPECT_EQ(last_error(d.status(), "map"), "");
  EXPECT_NE(d.log().find(server.url("/index.xml") + " is listed again in this run"),
            std::string::npos)
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonSources, ARunCutShortByMaxNewPerRunLeavesTheRestForTheNext) {
  TestHttpServer server;
  std::vector<std::string> pages;
  for (int i = 0; i < 5; ++i) {
    pages.push_back(server.url("/p/" + std::to_string(i)));
    server.on("/p/" + std::to_string(i), Reply::ok(page("P" + std::to_string(i)), "text/html"));
  }
  // A static sitemap: unchanged, so a conditional request is answered 304.
  server.on("/map.xml", [&](const ReceivedRequest& r) {
    if (r.header("If-None-Match") == "\"same\"") return Reply::raw(http_response(304, ""));
    return Reply::ok(sitemap_of(pages), "application/xml", {"ETag: \"same\""});
  });
  DaemonHarness d("vd-capped");
  d.write_config(
      d.config("[[source]]\nname = \"map\"\nkind = \"sitemap\"\nurl = \"" + server.url("/map.xml") +
               "\"\ninterval = \"1s\"\n\n[schedule]\nmax_new_per_run = 2\njitter = 0.0\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 5; })) << d.log();
  for (const auto& p : pages)
    EXPECT_EQ(server.requests_for(p.substr(p.find("/p/"))).size(), 1u) << p;
  // Once every URL is known, the run is complete and the validator is used again.
  ASSERT_TRUE(d.wait_for([&](const json&) {
    for (const auto& r : server.requests_for("/map.xml"))
      if (r.header("If-None-Match") == "\"same\"") return true;
    return false;
  })) << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonSources, ANewArticleIsNotHeldBackByAnotherSourcesBacklog) {
  // Site A lists thousands of pages and serves them slowly; site B's new article must not wait
  // for A's backlog.
  TestHttpServer a, b;
  std::vector<std::string> backlog;
  for (int i = 0; i < 3000; ++i) backlog.push_back(a.url("/a/" + std::to_string(i)));
  a.on("/feed.xml", Reply::ok(rss_of(backlog), "application/rss+xml"));
  a.on("/a/*", [](const ReceivedRequest&) {
    std::this_thread::sleep_for(100ms);
    return Reply::ok(page("A"), "text/html");
  });
  std::atomic<bool> listed{false};
  b.on("/feed.xml", [&](const ReceivedRequest&) {
    return Reply::ok(
        rss_of(listed ? std::vector<std::string>{b.url("/news")} : std::vector<std::string>{}),
        "application/rss+xml");
  });
  b.on("/news", Reply::ok(page("News"), "text/html"));
  DaemonHarness d("vd-fair");
  d.write_config(d.config(
      "[[source]]\nname = \"a\"\nkind = \"feed\"\nurl = \"" + a.url("/feed.xml") +
      "\"\ninterval = \"1h\"\n\n[[source]]\nname = \"b\"\nkind = \"feed\"\n"
      "url = \"" +
      b.url("/feed.xml") + "\"\ninterval = \"1s\"\n\n[schedule]\nmax_new_per_run = 5000\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 3; })) << d.log();
  listed = true;
  EXPECT_TRUE(d.wait_for([&](const json&) { return !b.requests_for("/news").empty(); }, 8s))
      << "site B's article waited behind site A's backlog";
  EXPECT_LT(d.status()["captures"].get<int>(), 1000) << "make site A slower";
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonSources, AFailedRevisitWhoseNextVisitIsPastWaitsForTheOneAfter) {
  TestHttpServer server;
  std::atomic<int> served{0};
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/story")}), "application/rss+xml"));
  server.on("/story", [&](const ReceivedRequest&) {
    if (++served == 1) return Reply::ok(page("Story"), "text/html");
    // The revisit fails for good (a redirect nowhere), and only after the visit planned next
    // has come and gone.
    std::this_thread::sleep_for(2500ms);
    return Reply::raw(http_response(302, "", {"Location: ftp://files.example/story"}));
  });
  DaemonHarness d("vd-past-visit");
  d.write_config(d.config(
      source("f", server.url("/feed.xml"), "feed", "revisit = [\"1s\", \"2s\", \"100d\"]\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([&](const json& s) {
    return s["errors"].get<int>() >= 1 && s["captures"].get<int>() >= 1;
  })) << d.log();
  std::this_thread::sleep_for(6s);
  EXPECT_EQ(served.load(), 2) << "the URL was due again at once after each failure\n" << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonSources, ASourceEnabledByAReloadRuns) {
  TestHttpServer server;
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/a")}), "application/rss+xml"));
  server.on("/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-enable");
  d.write_config(d.config(source("f", server.url("/feed.xml"), "feed", "enabled = false\n")));
  d.start();
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(server.requests_for("/feed.xml").empty()) << "a disabled source ran";
  d.write_config(d.config(source("f", server.url("/feed.xml"))));
  d.signal(SIGHUP);
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(server.requests_for("/feed.xml").size(), 1u);
  EXPECT_EQ(d.stop(), 0);
}

// A sitemap of an index that breaks off is named in the warning, among the index's others.
TEST(DaemonSources, ADocumentThatBreaksOffIsNamedInItsWarning) {
  TestHttpServer server;
  const std::string ns = "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"";
  server.on("/index.xml",
            Reply::ok("<?xml version=\"1.0\"?><sitemapindex " + ns + "><sitemap><loc>" +
                          server.url("/good.xml") + "</loc></sitemap><sitemap><loc>" +
                          server.url("/bad.xml") + "</loc></sitemap></sitemapindex>",
                      "application/xml"));
  server.on("/good.xml", Reply::ok("<?xml version=\"1.0\"?><urlset " + ns + "><url><loc>" +
                                       server.url("/a") + "</loc></url></urlset>",
                                   "application/xml"));
  server.on("/bad.xml", Reply::ok("<?xml version=\"1.0\"?><urlset " + ns + "><url><loc>" +
                                      server.url("/b") + "</loc></url>\n<url><loc>x<loc></url>",
                                  "application/xml"));
  server.on("/a", Reply::ok(page("A"), "text/html"));
  server.on("/b", Reply::ok(page("B"), "text/html"));
  DaemonHarness d("vd-broken-doc");
  d.write_config(d.config(source("map", server.url("/index.xml"), "sitemap")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 2; })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  EXPECT_NE(d.log().find("source map: " + server.url("/bad.xml") + ": the document breaks off"),
            std::string::npos)
      << d.log();
}

// A source changed while the daemon was stopped is planned anew when it starts, as a reload
// would: a new URL is read at once, a shorter interval counts from the last run.
TEST(DaemonSources, ASourceChangedWhileStoppedIsPlannedAnewAtStart) {
  TestHttpServer server;
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/a")}), "application/rss+xml"));
  server.on("/feed2.xml", Reply::ok(rss_of({server.url("/b")}), "application/rss+xml"));
  server.on("/a", Reply::ok(page("A"), "text/html"));
  server.on("/b", Reply::ok(page("B"), "text/html"));
  DaemonHarness d("vd-changed-stopped");
  d.write_config(d.config(source("f", server.url("/feed.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  d.write_config(d.config(source("f", server.url("/feed2.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; }))
      << "the new URL waited for the old one's hour\n"
      << d.log();
  EXPECT_EQ(server.requests_for("/feed2.xml").size(), 1u);
  EXPECT_EQ(d.stop(), 0);
  std::string faster = source("f", server.url("/feed2.xml"));
  faster.replace(faster.find("\"1h\""), 4, "\"1s\"");
  d.write_config(d.config(faster));
  d.start();
  EXPECT_TRUE(d.wait_for([&](const json&) { return server.requests_for("/feed2.xml").size() >= 2; },
                         std::chrono::seconds(10)))
      << "the interval of 1 s waited for the old hour\n"
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

// A reload that changes a source's URL while a run reads the old one: the new URL is read as
// soon as that run ends, not an interval later.
TEST(DaemonSources, AUrlChangedByAReloadDuringARunIsReadWhenItEnds) {
  TestHttpServer server;
  Reply slow = Reply::ok(rss_of({server.url("/a")}), "application/rss+xml");
  slow.delay = 1500ms;
  server.on("/old.xml", slow);
  server.on("/new.xml", Reply::ok(rss_of({server.url("/b")}), "application/rss+xml"));
  server.on("/a", Reply::ok(page("A"), "text/html"));
  server.on("/b", Reply::ok(page("B"), "text/html"));
  DaemonHarness d("vd-changed-running");
  d.write_config(d.config(source("f", server.url("/old.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([&](const json&) { return !server.requests_for("/old.xml").empty(); }))
      << d.log();
  d.write_config(d.config(source("f", server.url("/new.xml"))));
  d.signal(SIGHUP);
  EXPECT_TRUE(d.wait_for([&](const json&) { return !server.requests_for("/new.xml").empty(); },
                         std::chrono::seconds(10)))
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

// A source that forces a plugin the daemon did not load is named in the log at start-up; its
// pages get the generic extractor.
TEST(DaemonSources, ASourceForcingAPluginNotLoadedIsNamed) {
  TestHttpServer server;
  server.on("/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-no-plugin");
  d.write_config(d.config(source("f", server.url("/a"), "url", "plugin = \"nosuch\"\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_NE(d.log().find("source f: plugin 'nosuch' is not loaded (loaded: "), std::string::npos)
      << d.log();
  EXPECT_EQ(d.stop(), 0) << d.log();
}

// A url source fetches no document of its own: its runs report no HTTP status (not "HTTP 0").
TEST(DaemonSources, AUrlSourceReportsNoDocumentStatus) {
  TestHttpServer server;
  server.on("/a", Reply::ok(page("A"), "text/html"));
  DaemonHarness d("vd-url-status");
  d.write_config(d.config(source("u", server.url("/a"), "url")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  json sources = d.request({{"command", "sources"}});
  ASSERT_EQ(sources["sources"].size(), 1u) << sources.dump();
  EXPECT_TRUE(sources["sources"][0]["last_status"].is_null()) << sources.dump();
  auto [rc, out] = shell(shell_quote(VELLUM_CLI_PATH) + " --socket " +
                         shell_quote(d.socket().string()) + " sources 2>&1");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(": ok; "), std::string::npos) << out;
  EXPECT_EQ(out.find("HTTP"), std::string::npos) << out;
  EXPECT_EQ(d.stop(), 0) << d.log();
}

TEST(DaemonSources, ASourceThatAsksForRobotsGetsItWhereFetchRobotsIsOff) {
  TestHttpServer server;
  server.on("/robots.txt", Reply::ok("User-agent: *\nDisallow: /private/\n"));
  server.on("/private/a", Reply::ok(page("Private"), "text/html"));
  server.on("/b", Reply::ok(page("B"), "text/html"));
  server.on("/feed.xml",
            Reply::ok(rss_of({server.url("/private/a"), server.url("/b")}), "application/rss+xml"));
  DaemonHarness d("vd-robots-src");
  d.write_config(d.config(source("f", server.url("/feed.xml"), "feed", "robots = true\n"),
                          "robots = false\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) {
    return s["captures"].get<int>() >= 1 && s["robots_refused"].get<int>() >= 1;
  })) << d.log();
  EXPECT_TRUE(server.requests_for("/private/a").empty());
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonSources, ACaptureStoredBeforeAStopKeepsItsRevisitPlan) {
  TestHttpServer server;
  std::atomic<bool> up{false};
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/story")}), "application/rss+xml"));
  server.on("/story", [&](const ReceivedRequest&) {
    if (!up) return Reply::raw(http_response(503, "down", {"Retry-After: 1"}));
    return Reply::ok(page("Story"), "text/html");
  });
  DaemonHarness d("vd-reconcile");
  d.write_config(d.config(source("f", server.url("/feed.xml"), "feed", "revisit = [\"2s\"]\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["errors"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  // The page is captured while the daemon is down (as when a capture is stored and the daemon
  // is killed before it notes it): at start-up the daemon finds it in the index.
  up = true;
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "archive", "--no-extract",
                        server.url("/story")}),
            0);
  const std::size_t before = server.requests_for("/story").size();
  std::this_thread::sleep_for(1500ms);  // the retry is due at start-up
  d.start();
  EXPECT_TRUE(d.wait_for([&](const json&) { return server.requests_for("/story").size() > before; },
                         std::chrono::seconds(20)))
      << "the revisit 2 s after the capture never came\n"
      << d.log();
  EXPECT_NE(d.log().find("now marked done"), std::string::npos) << d.log();
  EXPECT_EQ(d.stop(), 0);
}

TEST(DaemonSources, ArticlesAreRevisitedOnTheirScheduleThenLeftAlone) {
  TestHttpServer server;
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/story")}), "application/rss+xml"));
  std::atomic<int> served{0};
  server.on("/story", [&](const ReceivedRequest&) {
    // The second visit finds the story updated; the third finds it unchanged.
    int n = ++served;
    return Reply::ok(page(n == 1 ? "Story" : "Story, updated"), "text/html");
  });
  DaemonHarness d("vd-revisit");
  d.write_config(
      d.config(source("f", server.url("/feed.xml"), "feed", "revisit = [\"1s\", \"2s\"]\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 3; })) << d.log();
  std::this_thread::sleep_for(2s);  // nothing more is due
  json s = d.status();
  EXPECT_EQ(s["captures"].get<int>(), 3);
  EXPECT_EQ(s["revisits"].get<int>(), 1);  // the third visit found nothing new
  EXPECT_EQ(served.load(), 3);
  EXPECT_EQ(d.stop(), 0);
}

// Revisits missed while the daemon was down are made up by one capture, not one each in a row.
TEST(DaemonSources, RevisitsMissedWhileStoppedAreMadeUpOnce) {
  TestHttpServer server;
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/story")}), "application/rss+xml"));
  server.on("/story", Reply::ok(page("Story"), "text/html"));
  DaemonHarness d("vd-missed");
  d.write_config(d.config(source("f", server.url("/feed.xml"), "feed",
                                 "revisit = [\"1s\", \"2s\", \"3s\", \"100d\"]\n")));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; })) << d.log();
  EXPECT_EQ(d.stop(), 0);
  ASSERT_EQ(server.requests_for("/story").size(), 1u) << d.log();
  std::this_thread::sleep_for(3500ms);  // the three short revisits all pass
  d.start();
  ASSERT_TRUE(d.wait_for([&](const json&) { return server.requests_for("/story").size() >= 2; }))
      << d.log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(server.requests_for("/story").size(), 2u)
      << "each missed revisit was made, one after the other\n"
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

// A URL giving up after its retries moves its next visit; the URLs due after it are still
// fetched when due, with nothing else (a source run, an enqueue) to wake the daemon.
TEST(DaemonSources, AUrlThatGivesUpHoldsBackNoRevisitAfterIt) {
  TestHttpServer server;
  server.on("/feed.xml",
            Reply::ok(rss_of({server.url("/ok"), server.url("/fails")}), "application/rss+xml"));
  server.on("/ok", Reply::ok(page("Fine"), "text/html"));
  std::atomic<int> tries{0};
  server.on("/fails", [&](const ReceivedRequest&) {
    if (++tries == 1) return Reply::ok(page("Soon gone"), "text/html");
    return Reply::raw(http_response(500, "broken", {}));
  });
  DaemonHarness d("vd-give-up");
  d.write_config(
      d.config(source("f", server.url("/feed.xml"), "feed", "revisit = [\"1s\", \"4s\", \"6s\"]\n"),
               "retries = 1\n"));
  d.start();
  // /ok: captured at 0, 1, 4 and 6 s; /fails: captured, then fails at 1 s (and its retry at 2 s,
  // then gives up), at 4 s, and at 6 s.
  EXPECT_TRUE(d.wait_for([&](const json&) { return server.requests_for("/ok").size() >= 4; },
                         std::chrono::seconds(15)))
      << "after /fails gave up, /ok's revisits were fetched "
      << server.requests_for("/ok").size() - 1 << " times of 3\n"
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

// A new article whose first fetch gives up (its site was down) is tried again on the revisit
// plan, counted from when it was found, and captured once the site is back: not lost.
TEST(DaemonSources, ANewUrlThatGivesUpIsTriedAgainOnThePlan) {
  TestHttpServer server;
  server.on("/feed.xml", Reply::ok(rss_of({server.url("/flaky")}), "application/rss+xml"));
  std::atomic<int> tries{0};
  server.on("/flaky", [&](const ReceivedRequest&) {
    if (++tries <= 2) return Reply::raw(http_response(500, "down", {}));
    return Reply::ok(page("Back again"), "text/html");
  });
  DaemonHarness d("vd-new-fails");
  d.write_config(d.config(source("f", server.url("/feed.xml"), "feed", "revisit = [\"2s\"]\n"),
                          "retries = 1\n"));
  d.start();
  // /flaky: fails at 0 s and on its retry (gives up), then is tried at 2 s and captured.
  EXPECT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; },
                         std::chrono::seconds(15)))
      << d.log();
  EXPECT_EQ(d.stop(), 0);
  EXPECT_NE(d.log().find("giving up"), std::string::npos) << d.log();
  EXPECT_EQ(server.requests_for("/flaky").size(), 3u) << d.log();
  std::string out;
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "restore", server.url("/flaky"),
                        "--format", "html"},
                       &out),
            0);
  EXPECT_EQ(out, page("Back again"));
}

// Receives the datagrams vellumd sends to $NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("bind " + path.string());
    timeval tv{0, 200'000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifySocket() { ::close(fd_); }
  // Messages received until one contains `what` or `timeout` passes; true when it came.
  bool wait_for(const std::string& what, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      std::string msg(buf, static_cast<std::size_t>(n));
      messages.push_back(msg);
      if (msg.find(what) != std::string::npos) return true;
    }
    return false;
  }
  std::vector<std::string> messages;

 private:
  fs::path path_;
  int fd_ = -1;
};

TEST(DaemonFault, TellsSystemdReadyWatchdogReloadingAndStopping) {
  DaemonHarness d("vd-notify");
  NotifySocket notify(d.dir() / "notify.sock");
  d.write_config(d.config(""));
  d.start("NOTIFY_SOCKET=" + (d.dir() / "notify.sock").string() + " WATCHDOG_USEC=400000");
  ASSERT_TRUE(notify.wait_for("READY=1", 10s));
  // Three pings, every 200 ms (half of WATCHDOG_USEC); a loaded machine may delay some.
  int pings = 0;
  auto until = std::chrono::steady_clock::now() + 5s;
  while (pings < 3 && std::chrono::steady_clock::now() < until)
    if (notify.wait_for("WATCHDOG=1", 300ms)) ++pings;
  EXPECT_GE(pings, 3) << "expected pings every 200 ms (half of WATCHDOG_USEC)";
  d.signal(SIGHUP);
  EXPECT_TRUE(notify.wait_for("RELOADING=1", 5s));
  EXPECT_TRUE(notify.wait_for("READY=1", 5s));
  d.signal(SIGTERM);
  EXPECT_TRUE(notify.wait_for("STOPPING=1", 5s));
  EXPECT_EQ(d.stop(), 0);
}

// A start-up that has long work to do first (here: rebuilding a deleted index from the WARC
// files) keeps systemd waiting with EXTEND_TIMEOUT_USEC and says why in STATUS, before READY=1.
TEST(DaemonFault, ALongStartUpAsksSystemdToWaitAndSaysWhy) {
  TestHttpServer server;
  server.on("/a", Reply::ok(page("Kept"), "text/html"));
  DaemonHarness d("vd-startup");
  d.write_config(d.config(""));
  d.start();
  d.request({{"command", "enqueue"}, {"urls", {server.url("/a")}}});
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() == 1; })) << d.log();
  ASSERT_EQ(d.stop(SIGTERM), 0) << d.log();
  for (const char* f : {"index.sqlite3", "index.sqlite3-wal", "index.sqlite3-shm"})
    fs::remove(d.archive() / f);

  NotifySocket notify(d.dir() / "notify.sock");
  d.start("NOTIFY_SOCKET=" + (d.dir() / "notify.sock").string());
  ASSERT_TRUE(notify.wait_for("READY=1", 10s)) << d.log();
  ASSERT_GE(notify.messages.size(), 2u) << d.log();
  const std::string& extend = notify.messages.front();
  EXPECT_EQ(extend.rfind("EXTEND_TIMEOUT_USEC=30000000\nSTATUS=indexing vellum-", 0), 0u) << extend;
  EXPECT_NE(extend.find(" from offset 0"), std::string::npos) << extend;
  EXPECT_NE(d.log().find("start-up: indexing vellum-"), std::string::npos) << d.log();
  std::string out;
  EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "restore", server.url("/a"), "--format",
                        "html"},
                       &out),
            0);
  EXPECT_EQ(out, page("Kept"));
  EXPECT_EQ(d.stop(), 0);
}

// The archive's disk fills up under the daemon (a real 1 MiB tmpfs, root only): capturing
// pauses with the reason in `vellum status`, the daemon keeps running, and once there is room
// every page is captured, nothing is lost and the archive verifies.
// A tmpfs of a few megabytes mounted on `dir` (created) while it lives; needs root.
struct SmallDisk {
  SmallDisk(const std::filesystem::path& dir, const char* options) : path(dir) {
    std::filesystem::create_directories(dir);
    mounted = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, options) == 0;
  }
  ~SmallDisk() {
    if (mounted) ::umount2(path.c_str(), MNT_DETACH);
  }
  std::filesystem::path path;
  bool mounted = false;
};

TEST(DaemonFault, FullDiskPausesCapturingAndSpaceReturningResumesIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TestHttpServer server;
  std::mt19937_64 rng(7);
  std::vector<std::string> urls;
  for (int i = 0; i < 24; ++i) {
    std::string noise;
    for (int k = 0; k < 60'000; ++k) noise += static_cast<char>('a' + rng() % 26);
    std::string path = "/big/" + std::to_string(i);
    server.on(path, Reply::ok("<html><title>Big " + std::to_string(i) + "</title><p>" + noise +
                                  "</p></html>",
                              "text/html"));
    urls.push_back(server.url(path));
  }
  server.on("/feed.xml", Reply::ok(rss_of(urls), "application/rss+xml"));

  DaemonHarness d("vd-full");
  SmallDisk disk(d.archive(), "size=1m");
  if (!disk.mounted) GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);

  d.write_config(d.config(source("big", server.url("/feed.xml"))));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["paused"].is_string(); }, 60s)) << d.log();
  json s = d.status();
  std::string why = s["paused"];
  EXPECT_TRUE(why.find("No space left on device") != std::string::npos ||
              why.find("disk is full") != std::string::npos)
      << why;
  EXPECT_LT(s["urls"]["captured"].get<int>(), 24);
  std::this_thread::sleep_for(1s);
  EXPECT_TRUE(d.status()["paused"].is_string()) << "resumed while the disk was still full";

  ASSERT_EQ(::mount("tmpfs", d.archive().c_str(), "tmpfs", MS_REMOUNT, "size=64m"), 0);
  ASSERT_TRUE(
      d.wait_for([](const json& st) { return st["urls"]["captured"].get<int>() == 24; }, 60s))
      << d.log();
  EXPECT_TRUE(d.status()["paused"].is_null());
  EXPECT_NE(d.log().find("capturing resumed"), std::string::npos);
  EXPECT_EQ(d.stop(), 0);

  std::string out;
  EXPECT_EQ(run_vellum({"--archive", d.archive().string(), "verify"}, &out), 0) << out;
  ASSERT_EQ(run_vellum({"--archive", d.archive().string(), "--json", "list"}, &out), 0);
  std::set<std::string> captured;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (auto j = json::parse(line); j["status"] == 200) captured.insert(j["url"]);
  for (const auto& u : urls) EXPECT_TRUE(captured.count(u)) << u << " was lost";
}

TEST(DaemonFault, ASourceRunThatFindsTheDiskFullRunsAgainOnceThereIsRoom) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TestHttpServer server;
  std::atomic<bool> listing{false};
  std::vector<std::string> urls;
  // Enough new URLs that recording them needs more than the state database's log holds.
  for (int i = 0; i < 3000; ++i)
    urls.push_back(server.url("/p/" + std::to_string(i) + "/" + std::string(120, 'x')));
  server.on("/feed.xml", [&](const ReceivedRequest&) {
    return Reply::ok(rss_of(listing ? urls : std::vector<std::string>{}), "application/rss+xml");
  });
  server.on("/p/*", Reply::ok(page("P"), "text/html"));

  DaemonHarness d("vd-full-source");
  SmallDisk disk(d.archive(), "size=16m");
  if (!disk.mounted) GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  d.write_config(
      d.config("[[source]]\nname = \"f\"\nkind = \"feed\"\nurl = \"" + server.url("/feed.xml") +
               "\"\ninterval = \"1s\"\n\n[schedule]\nmax_new_per_run = 5000\njitter = 0.0\n"));
  d.start();
  ASSERT_TRUE(d.wait_for([](const json& s) { return runs(s, "f") >= 1; })) << d.log();

  // Fill the disk, then list the URLs: the run cannot record them.
  const auto filler = d.archive() / "filler";
  {
    std::ofstream out(filler, std::ios::binary);
    const std::string block(64 << 10, 'f');
    while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
    }
  }
  listing = true;
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["paused"].is_string(); }, 60s)) << d.log();
  EXPECT_EQ(d.status()["captures"].get<int>(), 0);

  std::filesystem::remove(filler);
  ASSERT_TRUE(d.wait_for([](const json& s) { return s["captures"].get<int>() >= 1; }, 60s))
      << "the source never ran again\n"
      << d.log();
  EXPECT_EQ(d.stop(), 0);
}

}  // namespace
}  // namespace vellum::test
