#include "plugins/UrlClaim.h"

#include <algorithm>

#include "util/Text.h"
#include "util/Url.h"

namespace vellum::plugins {

UrlClaim::UrlClaim(std::vector<std::string> hosts, std::vector<std::string> url_patterns)
    : pattern_texts_(std::move(url_patterns)) {
  for (const auto& h : hosts) hosts_.push_back(util::to_lower(h));
  for (const auto& p : pattern_texts_) patterns_.emplace_back(p, std::regex::ECMAScript);
}

int UrlClaim::score(const std::string& url) const {
  int best = 0;
  for (std::size_t i = 0; i < patterns_.size() && url.size() <= kMaxPatternUrl; ++i) {
    bool matched = false;
    try {
      matched = std::regex_match(url, patterns_[i]);
    } catch (const std::regex_error&) {  // too complex for the matcher: no claim
    }
    if (matched) best = std::max(best, 3000 + static_cast<int>(pattern_texts_[i].size()));
  }
  auto u = util::parse_url(url);
  if (!u) return best;
  for (const auto& host : hosts_) {
    if (u->host == host || u->host == "www." + host)
      best = std::max(best, 2000 + static_cast<int>(host.size()));
    else if (u->host.size() > host.size() && u->host.ends_with("." + host))
      best = std::max(best, 1000 + static_cast<int>(host.size()));
  }
  return best;
}

}  // namespace vellum::plugins
