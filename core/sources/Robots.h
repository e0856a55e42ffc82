// robots.txt as RFC 9309 defines it: the group for our product token (or "*"), longest-match
// Allow/Disallow rules with '*' and '$', plus the Crawl-delay and Sitemap lines sites add.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::sources {

class RobotsRules {
 public:
  // RFC 9309 asks crawlers to read at least 500 KiB; the rest of a longer file is ignored.
  static constexpr std::size_t kMaxBytes = 500 * 1024;

  // Rules of the groups whose user-agent names `product_token` (case-insensitive, e.g. "vellum"
  // also matches "Vellum/1.0"), merged; else of the "*" groups; else none (all allowed).
  static RobotsRules parse(std::string_view body, std::string_view product_token);
  // No robots.txt (4xx): everything may be fetched.
  static RobotsRules allow_all();
  // robots.txt unreachable (5xx, network failure): nothing may be fetched but /robots.txt
  // itself (RFC 9309 section 2.3.1.4).
  static RobotsRules disallow_all();
  // The rules for a robots.txt response after redirects: 2xx parsed, 4xx allow all, anything
  // else disallow all. 429 counts as unreachable: the site is asking us to slow down.
  static RobotsRules from_response(int status, std::string_view body,
                                   std::string_view product_token);

  // Whether the path (with its query, "/a/b?x=1") may be fetched. The longest matching
  // pattern decides, Allow on a tie; percent-encoding is compared in normalised form.
  bool allowed(std::string_view path_and_query) const;
  // The Crawl-delay of the chosen group (decimals allowed, at most one day), if it has one.
  std::optional<std::chrono::milliseconds> crawl_delay() const { return crawl_delay_; }
  // The Sitemap: lines, in file order, whichever group they appear in.
  std::vector<std::string> sitemaps() const { return sitemaps_; }

 private:
  struct Rule {
    bool allow = false;
    std::string pattern;  // normalised; may hold '*' and a final '$'
  };

  std::vector<Rule> rules_;
  std::optional<std::chrono::milliseconds> crawl_delay_;
  std::vector<std::string> sitemaps_;
};

}  // namespace vellum::sources
