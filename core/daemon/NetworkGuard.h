// The private-network guard: vellumd fetches URLs that feeds and local users hand it, so by
// default it refuses to connect to addresses that reach this machine or its private networks.
// The check runs on each address just before a connection is opened (after DNS, for every
// redirect hop), so neither a redirect nor a DNS answer can route around it.
#pragma once

#include <string>

struct sockaddr;

namespace vellum::daemon {

// Why `address` is not a public internet address ("loopback", "private (RFC 1918)", ...);
// empty when it is one. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
std::string non_public_reason(const struct sockaddr* address);

// The same for an address in text form ("10.0.0.1", "::1"); "not an IP address" when it is not.
std::string non_public_reason(const std::string& ip);

}  // namespace vellum::daemon
