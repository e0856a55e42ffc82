#include "daemon/NetworkGuard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>

namespace vellum::daemon {

namespace {

std::string ipv4_reason(std::uint32_t a) {  // host byte order
  auto in = [a](std::uint32_t net, int bits) {
    std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  if (in(0x00000000, 8)) return "\"this network\" (0.0.0.0/8)";
  if (in(0x7f000000, 8)) return "loopback (127.0.0.0/8)";
  if (in(0x0a000000, 8)) return "private (10.0.0.0/8)";
  if (in(0xac100000, 12)) return "private (172.16.0.0/12)";
  if (in(0xc0a80000, 16)) return "private (192.168.0.0/16)";
  if (in(0xa9fe0000, 16)) return "link-local (169.254.0.0/16)";
  if (in(0x64400000, 10)) return "shared address space (100.64.0.0/10)";
  if (in(0xc0000000, 24)) return "IETF protocol assignments (192.0.0.0/24)";
  if (in(0xc6120000, 15)) return "benchmarking (198.18.0.0/15)";
  if (in(0xe0000000, 4)) return "multicast (224.0.0.0/4)";
  if (in(0xf0000000, 4)) return "reserved (240.0.0.0/4)";
  return {};
}

std::string ipv6_reason(const unsigned char* b) {
  static const unsigned char zero[16] = {};
  if (std::memcmp(b, zero, 15) == 0 && b[15] == 1) return "loopback (::1)";
  if (std::memcmp(b, zero, 16) == 0) return "unspecified (::)";
  auto v4_at = [b](int i) {
    return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) |
           (std::uint32_t{b[i + 2]} << 8) | b[i + 3];
  };
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, mapped, 12) == 0 || std::memcmp(b, zero, 12) == 0) {
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible form (::a.b.c.d).
    return ipv4_reason(v4_at(12));
  }
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    // NAT64 (RFC 6052): the well-known prefix reaches the IPv4 address in its last 32 bits;
    // the local-use prefix (RFC 8215) is the network's own business.
    if (std::memcmp(b + 4, zero, 8) == 0) {
      std::string v4 = ipv4_reason(v4_at(12));
      return v4.empty() ? v4 : "NAT64 of " + v4;
    }
    if (b[4] == 0 && b[5] == 1) return "local-use NAT64 (64:ff9b:1::/48)";
  }
  if (b[0] == 0x20 && b[1] == 0x02) {
    // 6to4 (2002::/16) carries an IPv4 address in bits 16-47.
    std::string v4 = ipv4_reason(v4_at(2));
    if (!v4.empty()) return "6to4 of " + v4;
  }
  if ((b[0] & 0xfe) == 0xfc) return "unique local (fc00::/7)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local (fe80::/10)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local (fec0::/10)";
  if (b[0] == 0xff) return "multicast (ff00::/8)";
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
    return "documentation (2001:db8::/32)";
  return {};
}

}  // namespace

std::string non_public_reason(const struct sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return ipv4_reason(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    return ipv6_reason(in6->sin6_addr.s6_addr);
  }
  return "not an internet address";
}

std::string non_public_reason(const std::string& ip) {
  sockaddr_in in{};
  if (inet_pton(AF_INET, ip.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    return non_public_reason(reinterpret_cast<const sockaddr*>(&in));
  }
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET6, ip.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    return non_public_reason(reinterpret_cast<const sockaddr*>(&in6));
  }
  return "not an IP address";
}

}  // namespace vellum::daemon
