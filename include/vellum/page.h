// The page an extractor receives: the capture, its decoded HTML, the parsed document, and the
// metadata every extractor wants (JSON-LD objects, meta tags) already collected.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "vellum/dom.h"

namespace vellum {

struct Page {
  std::string url;        // as requested
  std::string final_url;  // after redirects (the URL of this response)
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // response headers, in order
  std::string html;  // the body decoded to UTF-8 (content coding and charset undone)
  std::shared_ptr<const Document> document;  // `html` parsed
  // Every JSON-LD object on the page, with @graph arrays flattened into the list.
  std::vector<nlohmann::json> json_ld;
  // <meta> tags by lower-cased name or property ("og:title", "description",
  // "article:published_time"); repeated tags keep every value in order.
  std::multimap<std::string, std::string> meta;

  // First value of a meta tag; empty when absent.
  std::string meta_value(const std::string& key) const {
    auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  }
  std::vector<std::string> meta_values(const std::string& key) const {
    std::vector<std::string> out;
    auto [a, b] = meta.equal_range(key);
    for (auto it = a; it != b; ++it) out.push_back(it->second);
    return out;
  }
};

}  // namespace vellum
