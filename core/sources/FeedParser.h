// Reads the documents the daemon discovers article URLs from: RSS 2.0, RSS 1.0 (RDF), Atom 1.0,
// sitemaps, sitemap indexes and Google News sitemaps, plain or gzip-compressed.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "util/Time.h"

namespace vellum::sources {

// One article URL a discovery document names.
struct DiscoveredLink {
  std::string url;  // absolute http(s), normalised, without fragment
  // Publication date; a sitemap's <lastmod> (or Atom's <updated>) when that is all there is.
  std::optional<util::TimePoint> published;
  std::string title;  // whitespace collapsed; empty when the document gives none
};

enum class DocumentKind { rss, rdf, atom, urlset, sitemapindex };

// "rss", "rdf", "atom", "urlset", "sitemapindex"
const char* to_string(DocumentKind kind);

struct Discovery {
  DocumentKind kind = DocumentKind::rss;
  std::vector<DiscoveredLink> links;  // in document order, duplicates dropped
  std::vector<std::string> sitemaps;  // the children a sitemap index names
  std::vector<std::string> warnings;  // what was skipped or cut short, one sentence each
};

// A document that yields nothing usable: says what was found and what was expected, with the
// line number when the XML parser reported one.
class FeedError : public std::runtime_error {
 public:
  explicit FeedError(const std::string& message, int line = 0);
  int line() const { return line_; }  // 0 when unknown

 private:
  int line_;
};

// Parses `body` (gzip-compressed when it starts with the gzip magic bytes) as streaming XML:
// beyond the links returned, memory use does not grow with the document. Relative links are
// resolved against `base_url` and xml:base; only http(s) links are kept. Entity declarations
// are ignored and no DTD is read, so nothing is expanded or loaded from the network or disk; an
// entity reference in text stands for its HTML character (&nbsp;) or for nothing. Invalid
// UTF-8 becomes U+FFFD. A document that breaks off after some links returns them with a
// warning naming the line; one that yields nothing throws FeedError, as does a body that
// decodes to more than `max_decoded_bytes`.
Discovery parse_discovery(std::string_view body, const std::string& base_url,
                          std::size_t max_decoded_bytes = std::size_t{64} << 20);

}  // namespace vellum::sources
