#include "util/Url.h"

#include "util/Idna.h"
#include "util/Text.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

namespace vellum::util {

namespace {

// RFC 3986 section 5.2.4: removes "." and ".." segments.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      auto slash = out.rfind('/');
      out.erase(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      auto next = in.find('/', in.front() == '/' ? 1 : 0);
      out += in.substr(0, next);
      in = next == std::string_view::npos ? std::string_view() : in.substr(next);
    }
  }
  return out;
}

}  // namespace

namespace {

// Percent-encodes, with upper-case hex, the bytes `escaped` picks.
template <class Pick>
std::string percent_encode(std::string_view in, Pick escaped) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (escaped(c)) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  return out;
}

// What a browser encodes in a path or query before it sends a request: control characters,
// space, non-ASCII bytes and " < > ` { }. Existing escapes are kept as they are.
std::string encode_unsafe(std::string_view in) {
  return percent_encode(in, [](unsigned char c) {
    return c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' ||
           c == '}';
  });
}

// "%XX" escapes decoded; nullopt when a '%' starts no escape.
std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || hex_value(in[i + 1]) < 0 || hex_value(in[i + 2]) < 0)
      return std::nullopt;
    out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
    i += 2;
  }
  return out;
}

// The path and query of a request URL: dot segments resolved, unsafe bytes encoded.
Url finish_request_url(Url u) {
  u.path = encode_unsafe(remove_dot_segments(u.path));
  if (u.path.empty() || u.path.front() != '/') u.path.insert(0, "/");
  u.query = encode_unsafe(u.query);
  return u;
}

// One part of an IPv4 address as the URL Standard reads it: decimal, hex after "0x", octal after
// a leading "0". nullopt when it is none of these or too large to matter.
std::optional<std::uint64_t> ipv4_number(std::string_view part) {
  if (part.empty()) return std::nullopt;
  unsigned radix = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    radix = 16;
    part.remove_prefix(2);
  } else if (part.size() >= 2 && part[0] == '0') {
    radix = 8;
    part.remove_prefix(1);
  }
  std::uint64_t n = 0;
  for (char c : part) {
    const int d = radix == 16 ? hex_value(c) : (c >= '0' && c <= '9' ? c - '0' : -1);
    if (d < 0 || static_cast<unsigned>(d) >= radix) return std::nullopt;
    // Past what any part may be, the value stops growing (no overflow); the digits are still
    // all checked, since one that is not a digit makes the part no number at all.
    if (n <= 0xFFFFFFFFull) n = n * radix + static_cast<unsigned>(d);
  }
  return n;
}

// A host whose last label is a number is an IPv4 address in whichever form it is written
// ("0x7f.1", "0177.0.0.1", "127.1", "2130706433"), as browsers and libcurl read it, and is
// written out in dotted decimal, the address the request goes to. False when it ends in a
// number but is no address (refused, as browsers refuse it); the host is left alone when it
// does not end in a number.
bool normalise_ipv4_host(std::string& host, std::string* why) {
  std::vector<std::string_view> parts;
  std::string_view rest = host;
  for (std::size_t dot; (dot = rest.find('.')) != std::string_view::npos;
       rest.remove_prefix(dot + 1))
    parts.push_back(rest.substr(0, dot));
  parts.push_back(rest);
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  const std::string_view last = parts.back();
  const bool ends_in_number =
      (!last.empty() &&
       std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) ||
      (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
       (last.size() == 2 || ipv4_number(last)));
  if (!ends_in_number) return true;
  auto refuse = [&] {
    if (why) *why = "the host name '" + host + "' ends in a number but is not an IPv4 address";
    return false;
  };
  if (parts.size() > 4) return refuse();
  std::vector<std::uint64_t> numbers;
  for (const auto& part : parts) {
    auto n = part.size() == 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')
                 ? std::optional<std::uint64_t>(0)
                 : ipv4_number(part);
    if (!n) return refuse();
    numbers.push_back(*n);
  }
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i)
    if (numbers[i] > 255) return refuse();
  if (numbers.back() >= (1ull << (8 * (5 - numbers.size())))) return refuse();
  std::uint64_t address = numbers.back();
  for (std::size_t i = 0; i + 1 < numbers.size(); ++i) address += numbers[i] << (8 * (3 - i));
  host = std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 255) + "." +
         std::to_string((address >> 8) & 255) + "." + std::to_string(address & 255);
  return true;
}

}  // namespace

std::optional<Url> parse_request_url(std::string_view text, std::string* why) {
  std::string clean;
  clean.reserve(text.size());
  for (char c : text)
    if (c != '\t' && c != '\r' && c != '\n') clean += c;
  auto u = parse_url(clean);
  if (!u) return std::nullopt;
  // An IP literal ("[::1]", "[fe80::1%25eth0]" with its zone) stays as written.
  if (!u->host.empty() && u->host.front() == '[') return finish_request_url(std::move(*u));
  // A percent-encoded host is read as the bytes it encodes, as browsers read it, and refused,
  // as browsers refuse it, when they hold what no host name may (a decoded "/" or "@" would
  // otherwise make it another URL).
  if (u->host.find('%') != std::string::npos) {
    auto decoded = percent_decode(u->host);
    if (!decoded) {
      if (why) *why = "the host name holds a '%' that starts no escape";
      return std::nullopt;
    }
    u->host = to_lower(*decoded);
  }
  if (auto bad = u->host.find_first_of("/:@?#[]\\%<>^|"); bad != std::string::npos) {
    if (why)
      *why = std::string("the host name holds '") + u->host[bad] + "', which no host name may";
    return std::nullopt;
  }
  auto host = host_to_ascii(u->host, why);
  if (!host) return std::nullopt;
  u->host = std::move(*host);
  if (!normalise_ipv4_host(u->host, why)) return std::nullopt;
  return finish_request_url(std::move(*u));
}

std::optional<std::string> typed_host(std::string_view host, std::string* why) {
  auto key = host_to_ascii(host, why);
  if (!key) return std::nullopt;
  // What a URL could not hold as its host is left for the caller to match as it is.
  if (key->find_first_of("/:@?#[]\\%") == std::string::npos && !normalise_ipv4_host(*key, why))
    return std::nullopt;
  return key;
}

int Url::effective_port() const {
  if (port >= 0) return port;
  return scheme == "https" ? 443 : 80;
}

std::string Url::str() const {
  std::string out = scheme + "://" + host;
  if (port >= 0 && port != (scheme == "https" ? 443 : 80)) out += ":" + std::to_string(port);
  out += path;
  if (has_query) out += "?" + query;
  return out;
}

std::optional<Url> parse_url(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  auto colon = text.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  Url u;
  u.scheme = to_lower(text.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(colon + 3);
  auto hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  auto auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? "" : rest.substr(auth_end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      authority = after;
    } else {
      authority = {};
    }
  } else if (auto pc = authority.rfind(':'); pc != std::string_view::npos) {
    host = authority.substr(0, pc);
    authority = authority.substr(pc);
  } else {
    authority = {};
  }
  if (!authority.empty()) {  // ":port"
    std::string_view digits = authority.substr(1);
    if (!digits.empty()) {
      if (digits.size() > 5) return std::nullopt;
      int port = 0;
      for (char c : digits) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        port = port * 10 + (c - '0');
      }
      if (port > 65535) return std::nullopt;
      u.port = port;
    }
  }
  if (host.empty()) return std::nullopt;
  u.host = to_lower(host);
  while (!u.host.empty() && u.host.back() == '.') u.host.pop_back();
  if (u.host.empty()) return std::nullopt;
  auto q = tail.find('?');
  u.path = std::string(tail.substr(0, q));
  if (u.path.empty()) u.path = "/";
  if (q != std::string_view::npos) {
    u.has_query = true;
    u.query = std::string(tail.substr(q + 1));
  }
  return u;
}

std::string source_domain(std::string_view host) {
  std::string h = to_lower(host);
  if (h.starts_with("www.")) h.erase(0, 4);
  return h;
}

namespace {

std::string surt_key(std::string_view url, bool keep_case) {
  auto parsed = parse_request_url(url);
  if (!parsed) return keep_case ? std::string(url) : to_lower(url);
  Url& u = *parsed;
  std::string host = u.host;
  // Drop any number of leading "www" labels ("www.", "www2." stay: only the plain form is noise).
  while (host.starts_with("www.")) host.erase(0, 4);
  std::string key;
  if (!host.empty() && host.front() == '[') {
    key = host;
  } else {
    std::vector<std::string_view> labels;
    std::string_view h = host;
    std::size_t start = 0;
    while (true) {
      auto dot = h.find('.', start);
      labels.push_back(h.substr(start, dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    for (auto it = labels.rbegin(); it != labels.rend(); ++it) {
      if (!key.empty()) key += ',';
      key += *it;
    }
  }
  if (u.port >= 0 && u.port != (u.scheme == "https" ? 443 : 80))
    key += ":" + std::to_string(u.port);
  key += ")";
  key += keep_case ? u.path : to_lower(u.path);
  if (u.has_query && !u.query.empty()) {
    std::vector<std::string> params;
    std::size_t start = 0;
    while (start <= u.query.size()) {
      auto amp = u.query.find('&', start);
      std::string p = u.query.substr(start, amp == std::string::npos ? amp : amp - start);
      if (!p.empty()) params.push_back(keep_case ? p : to_lower(p));
      if (amp == std::string::npos) break;
      start = amp + 1;
    }
    std::sort(params.begin(), params.end());
    key += '?';
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (i) key += '&';
      key += params[i];
    }
  }
  return key;
}

}  // namespace

std::string surt(std::string_view url) {
  return surt_key(url, false);
}

std::string page_key(std::string_view url) {
  return surt_key(url, true);
}

namespace {

// Undoes %XX escapes until none is left ("%2525" -> "%").
std::string unescape_repeatedly(std::string s) {
  while (true) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
        out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
        i += 2;
      } else {
        out += s[i];
      }
    }
    if (out == s) return out;
    s = std::move(out);
  }
}

// Escapes what a CDX key never holds bare: controls, space, '#', '%' and bytes past ASCII.
std::string escape_once(std::string_view s) {
  return percent_encode(
      s, [](unsigned char c) { return c <= 0x20 || c >= 0x7F || c == '#' || c == '%'; });
}

// "." and ".." resolved, empty segments (doubled slashes) dropped, a trailing slash kept.
std::string normalize_path(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> kept;
  std::size_t start = path.front() == '/' ? 1 : 0;
  while (true) {
    std::size_t slash = path.find('/', start);
    std::string_view seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (seg == "..") {
      if (!kept.empty())
        kept.pop_back();
      else
        kept.push_back(seg);
    } else if (seg != ".") {
      kept.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i + 1 < kept.size(); ++i)
    if (!kept[i].empty()) out.append(kept[i]).append("/");
  if (!kept.empty()) out += kept.back();
  return out;
}

bool alnum_run(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return false;
  for (std::size_t i = at; i < at + n; ++i)
    if (!std::isalnum(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

bool alpha_run(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return false;
  for (std::size_t i = at; i < at + n; ++i)
    if (!std::isalpha(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

// The length of a session id of kind `kind` at `at` of a lower-cased query, 0 when none starts
// there: jsessionid=, phpsessid= and sid= with 32 letters or digits, aspsessionid<8 letters>=
// with 24 letters, cfid=...&cftoken=...
std::size_t session_id_at(std::string_view q, std::size_t at, int kind) {
  static constexpr std::string_view kNames[] = {"jsessionid=", "phpsessid=", "sid=", "aspsessionid",
                                                "cfid="};
  const std::string_view name = kNames[kind];
  if (q.size() - at < name.size() || q.substr(at, name.size()) != name) return 0;
  const std::size_t after = at + name.size();
  if (kind <= 2) return alnum_run(q, after, 32) ? name.size() + 32 : 0;
  if (kind == 3)
    return alpha_run(q, after, 8) && after + 8 < q.size() && q[after + 8] == '=' &&
                   alpha_run(q, after + 9, 24)
               ? name.size() + 33
               : 0;
  std::size_t amp = q.find('&', after);
  if (amp == after || amp == std::string_view::npos || q.substr(amp + 1, 8) != "cftoken=") return 0;
  std::size_t end = q.find('&', amp + 9);
  if (end == amp + 9 || amp + 9 == q.size()) return 0;
  return (end == std::string_view::npos ? q.size() : end) - at;
}

// Each kind of session id in turn: its last occurrence that ends the query or is followed by
// '&' is taken out with that '&' ("a=1&sid=<32>&b=2" -> "a=1&b=2"; "a=1&sid=<32>" -> "a=1&").
std::string strip_query_session_ids(std::string q) {
  for (int kind = 0; kind < 5; ++kind) {
    const std::string l = to_lower(q);
    for (std::size_t at = l.size(); at-- > 0;) {
      const std::size_t n = session_id_at(l, at, kind);
      const std::size_t end = at + n;
      if (n == 0 || (end != l.size() && l[end] != '&')) continue;
      q.erase(at, end == l.size() ? n : n + 1);
      break;
    }
  }
  return q;
}

// ASP.NET's cookieless session segments before a path to an .aspx page, as IA's canonicalizer
// takes them out: the last "(S(<24>))/"-style one (letters, each with 24 letters or digits in
// parentheses, all in parentheses), then the last "(<24>)/" one, each after a '/'.
std::string strip_path_session_ids(std::string path) {
  // The length of such a segment at `at`, 0 when none starts there.
  auto grouped = [&](std::size_t at) -> std::size_t {
    std::size_t i = at + 1, groups = 0;
    while (i + 27 <= path.size() && std::isalpha(static_cast<unsigned char>(path[i])) &&
           path[i + 1] == '(' && alnum_run(path, i + 2, 24) && path[i + 26] == ')') {
      i += 27;
      ++groups;
    }
    if (groups == 0 || i + 1 >= path.size() || path[i] != ')' || path[i + 1] != '/') return 0;
    return i + 2 - at;
  };
  auto plain = [&](std::size_t at) -> std::size_t {
    return alnum_run(path, at + 1, 24) && at + 26 < path.size() && path[at + 25] == ')' &&
                   path[at + 26] == '/'
               ? 27
               : 0;
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t at = path.size(); at-- > 1;) {
      if (path[at - 1] != '/' || path[at] != '(') continue;
      const std::size_t n = pass == 0 ? grouped(at) : plain(at);
      // At least one character, then ".aspx", after the segment.
      if (n == 0 || path.find(".aspx", at + n + 1) == std::string::npos) continue;
      path.erase(at, n);
      break;
    }
  }
  return path;
}

// Parameters sorted by name, then value; a parameter without '=' before one with it.
std::string alpha_reorder_query(std::string_view q) {
  if (q.size() <= 1) return std::string(q);
  struct Param {
    std::string_view name, value;
    bool has_value;
  };
  std::vector<Param> params;
  std::size_t start = 0;
  while (true) {
    std::size_t amp = q.find('&', start);
    std::string_view p =
        q.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    std::size_t eq = p.find('=');
    if (eq == std::string_view::npos)
      params.push_back({p, {}, false});
    else
      params.push_back({p.substr(0, eq), p.substr(eq + 1), true});
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::stable_sort(params.begin(), params.end(), [](const Param& a, const Param& b) {
    if (a.name != b.name) return a.name < b.name;
    if (a.has_value != b.has_value) return !a.has_value;
    return a.value < b.value;
  });
  std::string out;
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i) out += '&';
    out.append(params[i].name);
    if (params[i].has_value) out.append("=").append(params[i].value);
  }
  return out;
}

}  // namespace

std::string cdx_surt(std::string_view url) {
  auto parsed = parse_request_url(url);
  // dns:, urn: and the like (and http URLs no fetcher takes) are kept as they are, but for what
  // would break the line a key is written on: controls, spaces and bytes past ASCII.
  if (!parsed) return percent_encode(url, [](unsigned char c) { return c <= 0x20 || c >= 0x7F; });
  const Url& u = *parsed;

  std::string host = u.host;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(1, host.size() - 2);  // as urlsplit().hostname gives it
  } else {
    host = to_lower(unescape_repeatedly(host));
    for (std::size_t at; (at = host.find("..")) != std::string::npos;) host.erase(at, 1);
    while (!host.empty() && host.front() == '.') host.erase(0, 1);
    while (!host.empty() && host.back() == '.') host.pop_back();
    host = escape_once(host);
    // "www.", "www2.", "www12.": once, at the start.
    if (host.starts_with("www")) {
      std::size_t i = 3;
      while (i < host.size() && std::isdigit(static_cast<unsigned char>(host[i]))) ++i;
      if (i < host.size() && host[i] == '.') host.erase(0, i + 1);
    }
  }
  // Labels in reverse order, an IPv4 address's too ("127.0.0.1" -> "1,0,0,127"); an IPv6
  // address has one.
  std::string key;
  std::size_t end = host.size();
  for (std::size_t dot; end > 0 && (dot = host.rfind('.', end - 1)) != std::string::npos; end = dot)
    key.append(host, dot + 1, end - dot - 1).append(",");
  key.append(host, 0, end);
  if (u.port >= 0 && u.port != (u.scheme == "https" ? 443 : 80))
    key += ":" + std::to_string(u.port);
  key += ')';

  std::string path = to_lower(escape_once(normalize_path(unescape_repeatedly(u.path))));
  path = strip_path_session_ids(path);
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  key += path;

  if (u.has_query && !u.query.empty()) {
    std::string q = escape_once(unescape_repeatedly(u.query));
    q = alpha_reorder_query(to_lower(strip_query_session_ids(q)));
    if (!q.empty()) key += "?" + q;
  }
  return key;
}

std::string resolve_url(const std::string& base, const std::string& ref_text) {
  // For http(s), a browser reads a backslash before the query as a slash (WHATWG URL, "special"
  // schemes): "/\host/x" names another host, as it does in a browser.
  std::string slashed = ref_text;
  for (char& c : slashed) {
    if (c == '?' || c == '#') break;
    if (c == '\\') c = '/';
  }
  std::string_view ref = slashed;
  while (!ref.empty() && std::isspace(static_cast<unsigned char>(ref.front())))
    ref.remove_prefix(1);
  while (!ref.empty() && std::isspace(static_cast<unsigned char>(ref.back()))) ref.remove_suffix(1);
  if (auto hash = ref.find('#'); hash != std::string_view::npos) ref = ref.substr(0, hash);
  auto b = parse_url(base);
  // A reference with a scheme stands alone, except one of the base's own http(s) scheme without
  // "//" ("http:/page", "http:page"), which a browser reads relative to the base (WHATWG URL,
  // "special relative or authority state"); with the other http(s) scheme, the host follows
  // whatever slashes there are ("special authority ignore slashes state").
  auto colon = ref.find(':');
  auto first_delim = ref.find_first_of("/?#");
  if (colon != std::string_view::npos && colon > 0 &&
      (first_delim == std::string_view::npos || colon < first_delim)) {
    const std::string scheme = to_lower(ref.substr(0, colon));
    std::string_view rest = ref.substr(colon + 1);
    const bool special = scheme == "http" || scheme == "https";
    if (special && !rest.starts_with("//") && b && scheme == b->scheme) {
      ref = rest;
    } else {
      // Another http(s) scheme without "//": what follows the slashes is the host.
      std::string absolute(ref);
      if (special && !rest.starts_with("//")) {
        while (rest.starts_with('/')) rest.remove_prefix(1);
        absolute = scheme + "://" + std::string(rest);
      }
      auto u = parse_url(absolute);
      return u ? u->str() : std::string();
    }
  }
  if (!b) return {};
  if (ref.starts_with("//")) {
    auto u = parse_url(b->scheme + ":" + std::string(ref));
    return u ? u->str() : std::string();
  }
  Url out = *b;
  if (ref.empty()) return out.str();
  std::string_view path = ref, query;
  bool has_query = false;
  if (auto q = ref.find('?'); q != std::string_view::npos) {
    path = ref.substr(0, q);
    query = ref.substr(q + 1);
    has_query = true;
  }
  if (path.empty()) {
    if (has_query) {
      out.query = std::string(query);
      out.has_query = true;
    }
    return out.str();
  }
  std::string merged;
  if (path.front() == '/') {
    merged = std::string(path);
  } else {
    auto slash = b->path.rfind('/');
    merged = (slash == std::string::npos ? std::string("/") : b->path.substr(0, slash + 1)) +
             std::string(path);
  }
  out.path = remove_dot_segments(merged);
  if (out.path.empty() || out.path.front() != '/') out.path.insert(0, "/");
  out.query = std::string(query);
  out.has_query = has_query;
  return out.str();
}

}  // namespace vellum::util
