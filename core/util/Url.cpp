#include "util/Url.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace vellum::util {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

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
  u.scheme = lower(text.substr(0, colon));
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
  u.host = lower(host);
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
  std::string h = lower(host);
  if (h.starts_with("www.")) h.erase(0, 4);
  return h;
}

std::string surt(std::string_view url) {
  auto parsed = parse_url(url);
  if (!parsed) return lower(url);
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
  key += lower(u.path);
  if (u.has_query && !u.query.empty()) {
    std::vector<std::string> params;
    std::size_t start = 0;
    while (start <= u.query.size()) {
      auto amp = u.query.find('&', start);
      std::string p = u.query.substr(start, amp == std::string::npos ? amp : amp - start);
      if (!p.empty()) params.push_back(lower(p));
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

}  // namespace vellum::util

#include <curl/curl.h>

namespace vellum::util {

std::string resolve_url(const std::string& base, const std::string& ref) {
  CURLU* h = curl_url();
  if (!h) return {};
  std::string out;
  if (curl_url_set(h, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(h, CURLUPART_URL, ref.c_str(), CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
    char* full = nullptr;
    if (curl_url_get(h, CURLUPART_URL, &full, 0) == CURLUE_OK) out = full;
    curl_free(full);
  }
  curl_url_cleanup(h);
  return out;
}

}  // namespace vellum::util
