#include "sources/Robots.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "util/Text.h"

namespace vellum::sources {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";
constexpr double kMaxDelaySeconds = 86400;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// RFC 9309 section 2.2.2: octets outside US-ASCII are percent-encoded, percent-encoded
// unreserved characters are decoded, and other escapes get upper-case hex, so that "/%7euser",
// "/~user" and "/%7Euser" compare equal. Applied alike to patterns and paths.
std::string normalise(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size() && util::hex_value(s[i + 1]) >= 0 &&
        util::hex_value(s[i + 2]) >= 0) {
      auto v =
          static_cast<unsigned char>(util::hex_value(s[i + 1]) * 16 + util::hex_value(s[i + 2]));
      if (unreserved(v)) {
        out += static_cast<char>(v);
      } else {
        out += '%';
        out += kHex[v >> 4];
        out += kHex[v & 15];
      }
      i += 2;
    } else if (c <= 0x20 || c >= 0x7f) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Whether `pattern` matches the start of `path` ('*' any run of characters; a final '$'
// anchors at the end). Backtracks only to the last '*', so it is linear in practice.
bool matches(std::string_view pattern, std::string_view path) {
  const bool anchored = pattern.ends_with('$');
  if (anchored) pattern.remove_suffix(1);
  std::size_t p = 0, s = 0;
  std::size_t star = std::string_view::npos, resume = 0;
  while (true) {
    if (!anchored && p == pattern.size()) return true;
    if (s == path.size()) break;
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// The product token at the start of a user-agent value: letters, '_' and '-' (RFC 9309
// section 2.2.1), so "Vellum/1.0 (+https://…)" yields "Vellum".
std::string_view product_of(std::string_view value) {
  std::size_t n = 0;
  while (n < value.size()) {
    char c = value[n];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) break;
    ++n;
  }
  return value.substr(0, n);
}

// Spellings of the keys seen in the wild, accepted as RFC 9309 section 2.2.4 allows.
bool is_user_agent_key(std::string_view k) {
  return k == "user-agent" || k == "useragent" || k == "user agent";
}

bool is_disallow_key(std::string_view k) {
  return k == "disallow" || k == "dissallow" || k == "dissalow" || k == "disalow" ||
         k == "diasllow" || k == "disallaw";
}

std::optional<std::chrono::milliseconds> parse_delay(std::string_view value) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end == value.data() || !std::isfinite(seconds) || seconds < 0)
    return std::nullopt;
  seconds = std::min(seconds, kMaxDelaySeconds);
  return std::chrono::milliseconds(std::llround(seconds * 1000));
}

struct Group {
  bool ours = false;  // a user-agent line names our product token
  bool star = false;  // a user-agent line is "*"
  std::vector<std::pair<bool, std::string>> rules;
  std::optional<std::chrono::milliseconds> delay;
};

}  // namespace

RobotsRules RobotsRules::parse(std::string_view body, std::string_view product_token) {
  if (body.size() > kMaxBytes) {
    body = body.substr(0, kMaxBytes);
    // A line cut in the middle could turn "Allow: /public/x" into "Allow: /pub": drop it.
    std::size_t last = body.find_last_of("\r\n");
    body = last == std::string_view::npos ? std::string_view() : body.substr(0, last + 1);
  }
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  const std::string_view token = product_of(trim(product_token));

  RobotsRules out;
  std::vector<Group> groups;
  bool in_agent_lines = false;  // the previous group line was a user-agent line
  while (!body.empty()) {
    std::size_t eol = body.find_first_of("\r\n");
    std::string_view line = body.substr(0, eol);
    body = eol == std::string_view::npos ? std::string_view() : body.substr(eol + 1);
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string key = util::to_lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));

    if (is_user_agent_key(key)) {
      if (!in_agent_lines || groups.empty()) groups.emplace_back();
      in_agent_lines = true;
      if (value.starts_with('*')) {
        groups.back().star = true;
      } else {
        std::string_view name = product_of(value);
        if (!name.empty() && util::iequals(name, token)) groups.back().ours = true;
      }
    } else if (key == "allow" || is_disallow_key(key)) {
      in_agent_lines = false;
      // Rules before any user-agent line belong to no group; an empty value means no rule.
      if (groups.empty() || value.empty()) continue;
      groups.back().rules.emplace_back(key == "allow", normalise(value));
    } else if (key == "crawl-delay") {
      in_agent_lines = false;
      if (!groups.empty() && !groups.back().delay) groups.back().delay = parse_delay(value);
    } else if (key == "sitemap") {
      // Not part of any group (RFC 9309 section 2.2.4).
      std::string url(value);
      if (!url.empty() &&
          std::find(out.sitemaps_.begin(), out.sitemaps_.end(), url) == out.sitemaps_.end())
        out.sitemaps_.push_back(std::move(url));
    }
  }

  const bool have_ours = !token.empty() && std::any_of(groups.begin(), groups.end(),
                                                       [](const Group& g) { return g.ours; });
  for (const Group& g : groups) {
    if (have_ours ? !g.ours : !g.star) continue;
    for (const auto& [allow, pattern] : g.rules) out.rules_.push_back(Rule{allow, pattern});
    if (!out.crawl_delay_) out.crawl_delay_ = g.delay;
  }
  return out;
}

RobotsRules RobotsRules::allow_all() {
  return RobotsRules();
}

RobotsRules RobotsRules::disallow_all() {
  RobotsRules r;
  r.rules_.push_back(Rule{false, "/"});
  return r;
}

RobotsRules RobotsRules::from_response(int status, std::string_view body,
                                       std::string_view product_token) {
  if (status >= 200 && status <= 299) return parse(body, product_token);
  if (status >= 400 && status <= 499 && status != 429) return allow_all();
  return disallow_all();
}

bool RobotsRules::allowed(std::string_view path_and_query) const {
  std::string path = normalise(path_and_query.empty() ? std::string_view("/") : path_and_query);
  if (path.substr(0, path.find('?')) == "/robots.txt") return true;
  std::size_t best = 0;
  bool found = false, allow = true;
  for (const Rule& r : rules_) {
    if (!matches(r.pattern, path)) continue;
    std::size_t len = r.pattern.size();
    if (!found || len > best || (len == best && r.allow)) {
      best = len;
      allow = r.allow;
      found = true;
    }
  }
  return allow;
}

}  // namespace vellum::sources
