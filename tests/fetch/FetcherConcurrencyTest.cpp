// Fetcher with many transfers: isolation of failures, queueing, connection reuse, shutdown.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fetch/Fetcher.h"
#include "support/TestHttpServer.h"

namespace vellum::fetch {
namespace {

using namespace std::chrono_literals;
using test::Reply;
using test::TestHttpServer;

constexpr auto kFailsafe = 20s;

FetchOptions quick_options(int concurrency) {
  FetchOptions o;
  o.concurrency = concurrency;
  o.connect_timeout = 2000ms;
  o.total_timeout = 2000ms;
  o.low_speed_window = 10s;
  return o;
}

TEST(FetcherConcurrency, MixedGoodAndBadUrls) {
  TestHttpServer server;
  server.on("/good/*", [](const test::ReceivedRequest& req) {
    Reply r = Reply::ok("body of " + req.target);
    r.delay = 10ms;
    return r;
  });
  server.on("/bad-status", Reply::raw("HTTP/1.1 OK\r\nContent-Length: 2\r\n\r\nok"));
  server.on("/closed", Reply::partial(100, std::string(10, 'c'), Reply::Then::kClose));
  server.on("/stall", Reply::partial(100, std::string(7, 's'), Reply::Then::kStall));
  server.on("/loop", Reply::redirect(302, "/loop"));
  const std::string refused = "http://127.0.0.1:" + std::to_string(test::unused_port()) + "/";

  struct Case {
    std::string url;
    std::string expected_error;  // empty: must succeed
  };
  std::vector<Case> cases;
  for (int i = 0; i < 30; ++i) {
    switch (i % 3 == 0 ? (i / 3) % 6 : -1) {
      case 0:
        cases.push_back({refused, "connection refused by 127.0.0.1:"});
        break;
      case 1:
        cases.push_back({server.url("/bad-status"), "server sent a malformed status line"});
        break;
      case 2:
        cases.push_back({server.url("/closed"), "connection closed after 10 of 100 body bytes"});
        break;
      case 3:
        cases.push_back({"ftp://127.0.0.1/" + std::to_string(i), "not an http(s) URL: "});
        break;
      case 4:
        cases.push_back({server.url("/loop"), "redirect loop: "});
        break;
      case 5:
        cases.push_back({server.url("/stall"), "timed out after 1000 ms (7 of 100 body bytes"});
        break;
      default:
        cases.push_back({server.url("/good/" + std::to_string(i)), ""});
        break;
    }
  }

  boost::asio::io_context io;
  FetchOptions o = quick_options(4);
  o.total_timeout = 1000ms;
  Fetcher fetcher(io, o);
  std::vector<int> calls(cases.size(), 0);
  std::vector<std::optional<FetchResult>> results(cases.size());
  std::size_t max_in_flight = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    fetcher.fetch(cases[i].url, [&, i](FetchResult r) {
      ++calls[i];
      results[i] = std::move(r);
      max_in_flight = std::max(max_in_flight, fetcher.in_flight());
    });
  }
  EXPECT_EQ(fetcher.queued(), cases.size());
  io.run_for(kFailsafe);

  for (std::size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].url);
    ASSERT_EQ(calls[i], 1);
    const FetchResult& r = *results[i];
    EXPECT_EQ(r.url, cases[i].url);
    if (cases[i].expected_error.empty()) {
      ASSERT_TRUE(r.ok()) << r.error;
      ASSERT_EQ(r.hops.size(), 1u);
      EXPECT_EQ(r.hops[0].response_body, "body of /good/" + std::to_string(i));
    } else {
      EXPECT_EQ(r.error.rfind(cases[i].expected_error, 0), 0u) << r.error;
    }
  }
  EXPECT_LE(max_in_flight, 4u);
  EXPECT_EQ(fetcher.in_flight(), 0u);
  EXPECT_EQ(fetcher.queued(), 0u);
}

TEST(FetcherConcurrency, ReusesConnections) {
  TestHttpServer server;
  server.on("/k/*", [](const test::ReceivedRequest& req) { return Reply::ok(req.target); });
  boost::asio::io_context io;
  Fetcher fetcher(io, quick_options(1));
  std::vector<std::string> order;
  for (int i = 0; i < 10; ++i) {
    fetcher.fetch(server.url("/k/" + std::to_string(i)), [&](FetchResult r) {
      EXPECT_TRUE(r.ok()) << r.error;
      if (!r.hops.empty()) order.push_back(r.hops[0].response_body);
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  io.run_for(kFailsafe);
  // The loop runs out of work once everything is done, although a connection stays cached.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  ASSERT_EQ(order.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(order[i], "/k/" + std::to_string(i));  // FIFO
  EXPECT_EQ(server.connections_accepted(), 1u);
  EXPECT_EQ(server.request_count(), 10u);
}

TEST(FetcherConcurrency, RespectsConcurrencyLimit) {
  TestHttpServer server;
  Reply slow = Reply::ok("slow");
  slow.delay = 100ms;
  server.on("/slow/*", slow);
  boost::asio::io_context io;
  Fetcher fetcher(io, quick_options(3));
  int done = 0;
  std::size_t max_in_flight = 0;
  for (int i = 0; i < 12; ++i) {
    fetcher.fetch(server.url("/slow/" + std::to_string(i)), [&](FetchResult r) {
      EXPECT_TRUE(r.ok()) << r.error;
      ++done;
      max_in_flight = std::max(max_in_flight, fetcher.in_flight());
    });
  }
  EXPECT_EQ(fetcher.in_flight(), 0u);  // nothing starts before the loop runs
  EXPECT_EQ(fetcher.queued(), 12u);
  io.run_for(kFailsafe);
  ASSERT_EQ(done, 12);
  EXPECT_LE(server.max_open_connections(), 3u);
  EXPECT_GE(server.max_open_connections(), 2u);  // they did run side by side
  EXPECT_LE(server.connections_accepted(), 3u);  // and reused their connections
  EXPECT_LE(max_in_flight, 3u);
}

TEST(FetcherConcurrency, FetchFromCallbackAndRunAgain) {
  TestHttpServer server;
  server.on("/one", Reply::ok("1"));
  server.on("/two", Reply::ok("2"));
  boost::asio::io_context io;
  Fetcher fetcher(io, quick_options(2));
  std::vector<std::string> got;
  fetcher.fetch(server.url("/one"), [&](FetchResult r) {
    got.push_back(r.ok() ? r.hops[0].response_body : r.error);
    fetcher.fetch(server.url("/two"), [&](FetchResult r2) {
      got.push_back(r2.ok() ? r2.hops[0].response_body : r2.error);
    });
  });
  io.run_for(kFailsafe);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "1");
  EXPECT_EQ(got[1], "2");

  // The same fetcher keeps working after the loop ran dry.
  io.restart();
  fetcher.fetch(server.url("/one"), [&](FetchResult r) { got.push_back(r.error); });
  io.run_for(kFailsafe);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], "");
  EXPECT_EQ(server.connections_accepted(), 1u);
}

std::size_t open_descriptors() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++n;
  return n;
}

TEST(FetcherConcurrency, ClosesEveryDescriptor) {
  const std::size_t before = open_descriptors();
  {
    TestHttpServer server;
    server.on("/ok", Reply::ok("fine"));
    server.on("/reset", Reply::partial(5000, "abc", Reply::Then::kReset));
    server.on("/endless", Reply::endless());
    server.on("/stall", Reply::partial(5000, "abc", Reply::Then::kStall));
    boost::asio::io_context io;
    FetchOptions o = quick_options(3);
    o.max_body_bytes = 50000;
    o.total_timeout = 500ms;
    Fetcher fetcher(io, o);
    int done = 0;
    for (const char* path : {"/ok", "/reset", "/endless", "/stall", "/ok", "/ok"})
      fetcher.fetch(server.url(path), [&](FetchResult) { ++done; });
    fetcher.fetch("http://127.0.0.1:" + std::to_string(test::unused_port()) + "/",
                  [&](FetchResult) { ++done; });
    io.run_for(kFailsafe);
    EXPECT_EQ(done, 7);
    // A fetch still running when the fetcher goes away.
    fetcher.fetch(server.url("/stall"), [&](FetchResult) { ++done; });
    io.restart();
    io.run_for(100ms);
    EXPECT_EQ(fetcher.in_flight(), 1u);
  }
  EXPECT_EQ(open_descriptors(), before);
}

TEST(FetcherConcurrency, DestroyedWithTransfersInFlight) {
  TestHttpServer server;
  server.on("/stall", Reply::partial(100000, std::string(100, 's'), Reply::Then::kStall));
  boost::asio::io_context io;
  int calls = 0;
  {
    Fetcher fetcher(io, quick_options(2));
    for (int i = 0; i < 5; ++i) fetcher.fetch(server.url("/stall"), [&](FetchResult) { ++calls; });
    boost::asio::steady_timer stop(io, 300ms);
    stop.async_wait([&](const boost::system::error_code&) { io.stop(); });
    io.run_for(kFailsafe);
    EXPECT_EQ(fetcher.in_flight(), 2u);
    EXPECT_EQ(fetcher.queued(), 3u);
  }
  // Handlers left in the loop must not touch the destroyed fetcher.
  io.restart();
  io.run_for(200ms);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace vellum::fetch
