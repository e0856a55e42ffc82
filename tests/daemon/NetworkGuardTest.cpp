// The private-network guard: which addresses it refuses, and that neither a redirect nor a DNS
// answer gets a fetch past it, because it judges each address at connect time.
#include "daemon/NetworkGuard.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "fetch/Fetcher.h"
#include "support/TestHttpServer.h"

namespace vellum::daemon {
namespace {

using namespace std::chrono_literals;
using test::Reply;
using test::TestHttpServer;

TEST(NetworkGuard, RefusesEveryAddressThatIsNotPublic) {
  const std::pair<const char*, const char*> refused[] = {
      {"127.0.0.1", "loopback"},
      {"127.3.2.1", "loopback"},
      {"0.0.0.0", "this network"},
      {"10.1.2.3", "private (10.0.0.0/8)"},
      {"172.16.0.1", "private (172.16.0.0/12)"},
      {"172.31.255.255", "private (172.16.0.0/12)"},
      {"192.168.1.1", "private (192.168.0.0/16)"},
      {"169.254.169.254", "link-local"},  // cloud metadata services
      {"100.64.0.1", "shared address space"},
      {"198.18.0.1", "benchmarking"},
      {"224.0.0.1", "multicast"},
      {"255.255.255.255", "reserved"},
      {"::1", "loopback (::1)"},
      {"::", "unspecified"},
      {"::ffff:127.0.0.1", "loopback"},  // IPv4-mapped: judged as the IPv4 address
      {"::ffff:10.0.0.1", "private (10.0.0.0/8)"},
      {"::192.168.0.1", "private (192.168.0.0/16)"},
      {"64:ff9b::a00:1", "NAT64 of private (10.0.0.0/8)"},  // NAT64 of 10.0.0.1
      {"64:ff9b::7f00:1", "NAT64 of loopback"},
      {"64:ff9b:1::1", "local-use NAT64"},
      {"2002:c0a8:101::1", "6to4 of private (192.168.0.0/16)"},
      {"fd12:3456::1", "unique local"},
      {"fe80::1", "link-local"},
      {"ff02::1", "multicast"},
      {"2001:db8::1", "documentation"},
  };
  for (const auto& [ip, reason] : refused)
    EXPECT_NE(non_public_reason(ip).find(reason), std::string::npos)
        << ip << ": got \"" << non_public_reason(ip) << "\"";
  for (const char* ip :
       {"93.184.216.34", "8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
        "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"})
    EXPECT_EQ(non_public_reason(ip), "") << ip;
  EXPECT_EQ(non_public_reason("example.com"), "not an IP address");
}

// The guard as vellumd installs it, except that 127.0.0.1 (where the test server listens)
// stands in for a public site. Every other loopback address is still refused.
fetch::FetchOptions guarded() {
  fetch::FetchOptions o;
  o.connect_timeout = 2000ms;
  o.total_timeout = 5000ms;
  o.address_filter = [](const struct sockaddr* sa) {
    if (sa->sa_family == AF_INET &&
        ntohl(reinterpret_cast<const sockaddr_in*>(sa)->sin_addr.s_addr) == INADDR_LOOPBACK)
      return true;
    return non_public_reason(sa).empty();
  };
  return o;
}

std::optional<fetch::FetchResult> fetch_one(const std::string& url, fetch::FetchOptions o) {
  boost::asio::io_context io;
  fetch::Fetcher fetcher(io, std::move(o));
  std::optional<fetch::FetchResult> out;
  fetcher.fetch(url, [&](fetch::FetchResult r) { out = std::move(r); });
  io.run_for(20s);
  return out;
}

TEST(NetworkGuard, ARedirectToAPrivateAddressIsRefusedAtConnectTime) {
  TestHttpServer site;
  const std::string port = std::to_string(site.port());
  site.on("/to-ip", Reply::redirect(302, "http://127.0.0.2:" + port + "/secret"));
  site.on("/to-mapped", Reply::redirect(302, "http://[::ffff:127.0.0.2]:" + port + "/secret"));
  site.on("/secret", Reply::ok("must not be fetched"));
  for (const char* path : {"/to-ip", "/to-mapped"}) {
    auto r = fetch_one(site.url(path), guarded());
    ASSERT_TRUE(r) << path;
    EXPECT_NE(r->error.find("refused to connect to"), std::string::npos)
        << path << ": " << r->error;
    EXPECT_NE(r->error.find("address not allowed"), std::string::npos) << path << ": " << r->error;
    EXPECT_EQ(r->failure, fetch::FetchResult::Failure::kRefused) << path;
    // The redirect itself came from the public site and is kept; nothing was fetched after it.
    ASSERT_EQ(r->hops.size(), 1u) << path;
    EXPECT_EQ(r->hops[0].status, 302);
  }
  EXPECT_TRUE(site.requests_for("/secret").empty());
}

TEST(NetworkGuard, ANameThatResolvesToAPrivateAddressIsRefused) {
  TestHttpServer site;
  const std::string port = std::to_string(site.port());
  site.on("/secret", Reply::ok("must not be fetched"));
  site.on("/hop", Reply::redirect(302, "http://intranet.test:" + port + "/secret"));
  fetch::FetchOptions o = guarded();
  // The DNS answer for intranet.test points into this machine (as a rebinding attacker's would).
  o.resolve = {"intranet.test:" + port + ":127.0.0.3"};
  auto direct = fetch_one("http://intranet.test:" + port + "/secret", o);
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->error, "refused to connect to 127.0.0.3: address not allowed");
  EXPECT_TRUE(direct->hops.empty());
  auto redirected = fetch_one(site.url("/hop"), o);
  ASSERT_TRUE(redirected);
  EXPECT_EQ(redirected->error, "refused to connect to 127.0.0.3: address not allowed");
  EXPECT_TRUE(site.requests_for("/secret").empty());
}

}  // namespace
}  // namespace vellum::daemon
