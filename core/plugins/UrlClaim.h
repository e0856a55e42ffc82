// How specifically a plugin claims a URL, from its descriptor's hosts and URL patterns. One
// function for plugins loaded in this process and for those running in worker processes, so
// that routing is the same either way.
#pragma once

#include <regex>
#include <string>
#include <vector>

namespace vellum::plugins {

class UrlClaim {
 public:
  // Throws std::regex_error when a pattern is not an ECMAScript regular expression.
  UrlClaim(std::vector<std::string> hosts, std::vector<std::string> url_patterns);

  // 0: no claim; higher wins. A URL pattern (3000 + its length) beats an exact host or its
  // www. form (2000 + host length), which beats a parent domain (1000 + host length).
  int score(const std::string& url) const;

  // Longest URL matched against the URL patterns; a longer one is scored by its host alone
  // (std::regex matches by recursion, one level per character).
  static constexpr std::size_t kMaxPatternUrl = 4096;

 private:
  std::vector<std::string> hosts_;  // lower-cased
  std::vector<std::string> pattern_texts_;
  std::vector<std::regex> patterns_;
};

}  // namespace vellum::plugins
