// The feed and sitemap parser (RSS, RDF, Atom, sitemaps, sitemap indexes, Google News
// sitemaps, gzipped or not) on arbitrary bytes.
#include <cstdint>
#include <stdexcept>
#include <string>

#include "sources/FeedParser.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    auto found = vellum::sources::parse_discovery(body, "https://example.com/feed.xml", 4 << 20);
    for (const auto& link : found.links)
      if (link.url.empty()) __builtin_trap();  // parsed links are absolute URLs
  } catch (const std::runtime_error&) {
  }
  return 0;
}
