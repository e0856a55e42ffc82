// The metrics endpoint (HTTP on loopback) and the exposition text builder.
#include "daemon/MetricsServer.h"
#include "daemon/PumpUntil.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cmath>
#include <future>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

namespace vellum::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kClientTimeoutS = 5;

using test::pump;

// Sends `request` to the loopback port and returns everything the server sent until it closed
// (empty when the connection failed). Blocking, with timeouts: run it on another thread.
std::string exchange(unsigned short port, const std::string& request, bool v6 = false) {
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{kClientTimeoutS, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc;
  if (v6) {
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(port);
    a.sin6_addr = in6addr_loopback;
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  std::string out;
  if (rc == 0) {
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
      out.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string get(boost::asio::io_context& io, unsigned short port, const std::string& request,
                bool v6 = false) {
  auto f = std::async(std::launch::async, [=] { return exchange(port, request, v6); });
  return pump(io, f);
}

std::string body_of(const std::string& response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response.substr(end + 4);
}

std::string sample_page() {
  MetricsText m;
  m.add_counter("vellum_captures_total", "Captures stored.", 12);
  m.add_gauge("vellum_fetches_in_flight", "Fetches running now.", 3);
  return m.str();
}

TEST(MetricsServer, ServesMetricsWithTheExpositionContentType) {
  boost::asio::io_context io;
  int renders = 0;
  MetricsServer server(io, "127.0.0.1:0", [&] {
    ++renders;
    return sample_page();
  });
  server.start();
  ASSERT_NE(server.port(), 0);

  std::string r = get(io, server.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r;
  EXPECT_NE(r.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << r;
  EXPECT_NE(r.find("\r\nContent-Length: " + std::to_string(sample_page().size()) + "\r\n"),
            std::string::npos);
  EXPECT_EQ(body_of(r), sample_page());
  EXPECT_EQ(renders, 1);

  // A query string is ignored; HEAD has the headers only.
  EXPECT_EQ(body_of(get(io, server.port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n")), sample_page());
  std::string head = get(io, server.port(), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(body_of(head), "");
}

TEST(MetricsServer, OtherPathsAndMethodsAreRefused) {
  boost::asio::io_context io;
  MetricsServer server(io, "127.0.0.1:0", sample_page);
  server.start();
  EXPECT_EQ(get(io, server.port(), "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0), 0u);
  EXPECT_EQ(get(io, server.port(), "GET /metrics/x HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 ", 0),
            0u);
  std::string post = get(io, server.port(), "POST /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(post.rfind("HTTP/1.1 405 ", 0), 0u) << post;
  EXPECT_NE(post.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(get(io, server.port(), "nonsense\r\n\r\n").rfind("HTTP/1.1 400 ", 0), 0u);
}

TEST(MetricsServer, OversizeHeadIsRefused) {
  boost::asio::io_context io;
  MetricsServer server(io, "127.0.0.1:0", sample_page);
  server.start();
  std::string request = "GET /metrics HTTP/1.1\r\nX-Filler: " + std::string(9000, 'a') + "\r\n\r\n";
  EXPECT_EQ(get(io, server.port(), request).rfind("HTTP/1.1 431 ", 0), 0u);
}

TEST(MetricsServer, RenderFailureIs500) {
  boost::asio::io_context io;
  MetricsServer server(io, "127.0.0.1:0",
                       []() -> std::string { throw std::runtime_error("index unavailable"); });
  server.start();
  EXPECT_EQ(get(io, server.port(), "GET /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 500 ", 0), 0u);
}

TEST(MetricsServer, SlowClientsAreClosed) {
  boost::asio::io_context io;
  MetricsServerOptions options;
  options.client_timeout = 200ms;
  MetricsServer server(io, "127.0.0.1:0", sample_page, options);
  server.start();
  const auto t0 = Clock::now();
  std::string r = get(io, server.port(), "GET /metr");  // never finishes its request
  auto elapsed = Clock::now() - t0;
  EXPECT_EQ(r, "");
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 4s) << "closed by the server, not by the client's own timeout";
}

TEST(MetricsServer, ServesOnIpv6Loopback) {
  boost::asio::io_context io;
  MetricsServer server(io, "[::1]:0", sample_page);
  try {
    server.start();
  } catch (const std::runtime_error& e) {
    GTEST_SKIP() << "no IPv6 loopback here: " << e.what();
  }
  EXPECT_EQ(server.listen(), "[::1]:0");
  EXPECT_EQ(body_of(get(io, server.port(), "GET /metrics HTTP/1.1\r\n\r\n", true)), sample_page());
}

void expect_start_error(const std::string& listen, const std::string& needle) {
  boost::asio::io_context io;
  MetricsServer server(io, listen, sample_page);
  try {
    server.start();
    ADD_FAILURE() << listen << " was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(MetricsServer, RefusesNonLoopbackAndMalformedAddresses) {
  expect_start_error("0.0.0.0:9464", "is not a loopback address");
  expect_start_error("192.0.2.1:9464", "is not a loopback address");
  expect_start_error("[::]:9464", "is not a loopback address");
  expect_start_error("localhost:9464", "does not name an IP address");
  expect_start_error("127.0.0.1", "has no port");
  expect_start_error("127.0.0.1:http", "invalid port");
  expect_start_error("127.0.0.1:70000", "invalid port");
  expect_start_error("::1:9464", "without brackets");
  expect_start_error("[::1]9464", "no port after the bracketed address");
}

TEST(MetricsServer, AddressInUseIsExplained) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(
      io, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const auto port = taken.local_endpoint().port();
  expect_start_error("127.0.0.1:" + std::to_string(port), "already in use");
}

TEST(MetricsServer, CloseStopsServing) {
  boost::asio::io_context io;
  MetricsServer server(io, "127.0.0.1:0", sample_page);
  server.start();
  const auto port = server.port();
  EXPECT_FALSE(get(io, port, "GET /metrics HTTP/1.1\r\n\r\n").empty());
  server.close();
  EXPECT_EQ(get(io, port, "GET /metrics HTTP/1.1\r\n\r\n"), "");
}

TEST(MetricsText, OneHelpAndTypePerFamilyWithSamplesTogether) {
  MetricsText m;
  m.add_counter("vellum_fetches_total", "Fetches finished.", 5, {{"result", "ok"}});
  m.add_gauge("vellum_queue_length", "URLs waiting.", 7);
  m.add_counter("vellum_fetches_total", "Fetches finished.", 2, {{"result", "error"}});
  EXPECT_EQ(m.str(),
            "# HELP vellum_fetches_total Fetches finished.\n"
            "# TYPE vellum_fetches_total counter\n"
            "vellum_fetches_total{result=\"ok\"} 5\n"
            "vellum_fetches_total{result=\"error\"} 2\n"
            "# HELP vellum_queue_length URLs waiting.\n"
            "# TYPE vellum_queue_length gauge\n"
            "vellum_queue_length 7\n");
}

TEST(MetricsText, EscapesLabelValuesAndHelp) {
  MetricsText m;
  m.add_gauge("vellum_source_up", "Source state; \\ and\nnewline \"kept\".", 1,
              {{"source", "a\\b \"quoted\"\nnext"}, {"kind", "feed"}});
  EXPECT_EQ(m.str(),
            "# HELP vellum_source_up Source state; \\\\ and\\nnewline \"kept\".\n"
            "# TYPE vellum_source_up gauge\n"
            "vellum_source_up{source=\"a\\\\b \\\"quoted\\\"\\nnext\",kind=\"feed\"} 1\n");
}

TEST(MetricsText, FormatsValues) {
  MetricsText m;
  m.add_gauge("g", "h", 0.5, {{"v", "half"}});
  m.add_gauge("g", "h", 1e21, {{"v", "big"}});
  m.add_gauge("g", "h", -3, {{"v", "negative"}});
  m.add_gauge("g", "h", std::numeric_limits<double>::infinity(), {{"v", "inf"}});
  m.add_gauge("g", "h", -std::numeric_limits<double>::infinity(), {{"v", "-inf"}});
  m.add_gauge("g", "h", std::nan(""), {{"v", "nan"}});
  m.add_counter("c_total", "h", 1234567890123.0);
  std::string s = m.str();
  EXPECT_NE(s.find("g{v=\"half\"} 0.5\n"), std::string::npos) << s;
  EXPECT_NE(s.find("g{v=\"big\"} 1e+21\n"), std::string::npos) << s;
  EXPECT_NE(s.find("g{v=\"negative\"} -3\n"), std::string::npos) << s;
  EXPECT_NE(s.find("g{v=\"inf\"} +Inf\n"), std::string::npos) << s;
  EXPECT_NE(s.find("g{v=\"-inf\"} -Inf\n"), std::string::npos) << s;
  EXPECT_NE(s.find("g{v=\"nan\"} NaN\n"), std::string::npos) << s;
  EXPECT_NE(s.find("c_total 1234567890123\n"), std::string::npos) << s;
}

TEST(MetricsText, RefusesBadNamesAndTypeChanges) {
  MetricsText m;
  EXPECT_THROW(m.add_gauge("9lives", "h", 1), std::invalid_argument);
  EXPECT_THROW(m.add_gauge("has-dash", "h", 1), std::invalid_argument);
  EXPECT_THROW(m.add_gauge("ok", "h", 1, {{"bad-label", "x"}}), std::invalid_argument);
  EXPECT_THROW(m.add_gauge("ok", "h", 1, {{"__reserved", "x"}}), std::invalid_argument);
  m.add_gauge("ns:ok_name", "h", 1);
  EXPECT_THROW(m.add_counter("ns:ok_name", "h", 1), std::invalid_argument);
  EXPECT_EQ(m.str(), "# HELP ns:ok_name h\n# TYPE ns:ok_name gauge\nns:ok_name 1\n");
}

}  // namespace
}  // namespace vellum::daemon
