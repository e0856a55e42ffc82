// `vellum archive` against an in-process server that misbehaves: each bad URL gets its own
// one-line reason, the good ones are stored, nothing stalls, and the archive verifies.
#include <gtest/gtest.h>

#include <zlib.h>
#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/Subprocess.h"
#include "support/TempDir.h"
#include "support/TestHttpServer.h"
#include "support/Tools.h"

using namespace vellum::test;
using nlohmann::json;

TEST(CliFaults, EachFailureHasItsReasonAndGoodCapturesAreKept) {
  TestHttpServer server;
  server.on("/good", Reply::ok("<html>fine</html>", "text/html"));
  server.on("/reset", Reply::partial(5000, std::string(1000, 'r'), Reply::Then::kReset));
  server.on("/stall", Reply::partial(5000, std::string(1000, 's'), Reply::Then::kStall));
  server.on("/endless", Reply::endless());
  server.on("/badstatus", Reply::raw("HTTP/1.1 2x0 Nonsense\r\n\r\n", Reply::Then::kClose));
  server.on("/loop-a", Reply::redirect(302, "/loop-b"));
  server.on("/loop-b", Reply::redirect(302, "/loop-a"));
  server.on("/moved", Reply::redirect(301, "/good"));
  TempDir tmp("faults");
  std::string archive = (tmp / "archive").string();
  std::vector<std::string> args{"--archive", archive, "--json",     "archive",
                                "--timeout", "2",     "--max-size", "100000"};
  for (std::string p : {"/good", "/reset", "/stall", "/endless", "/badstatus", "/loop-a", "/moved"})
    args.push_back(server.url(p));
  std::string out;
  EXPECT_NE(run_vellum(args, &out), 0) << "failures must give a non-zero exit";

  std::map<std::string, json> by_path;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    by_path[j["url"].get<std::string>().substr(server.base_url().size())] = j;
  }
  ASSERT_EQ(by_path.size(), 7u) << out;
  EXPECT_FALSE(by_path["/good"].contains("error"));
  EXPECT_EQ(by_path["/good"]["status"], 200);
  EXPECT_EQ(by_path["/moved"]["final_url"], server.url("/good"));
  EXPECT_EQ(by_path["/moved"]["status"], 200);
  EXPECT_TRUE(by_path["/endless"].value("truncated", false)) << by_path["/endless"].dump();
  EXPECT_FALSE(by_path["/endless"].contains("error"));
  for (std::string p : {"/reset", "/stall", "/badstatus", "/loop-a"}) {
    ASSERT_TRUE(by_path[p].contains("error")) << p << ": " << by_path[p].dump();
    std::string e = by_path[p]["error"];
    EXPECT_EQ(e.find('\n'), std::string::npos) << "one line: " << e;
  }
  EXPECT_NE(by_path["/stall"]["error"].get<std::string>().find("timed out"), std::string::npos);
  EXPECT_NE(by_path["/badstatus"]["error"].get<std::string>().find("status line"),
            std::string::npos);
  EXPECT_NE(by_path["/loop-a"]["error"].get<std::string>().find("redirect loop"),
            std::string::npos);

  // The truncated capture is stored, marked, and restores its first 100000 bytes.
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/endless"), "--format", "warc"},
                 &out),
      0);
  EXPECT_NE(out.find("WARC-Truncated: length"), std::string::npos);
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/endless"), "--format", "html"},
                 &out),
      0);
  EXPECT_EQ(out.size(), 100000u);
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/good"), "--format", "html"}, &out),
      0);
  EXPECT_EQ(out, "<html>fine</html>");
  // A redirect restores as the page it leads to, or as itself with --no-follow.
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/moved"), "--format", "html"}, &out),
      0);
  EXPECT_EQ(out, "<html>fine</html>");
  ASSERT_EQ(run_vellum({"--archive", archive, "restore", server.url("/moved"), "--no-follow",
                        "--format", "html"},
                       &out),
            0);
  EXPECT_EQ(out, "");
  EXPECT_EQ(run_vellum({"--archive", archive, "verify"}), 0);
}

namespace {

// A gzip stream of `pieces`, each (text, how many times) in turn.
std::string gzip_of(const std::vector<std::pair<std::string, int>>& pieces) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out;
  char buf[64 * 1024];
  auto pump = [&](const std::string& in, int flush) {
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    do {
      zs.next_out = reinterpret_cast<Bytef*>(buf);
      zs.avail_out = sizeof buf;
      deflate(&zs, flush);
      out.append(buf, sizeof buf - zs.avail_out);
    } while (zs.avail_out == 0);
  };
  for (const auto& [text, times] : pieces)
    for (int i = 0; i < times; ++i) pump(text, Z_NO_FLUSH);
  pump("", Z_FINISH);
  deflateEnd(&zs);
  return out;
}

// A gzip stream that inflates to `megabytes` MiB of spaces inside an HTML page: a small
// transfer that would become a huge page if decoding were not capped.
std::string gzip_bomb(int megabytes) {
  return gzip_of({{"<html><head><title>bomb</title></head><body><p>", 1},
                  {std::string(1 << 20, ' '), megabytes},
                  {"</p></body></html>", 1}});
}

}  // namespace

// The rest of the bad-server list: each URL ends with its own one-line error or a stored
// capture (marked truncated where it was cut), the run neither crashes nor stalls, every
// output line is valid JSON even when the server sent invalid UTF-8, and the archive verifies.
// A body announced longer than --max-size, of which exactly that much arrives before the server
// stalls or closes: the capture is cut at the limit and stored, not failed.
TEST(CliFaults, ExactlyTheLimitOfALongerBodyIsStoredCut) {
  TestHttpServer server;
  server.on("/stall", Reply::partial(100000, std::string(50000, 's'), Reply::Then::kStall));
  server.on("/close", Reply::partial(100000, std::string(50000, 'c'), Reply::Then::kClose));
  TempDir tmp("faults-exact");
  const std::string archive = (tmp / "archive").string();
  std::string out;
  EXPECT_EQ(run_vellum({"--archive", archive, "--json", "archive", "--timeout", "3", "--max-size",
                        "50000", server.url("/stall"), server.url("/close")},
                       &out),
            0)
      << out;
  for (const auto& j : json_lines(out)) {
    EXPECT_FALSE(j.contains("error")) << j.dump();
    EXPECT_TRUE(j.value("truncated", false)) << j.dump();
  }
  for (const char* p : {"/stall", "/close"}) {
    ASSERT_EQ(
        run_vellum({"--archive", archive, "restore", server.url(p), "--format", "html"}, &out), 0)
        << p;
    EXPECT_EQ(out.size(), 50000u) << p;
  }
}

// A timeout under a millisecond is a millisecond, not none (0 ms means no limit to libcurl).
TEST(CliFaults, ATimeoutUnderAMillisecondStillTimesOut) {
  TestHttpServer server;
  Reply slow = Reply::ok("<html>late</html>", "text/html");
  slow.delay = std::chrono::milliseconds(1500);
  server.on("/slow", slow);
  TempDir tmp("faults-timeout");
  std::string out;
  EXPECT_EQ(run_vellum({"--archive", (tmp / "archive").string(), "--json", "archive", "--timeout",
                        "0.0005", server.url("/slow")},
                       &out),
            1)
      << out;
  EXPECT_NE(out.find("timed out"), std::string::npos) << out;
}

TEST(CliFaults, BadServersNeverCrashOrStallTheCapture) {
  TestHttpServer server;
  std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n";
  // Slow-loris: the head arrives one byte every 100 ms and never ends in time.
  Reply loris = Reply::raw(head + std::string(2000, 'X'), Reply::Then::kStall);
  loris.drip_bytes = 1;
  loris.drip_interval = std::chrono::milliseconds(100);
  server.on("/loris", loris);
  // More body than Content-Length announces, on a kept-alive connection.
  server.on("/excess", Reply::raw(head + "Content-Length: 5\r\n\r\nhelloTRAILING GARBAGE\r\n"));
  // A 2 GB Content-Length and a body that keeps coming: cut at --max-size.
  server.on("/huge", Reply::partial(2ull << 30, "", Reply::Then::kEndless));
  server.on("/twolengths", Reply::raw(head + "Content-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
                                      Reply::Then::kClose));
  server.on("/negative", Reply::raw(head + "Content-Length: -5\r\n\r\nhello", Reply::Then::kClose));
  server.on("/badchunk",
            Reply::raw(head + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                       Reply::Then::kClose));
  server.on("/ftp", Reply::redirect(302, "ftp://127.0.0.1/file"));
  server.on("/bomb", Reply::ok(gzip_bomb(200), "text/html", {"Content-Encoding: gzip"}));
  std::string bad = "\xff\xfe\xc3\x28\xed\xa0\x80";  // not UTF-8 in several ways
  server.on("/utf8", Reply::ok("<html><head><title>T" + bad + "</title></head><body><p>P" + bad +
                                   " " + std::string(300, 'w') + "</p></body></html>",
                               "text/html; charset=utf-8", {"X-Odd: v" + bad}));
  server.on("/badlocation", Reply::raw("HTTP/1.1 302 Found\r\nLocation: /x" + bad +
                                       "\r\nContent-Length: 0\r\n\r\n"));
  server.on("/good", Reply::ok("<html><title>fine</title><p>fine</p></html>", "text/html"));

  TempDir tmp("badservers");
  std::string archive = (tmp / "archive").string();
  std::vector<std::string> paths{"/loris",    "/excess",      "/huge", "/twolengths",
                                 "/negative", "/badchunk",    "/ftp",  "/bomb",
                                 "/utf8",     "/badlocation", "/good"};
  std::vector<std::string> args{"--archive", archive,      "--json",  "archive",       "--timeout",
                                "3",         "--max-size", "1000000", "--concurrency", "4"};
  for (const auto& p : paths) args.push_back(server.url(p));
  auto t0 = std::chrono::steady_clock::now();
  std::string out;
  EXPECT_NE(run_vellum(args, &out), 0) << "failures must give a non-zero exit";
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(took, 20.0) << "a bad server stalled the run";

  std::map<std::string, json> by_path;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "not JSON: " << line;
    by_path[j["url"].get<std::string>().substr(server.base_url().size())] = j;
  }
  ASSERT_EQ(by_path.size(), paths.size()) << out;
  for (const auto& [p, j] : by_path) {
    if (j.contains("error")) {
      std::string e = j["error"];
      EXPECT_FALSE(e.empty()) << p;
      EXPECT_EQ(e.find('\n'), std::string::npos) << p << ": " << e;
    }
  }
  auto error_of = [&](const std::string& p) { return by_path[p].value("error", std::string()); };
  EXPECT_NE(error_of("/loris").find("timed out"), std::string::npos) << by_path["/loris"].dump();
  EXPECT_TRUE(by_path["/huge"].value("truncated", false)) << by_path["/huge"].dump();
  EXPECT_FALSE(error_of("/ftp").empty()) << by_path["/ftp"].dump();
  EXPECT_FALSE(error_of("/badchunk").empty()) << by_path["/badchunk"].dump();
  EXPECT_EQ(by_path["/good"]["status"], 200) << by_path["/good"].dump();
  EXPECT_EQ(by_path["/utf8"]["status"], 200) << by_path["/utf8"].dump();
  EXPECT_EQ(by_path["/bomb"]["status"], 200) << by_path["/bomb"].dump();
  for (const char* p : {"/twolengths", "/negative", "/loris"})
    EXPECT_FALSE(error_of(p).empty()) << p << ": " << by_path[p].dump();

  // What was stored restores; the article of the invalid-UTF-8 page is valid JSON.
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/utf8"), "--format", "json"}, &out),
      0);
  json article = json::parse(out);
  EXPECT_EQ(article["title"].get<std::string>().substr(0, 1), "T");
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/huge"), "--format", "html"}, &out),
      0);
  EXPECT_EQ(out.size(), 1000000u);
  // Only the announced 5 bytes belong to the response; the rest is not taken for it.
  ASSERT_EQ(run_vellum({"--archive", archive, "restore", server.url("/excess"), "--format", "html"},
                       &out),
            0);
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(run_vellum({"--archive", archive, "verify"}, &out), 0) << out;
}

// Pages whose URLs differ only in case share a canonical key: each URL restores and lists its
// own page, and a redirect from one to the other (a key of its own) is followed.
TEST(CliPages, UrlsDifferingInCaseAreDifferentPages) {
  TestHttpServer server;
  server.on("/a.html", Reply::ok("<html>lower</html>", "text/html"));
  server.on("/A.html", Reply::ok("<html>UPPER</html>", "text/html"));
  server.on("/Old", Reply::redirect(301, "/old"));
  server.on("/old", Reply::ok("<html>moved here</html>", "text/html"));
  TempDir tmp("pages");
  const std::string archive = (tmp / "archive").string();
  std::string out;
  ASSERT_EQ(
      run_vellum({"--archive", archive, "archive", "--no-extract", server.url("/a.html")}, &out), 0)
      << out;
  ASSERT_EQ(run_vellum({"--archive", archive, "archive", "--no-extract", server.url("/A.html"),
                        server.url("/Old")},
                       &out),
            0)
      << out;
  auto restore = [&](const std::string& ref) {
    std::string page;
    EXPECT_EQ(run_vellum({"--archive", archive, "restore", ref, "--format", "html"}, &page), 0)
        << page;
    return page;
  };
  EXPECT_EQ(restore(server.url("/a.html")), "<html>lower</html>");
  EXPECT_EQ(restore(server.url("/A.html")), "<html>UPPER</html>");
  EXPECT_EQ(restore(server.url("/Old")), "<html>moved here</html>");
  EXPECT_EQ(restore(server.url("/old")), "<html>moved here</html>");

  ASSERT_EQ(run_vellum({"--archive", archive, "--json", "history", server.url("/a.html")}, &out),
            0);
  std::istringstream rows(out);
  int n = 0;
  for (std::string line; std::getline(rows, line); ++n)
    EXPECT_EQ(json::parse(line)["url"], server.url("/a.html")) << line;
  EXPECT_EQ(n, 1) << out;

  // A URL never captured itself gets the capture of its key, and is told so.
  auto [rc, both] = shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive) +
                          " restore " + shell_quote(server.url("/a.HTML")) + " --format html 2>&1");
  EXPECT_EQ(rc, 0) << both;
  EXPECT_NE(both.find("no capture of " + server.url("/a.HTML") + " itself"), std::string::npos)
      << both;
}

// A URL list may note why a URL is there: white space then '#' starts a comment, on a line of
// its own or after the URL.
TEST(CliPages, CommentsInAUrlListAreSkipped) {
  TestHttpServer server;
  server.on("/c.html", Reply::ok("<html>c</html>", "text/html"));
  server.on("/d.html", Reply::ok("<html>d</html>", "text/html"));
  TempDir tmp("url-list");
  const std::string list = (tmp / "urls.txt").string();
  write_file(list, "# pages to keep\n" + server.url("/c.html") + "   # the c page\n" +
                       server.url("/d.html") + "\t#d\n\n   # done\n");
  std::string out;
  ASSERT_EQ(run_vellum({"--archive", (tmp / "archive").string(), "--json", "archive",
                        "--no-extract", "-i", list},
                       &out),
            0)
      << out;
  std::istringstream lines(out);
  std::vector<std::string> urls;
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line);
    EXPECT_EQ(j["status"], 200) << line;
    urls.push_back(j["url"]);
  }
  std::sort(urls.begin(), urls.end());
  EXPECT_EQ(urls, (std::vector<std::string>{server.url("/c.html"), server.url("/d.html")}));
}

// A gzip-encoded page cut at --max-size restores as far as its coded data goes, with a warning,
// instead of nothing.
TEST(CliFaults, ATruncatedGzipPageRestoresItsStart) {
  std::string html = "<html><head><title>Long</title></head><body>";
  for (int i = 0; i < 4000; ++i)
    html += "<p>Paragraph " + std::to_string(i * 7919 % 10007) + "</p>";
  html += "</body></html>";
  TestHttpServer server;
  server.on("/long", Reply::ok(gzip_of({{html, 1}}), "text/html", {"Content-Encoding: gzip"}));
  TempDir tmp("cut-gzip");
  const std::string archive = (tmp / "archive").string();
  ASSERT_EQ(run_vellum({"--archive", archive, "archive", "--no-extract", "--max-size", "4000",
                        server.url("/long")}),
            0);
  std::string out;
  ASSERT_EQ(
      run_vellum({"--archive", archive, "restore", server.url("/long"), "--format", "html"}, &out),
      0);
  ASSERT_GT(out.size(), 4000u) << "the start that decodes, larger than its coded bytes";
  EXPECT_LT(out.size(), html.size());
  EXPECT_EQ(out, html.substr(0, out.size()));
}

// A redirect whose target could not be captured restores as the redirect's own (empty) body,
// and says so instead of writing nothing without a word.
TEST(CliFaults, ARedirectWhoseTargetWasNotCapturedSaysSo) {
  TestHttpServer server;
  server.on("/moved", Reply::redirect(302, "http://127.0.0.1:1/gone"));
  TempDir tmp("uncaptured-target");
  const std::string archive = (tmp / "archive").string();
  EXPECT_NE(run_vellum({"--archive", archive, "archive", "--no-extract", server.url("/moved")}), 0);
  auto [rc, out] =
      shell(shell_quote(VELLUM_CLI_PATH) + " --archive " + shell_quote(archive) + " restore " +
            shell_quote(server.url("/moved")) + " --format html 2>&1 >/dev/null");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("is an HTTP 302 redirect to http://127.0.0.1:1/gone, which was not captured; "
                     "this is the redirect's own body (0 bytes)"),
            std::string::npos)
      << out;
}
