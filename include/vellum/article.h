// The article a plugin (or the generic extractor) returns for a page.
#pragma once

#include <string>
#include <vector>

namespace vellum {

struct ArticleImage {
  std::string url;      // absolute
  std::string caption;  // empty when unknown
  std::string credit;   // empty when unknown
};

struct ArticleSection {
  std::string heading;                  // empty for the part before the first sub-heading
  std::vector<std::string> paragraphs;  // in reading order; list items and quotes included
};

// Unknown fields stay empty: never invented.
struct Article {
  std::string title;
  std::vector<std::string> authors;
  std::string published;      // ISO 8601 UTC, "2026-04-08T16:09:31Z"; empty when unknown
  std::string modified;       // same form
  std::string language;       // BCP 47 ("en", "en-GB"); empty when unknown
  std::string canonical_url;  // absolute
  std::string lead;           // standfirst / summary
  std::vector<std::string> key_points;
  std::vector<ArticleSection> sections;
  std::vector<ArticleImage> images;
  std::vector<std::string> tags;

  // Every paragraph of every section, separated by blank lines.
  std::string body_text() const {
    std::string out;
    for (const auto& s : sections)
      for (const auto& p : s.paragraphs) {
        if (!out.empty()) out += "\n\n";
        out += p;
      }
    return out;
  }
};

}  // namespace vellum
