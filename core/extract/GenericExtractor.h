// The generic article extractor: the fallback for every site without a plugin. Metadata from
// JSON-LD, OpenGraph/Twitter/article meta tags, microdata and <time>; the main text by content
// scoring with boilerplate removal.
#pragma once

#include "vellum/article.h"
#include "vellum/page.h"

namespace vellum::extract {

inline constexpr const char* kGenericExtractorName = "generic";
inline constexpr const char* kGenericExtractorVersion = "1.0.0";

class GenericExtractor {
 public:
  Article extract(const Page& page) const;
};

}  // namespace vellum::extract
