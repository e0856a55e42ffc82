// Finds article links on an HTML listing page (a section front, a tag page, an archive).
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::sources {

// Every <a href> of `html` that leads to another page, resolved against the page's <base href>
// (or `page_url` when it has none), without fragment, kept when it is http(s) and `pattern`
// matches somewhere in the absolute URL (std::regex_search), and at most 2,048 bytes long (the
// sitemaps protocol's limit). Same-page references ("#top")
// are skipped; duplicates are dropped; document order is kept. Broken HTML is parsed the way
// browsers recover from it; nothing is fetched.
std::vector<std::string> find_links(std::string_view html, const std::string& page_url,
                                    const std::regex& pattern);

// Links a site plugin listed for a page, treated like find_links() treats <a href>: resolved
// against `page_url`, without fragment, kept when http(s) and `pattern` matches, duplicates
// dropped, order kept.
std::vector<std::string> filter_links(const std::vector<std::string>& links,
                                      const std::string& page_url, const std::regex& pattern);

}  // namespace vellum::sources
