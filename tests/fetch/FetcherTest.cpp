// Fetcher against the in-process test server: what gets recorded, redirects, failures.
#include "fetch/Fetcher.h"
#include "util/Text.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/TempDir.h"
#include "support/TestHttpServer.h"

namespace vellum::fetch {
namespace {

using namespace std::chrono_literals;
using test::Reply;
using test::TestHttpServer;

constexpr auto kFailsafe = 20s;

FetchOptions quick_options() {
  FetchOptions o;
  o.concurrency = 4;
  o.connect_timeout = 2000ms;
  o.total_timeout = 2000ms;
  o.low_speed_window = 10s;
  return o;
}

// Fetches one URL and runs the loop until its callback ran (or the failsafe expired).
std::optional<FetchResult> fetch_one(const std::string& url,
                                     FetchOptions options = quick_options()) {
  boost::asio::io_context io;
  Fetcher fetcher(io, std::move(options));
  std::optional<FetchResult> out;
  int calls = 0;
  fetcher.fetch(url, [&](FetchResult r) {
    ++calls;
    out = std::move(r);
  });
  io.run_for(kFailsafe);
  EXPECT_EQ(calls, 1) << url;
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string gzip(const std::string& data) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
            Z_OK);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(Fetcher, RecordsExactHeadAndBinaryBody) {
  TestHttpServer server;
  const std::string body = std::string("bin\0ary\xff\x01\r\n\0", 13) + std::string(3000, '\0');
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nX-Odd:  spaced \r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n";
  server.on("/bin", Reply::raw(head + body));

  const auto before = util::now();
  auto r = fetch_one(server.url("/bin"));
  const auto after = util::now();
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(r->url, server.url("/bin"));
  EXPECT_EQ(r->final_url, server.url("/bin"));
  ASSERT_EQ(r->hops.size(), 1u);
  const Exchange& ex = r->hops[0];
  EXPECT_EQ(ex.url, server.url("/bin"));
  EXPECT_EQ(ex.response_head, head);
  EXPECT_EQ(ex.response_body, body);
  EXPECT_EQ(ex.status, 200);
  EXPECT_EQ(ex.http_version, "1.1");
  EXPECT_EQ(ex.ip, "127.0.0.1");
  EXPECT_FALSE(ex.truncated);
  EXPECT_TRUE(ex.location.empty());
  EXPECT_GE(ex.started, before);
  EXPECT_LE(ex.started, after);
}

TEST(Fetcher, LargeBodyArrivesIntact) {
  TestHttpServer server;
  std::string body(4 << 20, '\0');
  std::uint32_t x = 12345;
  for (char& c : body) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  server.on("/large", Reply::ok(body, "application/octet-stream"));
  auto r = fetch_one(server.url("/large"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_TRUE(r->hops[0].response_body == body);
  EXPECT_FALSE(r->hops[0].truncated);
}

TEST(Fetcher, DrippedResponseArrivesIntact) {
  TestHttpServer server;
  Reply slow = Reply::ok(std::string(3000, 'd'));
  slow.delay = 50ms;
  slow.drip_bytes = 100;
  slow.drip_interval = 5ms;
  server.on("/drip", slow);
  auto r = fetch_one(server.url("/drip"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(r->hops[0].response_body, std::string(3000, 'd'));
}

TEST(Fetcher, RecordsRequestAsSent) {
  TestHttpServer server;
  server.on("/req?q=1", Reply::ok("fine"));
  auto r = fetch_one(server.url("/req?q=1"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 1u);
  const std::string& req = r->hops[0].request;
  EXPECT_EQ(req.rfind("GET /req?q=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
            std::string::npos)
      << req;
  EXPECT_NE(req.find("\r\nUser-Agent: " + default_user_agent() + "\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"), std::string::npos) << req;
  EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
  EXPECT_EQ(default_user_agent().rfind("Vellum/", 0), 0u);
  EXPECT_NE(default_user_agent().find("(+https://github.com/vellum-archive/vellum)"),
            std::string::npos);

  // What was recorded is exactly what the server received.
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].raw, req);
}

TEST(Fetcher, CustomUserAgentAndExtraHeaders) {
  TestHttpServer server;
  server.on("/h", Reply::ok("x"));
  FetchOptions o = quick_options();
  o.user_agent = "TestAgent/1.0";
  o.extra_headers = {{"X-One", "1"}, {"Accept-Language", "en"}};
  auto r = fetch_one(server.url("/h"), o);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].header("User-Agent"), "TestAgent/1.0");
  EXPECT_EQ(seen[0].header("X-One"), "1");
  EXPECT_EQ(seen[0].header("Accept-Language"), "en");
  EXPECT_EQ(seen[0].header("Accept-Encoding"), "gzip, deflate, br, zstd");
}

TEST(Fetcher, ChunkedBodyStoredWithFraming) {
  TestHttpServer server;
  const std::string framed = test::chunked("hello, chunked world", 6);
  server.on("/c", Reply::raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + framed));
  auto r = fetch_one(server.url("/c"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 1u);
  EXPECT_EQ(r->hops[0].response_body, framed);
  EXPECT_EQ(r->hops[0].response_body.rfind("6\r\nhello,\r\n", 0), 0u);
}

TEST(Fetcher, ContentEncodingKept) {
  TestHttpServer server;
  std::string text;
  for (int i = 0; i < 200; ++i) text += "compress me " + std::to_string(i) + "\n";
  const std::string packed = gzip(text);
  server.on("/gz", Reply::ok(packed, "text/plain", {"Content-Encoding: gzip"}));
  auto r = fetch_one(server.url("/gz"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 1u);
  EXPECT_EQ(r->hops[0].response_body, packed);
  EXPECT_NE(r->hops[0].response_head.find("Content-Encoding: gzip\r\n"), std::string::npos);
}

TEST(Fetcher, HeadRestartsAfterInterimResponse) {
  TestHttpServer server;
  const std::string final_head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  server.on("/continue", Reply::raw("HTTP/1.1 100 Continue\r\n\r\n" + final_head + "ok"));
  auto r = fetch_one(server.url("/continue"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 1u);
  EXPECT_EQ(r->hops[0].response_head, final_head);
  EXPECT_EQ(r->hops[0].response_body, "ok");
  EXPECT_EQ(r->hops[0].status, 200);
}

TEST(Fetcher, FollowsRedirectsHopByHop) {
  TestHttpServer server;
  server.on("/r1", Reply::redirect(302, "/r2?x=1"));                 // relative
  server.on("/r2?x=1", Reply::redirect(301, server.url("/final")));  // absolute
  server.on("/final", Reply::ok("landed"));
  auto r = fetch_one(server.url("/r1"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 3u);
  EXPECT_EQ(r->hops[0].url, server.url("/r1"));
  EXPECT_EQ(r->hops[0].status, 302);
  EXPECT_EQ(r->hops[0].location, server.url("/r2?x=1"));
  EXPECT_EQ(r->hops[1].url, server.url("/r2?x=1"));
  EXPECT_EQ(r->hops[1].status, 301);
  EXPECT_EQ(r->hops[1].location, server.url("/final"));
  EXPECT_EQ(r->hops[2].url, server.url("/final"));
  EXPECT_EQ(r->hops[2].status, 200);
  EXPECT_TRUE(r->hops[2].location.empty());
  EXPECT_EQ(r->hops[2].response_body, "landed");
  EXPECT_EQ(r->url, server.url("/r1"));
  EXPECT_EQ(r->final_url, server.url("/final"));
  EXPECT_EQ(r->hops[1].request.rfind("GET /r2?x=1 HTTP/1.1\r\n", 0), 0u);
  EXPECT_LE(r->hops[0].started, r->hops[1].started);
  EXPECT_LE(r->hops[1].started, r->hops[2].started);
}

// A fragment is never sent, so it is not part of the URI each hop records (WARC-Target-URI),
// whether it was in the URL given or in a Location.
TEST(Fetcher, FragmentsAreNotPartOfTheUriRequested) {
  TestHttpServer server;
  server.on("/start", Reply::redirect(302, "/next#section-2"));
  server.on("/next", Reply::ok("landed"));
  auto r = fetch_one(server.url("/start#top"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 2u);
  EXPECT_EQ(r->hops[0].url, server.url("/start"));
  EXPECT_EQ(r->hops[0].request.rfind("GET /start HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(r->hops[1].url, server.url("/next"));
  EXPECT_EQ(r->hops[1].request.rfind("GET /next HTTP/1.1\r\n", 0), 0u);
  EXPECT_EQ(r->final_url, server.url("/next"));
}

// curl is given the URL a browser would send, so that the request line on the wire and the URI
// each hop records (WARC-Target-URI) are the same: dot segments resolved, spaces and non-ASCII
// bytes percent-encoded, scheme and host in lower case, whether typed or in a Location.
TEST(Fetcher, TheUriRecordedIsTheOneSent) {
  TestHttpServer server;
  server.on("/x", Reply::redirect(302, "/d/../caf\xc3\xa9 menu?q=\xc3\xbc"));
  server.on("/caf*", Reply::ok("landed"));
  std::string typed = server.url("/a/../x");
  typed.replace(0, 4, "HTTP");
  auto r = fetch_one(typed);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 2u);
  EXPECT_EQ(r->url, typed);
  EXPECT_EQ(r->hops[0].url, server.url("/x"));
  EXPECT_EQ(r->hops[0].request.rfind("GET /x HTTP/1.1\r\n", 0), 0u);
  // libcurl encodes the Location with lower-case hex; either case means the same (RFC 3986,
  // 6.2.2.1), and the record names exactly what was sent.
  const std::string target = r->hops[1].request.substr(4, r->hops[1].request.find(' ', 4) - 4);
  EXPECT_EQ(r->hops[1].url, server.url(target));
  EXPECT_EQ(vellum::util::to_lower(target), "/caf%c3%a9%20menu?q=%c3%bc");
  EXPECT_EQ(r->hops[1].response_body, "landed");
  EXPECT_EQ(r->final_url, r->hops[1].url);
}

TEST(Fetcher, RedirectLoopIsAnError) {
  TestHttpServer server;
  server.on("/a", Reply::redirect(302, "/b"));
  server.on("/b", Reply::redirect(302, "/a"));
  auto r = fetch_one(server.url("/a"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "redirect loop: " + server.url("/a") + " -> " + server.url("/b") + " -> " +
                          server.url("/a"));
  EXPECT_EQ(r->failure, FetchResult::Failure::kPermanent);
  EXPECT_EQ(r->hops.size(), 2u);  // both completed hops are kept
  EXPECT_EQ(server.request_count(), 2u);
}

TEST(Fetcher, TooManyRedirects) {
  TestHttpServer server;
  server.on("/n/*", [&](const test::ReceivedRequest& req) {
    int n = std::stoi(req.target.substr(3));
    return Reply::redirect(302, "/n/" + std::to_string(n + 1));
  });
  FetchOptions o = quick_options();
  o.max_redirects = 3;
  auto r = fetch_one(server.url("/n/0"), o);
  ASSERT_TRUE(r);
  // The message names the whole chain, from the URL asked for.
  EXPECT_EQ(r->error, "too many redirects (3): " + server.url("/n/0") + " -> " +
                          server.url("/n/1") + " -> " + server.url("/n/2") + " -> " +
                          server.url("/n/3") + " -> " + server.url("/n/4"));
  EXPECT_EQ(r->failure, FetchResult::Failure::kPermanent);
  EXPECT_EQ(r->hops.size(), 4u);  // the first request and three redirects followed
  EXPECT_EQ(server.request_count(), 4u);
  EXPECT_EQ(r->final_url, server.url("/n/3"));
}

TEST(Fetcher, RedirectToOtherSchemeIsAnError) {
  TestHttpServer server;
  server.on("/away", Reply::redirect(302, "ftp://127.0.0.1/file"));
  auto r = fetch_one(server.url("/away"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "redirect to a non-http(s) URL: ftp://127.0.0.1/file");
  EXPECT_EQ(r->hops.size(), 1u);
}

TEST(Fetcher, RejectsNonHttpUrls) {
  for (const std::string url : {"ftp://127.0.0.1/x", "not a url", "file:///etc/passwd"}) {
    auto r = fetch_one(url);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "not an http(s) URL: " + url);
    EXPECT_EQ(r->failure, FetchResult::Failure::kPermanent);
    EXPECT_TRUE(r->hops.empty());
  }
}

TEST(Fetcher, ConnectionRefused) {
  const std::uint16_t port = test::unused_port();
  auto r = fetch_one("http://127.0.0.1:" + std::to_string(port) + "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "connection refused by 127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r->failure, FetchResult::Failure::kTransient);
  EXPECT_TRUE(r->hops.empty());
}

TEST(Fetcher, ConnectTimeout) {
  test::SaturatedListener listener;
  FetchOptions o = quick_options();
  o.connect_timeout = 500ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = fetch_one("http://127.0.0.1:" + std::to_string(listener.port()) + "/", o);
  const double took = seconds_since(t0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "connection to 127.0.0.1:" + std::to_string(listener.port()) +
                          " timed out after 500 ms");
  EXPECT_GE(took, 0.4);
  EXPECT_LT(took, 4.0);  // on time, with room for a loaded machine
}

TEST(Fetcher, MalformedUrl) {
  for (const std::string url : {"http:///nohost", "http://127.0.0.1:99999/"}) {
    auto r = fetch_one(url);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "malformed URL '" + url + "'");
  }
}

TEST(Fetcher, NothingOrHalfAHeadIsAnError) {
  TestHttpServer server;
  server.on("/nothing", Reply::raw("", Reply::Then::kClose));
  server.on("/half", Reply::raw("HTTP/1.1 200 OK\r\nContent-Le", Reply::Then::kClose));
  // Line ends of a carriage return alone: HTTP's lines end in a line feed, so none came.
  server.on("/cr", Reply::raw("HTTP/1.1 200 OK\rContent-Length: 5\r\rhello", Reply::Then::kClose));
  for (const char* path : {"/nothing", "/cr"}) {
    auto r = fetch_one(server.url(path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "server closed the connection without sending a status line") << path;
    EXPECT_TRUE(r->hops.empty()) << path;
  }
  auto half = fetch_one(server.url("/half"));
  ASSERT_TRUE(half);
  EXPECT_EQ(half->error, "connection closed before the end of the response head");
  EXPECT_TRUE(half->hops.empty());
}

TEST(Fetcher, MalformedChunkedBody) {
  TestHttpServer server;
  server.on(
      "/badchunk",
      Reply::raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"));
  auto r = fetch_one(server.url("/badchunk"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error.rfind("server sent a malformed chunked body: ", 0), 0u) << r->error;
}

TEST(Fetcher, RetryOnDeadReusedConnectionRecordsOneRequest) {
  TestHttpServer server;
  server.on("/first", Reply::ok("one"));
  std::atomic<int> second_calls{0};
  server.on("/second", [&](const test::ReceivedRequest&) {
    // The first time, hang up on the reused connection without answering.
    if (second_calls++ == 0) return Reply::raw("", Reply::Then::kClose);
    return Reply::ok("two");
  });
  boost::asio::io_context io;
  FetchOptions o = quick_options();
  o.concurrency = 1;
  Fetcher fetcher(io, o);
  std::vector<FetchResult> results;
  for (const char* path : {"/first", "/second"})
    fetcher.fetch(server.url(path), [&](FetchResult r) { results.push_back(std::move(r)); });
  io.run_for(kFailsafe);
  ASSERT_EQ(results.size(), 2u);
  ASSERT_TRUE(results[1].ok()) << results[1].error;
  ASSERT_EQ(results[1].hops.size(), 1u);
  const std::string& req = results[1].hops[0].request;
  EXPECT_EQ(req.rfind("GET /second HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_EQ(req.find("GET", 1), std::string::npos) << req;
  EXPECT_EQ(results[1].hops[0].response_body, "two");
  EXPECT_EQ(second_calls.load(), 2);
  EXPECT_EQ(server.connections_accepted(), 2u);
}

TEST(Fetcher, ConnectionClosedMidBody) {
  TestHttpServer server;
  server.on("/short", Reply::partial(5000, std::string(1000, 'a'), Reply::Then::kClose));
  auto r = fetch_one(server.url("/short"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "connection closed after 1000 of 5000 body bytes");
  EXPECT_TRUE(r->hops.empty());
}

TEST(Fetcher, ConnectionResetMidBody) {
  TestHttpServer server;
  server.on("/reset", Reply::partial(5000, std::string(1000, 'a'), Reply::Then::kReset));
  server.on("/after", Reply::ok("still fine"));
  auto r = fetch_one(server.url("/reset"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_TRUE(r->error.find("reset") != std::string::npos ||
              r->error.find("closed") != std::string::npos)
      << r->error;
  EXPECT_EQ(r->error.find('\n'), std::string::npos);
  EXPECT_TRUE(r->hops.empty());
  auto again = fetch_one(server.url("/after"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->ok()) << again->error;
}

TEST(Fetcher, StalledBodyTimesOut) {
  TestHttpServer server;
  server.on("/stall", Reply::partial(100000, std::string(1234, 's'), Reply::Then::kStall));
  FetchOptions o = quick_options();
  o.total_timeout = 1000ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = fetch_one(server.url("/stall"), o);
  const double took = seconds_since(t0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "timed out after 1000 ms (1234 of 100000 body bytes received)");
  EXPECT_GE(took, 0.9);
  EXPECT_LT(took, 5.0);  // on time, with room for a loaded machine
}

TEST(Fetcher, LowSpeedWindowEndsStalledTransfer) {
  TestHttpServer server;
  // Curl averages the rate over a few seconds, so a stall right after the head is quickest.
  server.on("/slow", Reply::partial(100000, "", Reply::Then::kStall));
  FetchOptions o = quick_options();
  o.total_timeout = 10s;
  o.low_speed_window = 1s;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = fetch_one(server.url("/slow"), o);
  const double took = seconds_since(t0);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "stalled: under 1 byte/s for 1000 ms (0 of 100000 body bytes received)");
  EXPECT_LT(took, 8.0);  // well before the 10 s total timeout
}

TEST(Fetcher, EndlessBodyIsTruncatedAtTheCap) {
  TestHttpServer server;
  server.on("/endless", Reply::endless(std::string(7000, 'e')));
  FetchOptions o = quick_options();
  o.max_body_bytes = 100000;
  auto r = fetch_one(server.url("/endless"), o);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 1u);
  EXPECT_TRUE(r->hops[0].truncated);
  EXPECT_EQ(r->hops[0].response_body, std::string(100000, 'e'));
  EXPECT_EQ(r->hops[0].status, 200);
}

TEST(Fetcher, BodyExactlyAtTheCapIsNotTruncated) {
  TestHttpServer server;
  server.on("/fits", Reply::ok(std::string(4096, 'f')));
  FetchOptions o = quick_options();
  o.max_body_bytes = 4096;
  auto r = fetch_one(server.url("/fits"), o);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_FALSE(r->hops[0].truncated);
  EXPECT_EQ(r->hops[0].response_body.size(), 4096u);
}

TEST(Fetcher, MalformedStatusLine) {
  TestHttpServer server;
  server.on("/m1", Reply::raw("HTXP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  server.on("/m2", Reply::raw("HTTP/1.1 2x0 OK\r\nContent-Length: 2\r\n\r\nok"));
  server.on("/m3", Reply::raw("garbage\r\n\r\n", Reply::Then::kClose));
  for (const char* path : {"/m1", "/m2", "/m3"}) {
    auto r = fetch_one(server.url(path));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->error, "server sent a malformed status line") << path;
  }
}

// libcurl refuses a header line over 100 KiB with the code it uses for running out of memory;
// the reason says what the server sent.
TEST(Fetcher, OverlongHeaderLineIsNamed) {
  TestHttpServer server;
  server.on("/big", Reply::raw("HTTP/1.1 200 OK\r\nX-Big: " + std::string(200'000, 'a') +
                               "\r\nContent-Length: 2\r\n\r\nok"));
  auto r = fetch_one(server.url("/big"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error,
            "server sent a response header line longer than libcurl reads (102400 bytes)");
}

TEST(Fetcher, AddressFilterRefuses) {
  TestHttpServer server;
  server.on("/", Reply::ok("secret"));
  std::vector<std::string> asked;
  FetchOptions o = quick_options();
  o.address_filter = [&](const sockaddr* sa) {
    if (sa->sa_family != AF_INET) return false;
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    asked.push_back(std::to_string(ntohs(in->sin_port)));
    return ntohl(in->sin_addr.s_addr) != INADDR_LOOPBACK;
  };
  auto r = fetch_one(server.url("/"), o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error, "refused to connect to 127.0.0.1: address not allowed");
  EXPECT_EQ(r->failure, FetchResult::Failure::kRefused);
  EXPECT_TRUE(r->hops.empty());
  EXPECT_EQ(server.connections_accepted(), 0u);
  ASSERT_FALSE(asked.empty());
  EXPECT_EQ(asked[0], std::to_string(server.port()));

  o.address_filter = [](const sockaddr*) { return true; };
  auto allowed = fetch_one(server.url("/"), o);
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed->ok()) << allowed->error;
}

TEST(Fetcher, ResolveEntriesMapMadeUpHosts) {
  TestHttpServer server;
  server.on("/named", Reply::ok("by name"));
  const std::string port = std::to_string(server.port());
  FetchOptions o = quick_options();
  o.resolve = {"example.test:" + port + ":127.0.0.1"};
  auto r = fetch_one("http://example.test:" + port + "/named", o);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(r->hops[0].ip, "127.0.0.1");
  EXPECT_EQ(r->hops[0].response_body, "by name");
  auto seen = server.requests();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].header("Host"), "example.test:" + port);
  EXPECT_NE(seen[0].raw.find("\r\nHost: example.test:" + port + "\r\n"), std::string::npos);
}

// An internationalised host is sent, resolved and recorded in its ASCII form, whichever form the
// URL and the --resolve entry give.
TEST(Fetcher, InternationalHostIsSentAndRecordedInAsciiForm) {
  TestHttpServer server;
  server.on("/idn", Reply::ok("international"));
  const std::string port = std::to_string(server.port());
  for (const std::string entry : {"B\xc3\xbc"
                                  "cher.example",
                                  "xn--bcher-kva.example",
                                  "+b\xc3\xbc"
                                  "cher.example"}) {
    FetchOptions o = quick_options();
    o.resolve = {entry + ":" + port + ":127.0.0.1"};
    auto r = fetch_one(
        "http://b\xc3\xbc"
        "cher.EXAMPLE:" +
            port + "/idn",
        o);
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->ok()) << entry << ": " << r->error;
    EXPECT_EQ(r->hops[0].url, "http://xn--bcher-kva.example:" + port + "/idn");
    EXPECT_EQ(r->final_url, r->hops[0].url);
    EXPECT_NE(r->hops[0].request.find("\r\nHost: xn--bcher-kva.example:" + port + "\r\n"),
              std::string::npos)
        << r->hops[0].request;
  }
  // A request's own headers go to the host it names in either form.
  {
    FetchOptions o = quick_options();
    o.resolve = {"xn--bcher-kva.example:" + port + ":127.0.0.1"};
    boost::asio::io_context io;
    Fetcher fetcher(io, o);
    RequestOptions req;
    req.headers = {{"X-Token", "t0k"}};
    std::optional<FetchResult> got;
    fetcher.fetch(
        "http://b\xc3\xbc"
        "cher.example:" +
            port + "/idn",
        req, [&](FetchResult r) { got = std::move(r); });
    io.run_for(kFailsafe);
    ASSERT_TRUE(got && got->ok());
    ASSERT_FALSE(server.requests().empty());
    EXPECT_EQ(server.requests().back().header("X-Token"), "t0k");
  }
  auto bad = fetch_one(
      "http://\xcc\x81"
      "ab.example:" +
      port + "/idn");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->error.rfind("malformed URL 'http://\xcc\x81"
                             "ab.example:" +
                                 port + "/idn': not a valid internationalised domain name (",
                             0),
            0u)
      << bad->error;
  EXPECT_EQ(server.requests().size(), 4u);
}

TEST(Fetcher, TlsHandshakeFailure) {
  TestHttpServer server;  // speaks plain HTTP: the TLS hello gets a 400 back
  auto r = fetch_one("https://127.0.0.1:" + std::to_string(server.port()) + "/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->error.rfind("TLS handshake failed: ", 0), 0u) << r->error;
  EXPECT_GT(r->error.size(), std::string("TLS handshake failed: ").size());
}

// A source's own headers and cookies go to its site, and not to a site it redirects to; the
// body cap of one request overrides the fetcher's.
TEST(Fetcher, RequestHeadersStayOnTheirOriginAndCookiesComeFromTheFile) {
  TestHttpServer site, other;
  site.on("/start", Reply::redirect(302, other.url("/elsewhere")));
  site.on("/big", Reply::ok(std::string(10'000, 'b')));
  other.on("/elsewhere", Reply::ok("there"));
  test::TempDir tmp("cookies");
  auto cookies = tmp / "cookies.txt";
  test::write_file(cookies, "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tabc123\n");

  boost::asio::io_context io;
  Fetcher fetcher(io, quick_options());
  RequestOptions req;
  req.headers = {{"X-Token", "t0k"}};
  req.cookie_file = cookies.string();
  std::vector<FetchResult> results;
  fetcher.fetch(site.url("/start"), req, [&](FetchResult r) { results.push_back(std::move(r)); });
  RequestOptions small;
  small.max_body_bytes = 1000;
  fetcher.fetch(site.url("/big"), small, [&](FetchResult r) { results.push_back(std::move(r)); });
  io.run_for(kFailsafe);
  ASSERT_EQ(results.size(), 2u);

  auto first = site.requests_for("/start");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].header("X-Token"), "t0k");
  EXPECT_EQ(first[0].header("Cookie"), "sid=abc123");
  auto hop = other.requests_for("/elsewhere");
  ASSERT_EQ(hop.size(), 1u);
  EXPECT_FALSE(hop[0].has_header("X-Token")) << "a source header leaked to another site";

  const FetchResult& big = results[0].url == site.url("/big") ? results[0] : results[1];
  ASSERT_EQ(big.hops.size(), 1u);
  EXPECT_TRUE(big.hops[0].truncated);
  EXPECT_EQ(big.hops[0].response_body.size(), 1000u);
}

}  // namespace
}  // namespace vellum::fetch

namespace vellum::fetch {
namespace {

using test::Reply;
using test::TestHttpServer;

// Chunk sizes of up to 16 digits (leading zeros), as libcurl reads them, and nothing after the
// chunked message's end: the bytes that follow on the connection are not the response.
TEST(Fetcher, ChunkedMessageEndsWhereItsFramingSays) {
  TestHttpServer server;
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string framed = "000000000000000B\r\nhello world\r\n0\r\n\r\n";
  server.on("/zeros", Reply::raw(head + framed));
  server.on("/excess", Reply::raw(head + framed + "HTTP/1.1 200 OK\r\n\r\nSMUGGLED"));
  for (const char* path : {"/zeros", "/excess"}) {
    auto r = fetch_one(server.url(path));
    ASSERT_TRUE(r);
    ASSERT_TRUE(r->ok()) << r->error;
    EXPECT_EQ(r->hops[0].response_body, framed) << path;
  }
}

// A status line in another case after an interim response starts the head again, and the
// status recorded is the head's.
TEST(Fetcher, FinalHeadInLowerCaseAfterInterimResponse) {
  TestHttpServer server;
  const std::string final_head = "http/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\n";
  server.on("/lc", Reply::raw("HTTP/1.1 100 Continue\r\n\r\n" + final_head + "no"));
  auto r = fetch_one(server.url("/lc"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  EXPECT_EQ(r->hops[0].response_head, final_head);
  EXPECT_EQ(r->hops[0].status, 404);
}

// Content-Length fields that disagree are an error (RFC 9112, 6.3), not a shorter body.
TEST(Fetcher, ConflictingContentLengthsAreAnError) {
  TestHttpServer server;
  server.on("/cl", Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Length: 5\r\n\r\n"
                              "hello world"));
  server.on("/same", Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello"));
  auto r = fetch_one(server.url("/cl"));
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->ok());
  EXPECT_EQ(r->error,
            "conflicting Content-Length fields: 11 and 5 (a response must give one length)");
  auto same = fetch_one(server.url("/same"));
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->ok()) << same->error;
  // The first length's worth sent, then the connection kept open: failed at the head, with its
  // reason, not after waiting out the timeout for the longer length.
  server.on("/wait", Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n"
                                "hello",
                                Reply::Then::kStall));
  const auto started = std::chrono::steady_clock::now();
  auto wait = fetch_one(server.url("/wait"));
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->error,
            "conflicting Content-Length fields: 5 and 7 (a response must give one length)");
  EXPECT_LT(seconds_since(started), 1.5) << "waited for the timeout (2 s)";
}

// A Location is resolved as a browser resolves it: a space in the query is %20 (not '+'), a
// backslash in the path is a slash, and a 304 is no redirect.
TEST(Fetcher, LocationResolvedAsABrowserDoes) {
  TestHttpServer server;
  server.on("/space", Reply::raw("HTTP/1.1 302 Found\r\nLocation: /to?a b\r\nContent-Length: "
                                 "0\r\n\r\n"));
  server.on("/to?a%20b", Reply::ok("spaced"));
  server.on("/slash",
            Reply::raw("HTTP/1.1 302 Found\r\nLocation: \\\\127.0.0.1:" +
                       std::to_string(server.port()) + "\\to2\r\nContent-Length: 0\r\n\r\n"));
  server.on("/to2", Reply::ok("slashed"));
  server.on("/nm", Reply::raw("HTTP/1.1 304 Not Modified\r\nLocation: /to2\r\n\r\n"));
  auto r = fetch_one(server.url("/space"));
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->ok()) << r->error;
  ASSERT_EQ(r->hops.size(), 2u);
  EXPECT_EQ(r->hops[0].location, server.url("/to?a%20b"));
  EXPECT_EQ(r->hops[1].response_body, "spaced");
  auto b = fetch_one(server.url("/slash"));
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->ok()) << b->error;
  ASSERT_EQ(b->hops.size(), 2u);
  EXPECT_EQ(b->hops[1].url, server.url("/to2"));
  auto nm = fetch_one(server.url("/nm"));
  ASSERT_TRUE(nm);
  ASSERT_TRUE(nm->ok()) << nm->error;
  EXPECT_EQ(nm->hops.size(), 1u);
  EXPECT_TRUE(nm->hops[0].location.empty());
}

}  // namespace
}  // namespace vellum::fetch
