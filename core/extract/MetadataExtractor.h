// Article metadata from JSON-LD, OpenGraph / Twitter / article:* meta tags, microdata, <time>,
// <html lang> and <link rel=canonical>, in that order of trust.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vellum/article.h"
#include "vellum/page.h"

namespace vellum::extract {

struct ArticleMetadata {
  std::string title;
  std::vector<std::string> authors;
  std::string published;
  std::string modified;
  std::string language;
  std::string canonical_url;
  std::string description;
  std::vector<std::string> tags;
  std::vector<ArticleImage> images;  // og:image / JSON-LD image
};

class MetadataExtractor {
 public:
  ArticleMetadata extract(const Page& page) const;
};

// Decodes the character references JSON-LD and meta values sometimes carry ("&amp;", "&#39;").
std::string decode_entities(std::string_view s);

// Removes a " | Site" / " - Site" suffix (or "Site | " prefix) naming `site_name`.
std::string strip_site_name(const std::string& title, const std::string& site_name);

}  // namespace vellum::extract
