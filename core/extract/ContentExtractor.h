// Finds the main text of an article page by content scoring (in the spirit of readability):
// boilerplate subtrees are skipped, text blocks score their ancestors, the best container and
// its well-scoring siblings give the paragraphs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "vellum/article.h"
#include "vellum/dom.h"

namespace vellum::extract {

struct ExtractedContent {
  std::vector<ArticleSection> sections;
  std::vector<std::string> key_points;
  std::vector<ArticleImage> images;  // figures inside the content, in order
  std::string byline;                // a "By ..." line above the text, left out of it
};

class ContentExtractor {
 public:
  // `title` (may be empty) is left out of the body when it reappears there as a heading.
  ExtractedContent extract(const Document& doc, const std::string& base_url,
                           const std::string& title) const;

 private:
  // One reading of the page; `by_class_names`: furniture class and id names remove subtrees;
  // `read_noscript`: the contents of <noscript> are read.
  ExtractedContent extract_pass(const Document& doc, const std::string& base_url,
                                const std::string& title, bool by_class_names,
                                bool read_noscript) const;
};

// Resolves `href` against `base`; `href` itself when that fails.
std::string resolve_url(const std::string& base, const std::string& href);

// The URL the page's relative URLs resolve against: its first <base href> (resolved against
// `page_url`) when that is an http(s) URL, else `page_url`.
std::string document_base_url(const Document& doc, const std::string& page_url);

// The element's style attribute lower-cased without spaces ("display:none"), empty when none.
std::string compact_style(xmlNodePtr n);

// Is `text` a short piece of page furniture ("Advertisement", "Read more", "Share this")?
bool is_ui_text(const std::string& text);

// The URL of an <img> or <amp-img> as written (not resolved): past lazy-loading stand-ins to
// the real image (data-src and the like, src, srcset, the <source>s of its <picture>); empty
// when it has none.
std::string image_url(const Node& img);

// Splits "Photo: Jane Doe" / "(Image: Reuters)" off a caption; returns the credit.
std::string split_credit(std::string& caption);

}  // namespace vellum::extract
