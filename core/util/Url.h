// URL parsing, normalisation and SURT keys for the index.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace vellum::util {

struct Url {
  std::string scheme;  // lower case
  std::string host;    // lower case; IPv6 literals keep their brackets
  int port = -1;       // -1 when the URL names none
  std::string path;    // "/" when empty
  std::string query;   // without '?'; empty when absent
  bool has_query = false;

  int effective_port() const;
  std::string str() const;  // normalised form, without fragment
};

// Parses an absolute http(s) URL; nullopt for anything else (no scheme, other scheme, no host).
std::optional<Url> parse_url(std::string_view text);

// The URL as Vellum requests and records it (WARC-Target-URI): what parse_url gives, with tabs
// and line breaks removed, "." and ".." path segments resolved (RFC 3986, 5.2.4), and control
// characters, spaces, non-ASCII bytes and " < > ` { } in path and query percent-encoded (UTF-8
// bytes, upper-case hex), as a browser sends them. A percent-encoded host is decoded, and a host
// that is not ASCII is converted to its IDNA form ("xn--...", host_to_ascii in util/Idna.h), as
// libcurl would send it. nullopt when parse_url refuses the text or the host cannot be
// converted; in the latter case `why` says what is wrong with it.
std::optional<Url> parse_request_url(std::string_view text, std::string* why = nullptr);

// A host as typed on its own (a --domain filter) in the form URLs carry it: lower case, IDNA,
// and an IPv4 address in any form a URL may give it ("127.1") in dotted decimal. nullopt (with
// the reason in `why`) when it cannot be a host, or ends in a number but is no address.
std::optional<std::string> typed_host(std::string_view host, std::string* why = nullptr);

// The host without a leading "www." (Source Domain in article records).
std::string source_domain(std::string_view host);

// Sort-friendly URI Reordering Transform, as used by CDX indexes:
// "https://www.Example.com:443/a/b?z=1&a=2#frag" -> "com,example)/a/b?a=2&z=1".
// The URL is read as parse_request_url reads it, so that a URL as typed finds what was
// requested for it. Scheme, "www." prefixes, default ports and fragments are dropped; query
// parameters sorted. Text that is not an http(s) URL is returned lower-cased.
std::string surt(std::string_view url);

// The key IA's CDX tools give a URL (the `surt` library's default, which pywb looks captures up
// by): "https://www2.Example.com/News/?b=2&a=1&jsessionid=<32 characters>" ->
// "com,example)/news?a=1&b=2". On top of surt's: percent-escapes undone and redone ("%7E" and
// "~" are one), "www" with digits dropped ("www2."), a trailing slash dropped, parameters sorted
// by name then value, and session ids (jsessionid, phpsessid, sid, ASPSESSIONID, CFID/CFTOKEN,
// ASP.NET's "/(S(...))/" path segment) taken out. For CDXJ files other tools read; the index
// keeps surt's keys. Text that is not an http(s) URL is returned as it is.
std::string cdx_surt(std::string_view url);

// surt with the path and query as written: the captures of one key whose page_key is a URL's
// are the captures of that page, where a server that tells case apart serves another at
// "/A.html" than at "/a.html". Scheme, "www." and parameter order are still set aside.
std::string page_key(std::string_view url);

}  // namespace vellum::util

namespace vellum::util {

// Resolves `ref` (absolute or relative, as in a Location header) against `base`; empty when
// the result is not a valid http(s) URL. A backslash before the query counts as a slash, as
// browsers read http(s) URLs.
std::string resolve_url(const std::string& base, const std::string& ref);

}  // namespace vellum::util
