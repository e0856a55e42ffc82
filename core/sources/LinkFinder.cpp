#include "sources/LinkFinder.h"

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include <climits>
#include <memory>
#include <unordered_set>

#include "util/Url.h"

namespace vellum::sources {

namespace {

struct DocDeleter {
  void operator()(xmlDocPtr d) const { xmlFreeDoc(d); }
};

bool is_element(xmlNodePtr n, const char* name) {
  return n->type == XML_ELEMENT_NODE && n->name &&
         xmlStrcasecmp(n->name, reinterpret_cast<const xmlChar*>(name)) == 0;
}

std::string href_of(xmlNodePtr n) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>("href"));
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

// The next node in document order after `n`, staying inside `root`.
xmlNodePtr next_node(xmlNodePtr n, xmlNodePtr root) {
  if (n->children) return n->children;
  while (n && n != root) {
    if (n->next) return n->next;
    n = n->parent;
  }
  return nullptr;
}

}  // namespace

namespace {

// Longer links are not taken: the sitemaps protocol caps a URL at 2,048 characters, and
// std::regex matches recursively, a stack frame or more per character (a 50,000-character
// link overflows a thread's 8 MiB stack).
constexpr std::size_t kMaxLinkLength = 2048;

bool takes(const std::string& url, const std::regex& pattern) {
  return !url.empty() && url.size() <= kMaxLinkLength && std::regex_search(url, pattern);
}

}  // namespace

std::vector<std::string> find_links(std::string_view html, const std::string& page_url,
                                    const std::regex& pattern) {
  std::vector<std::string> out;
  if (html.empty()) return out;
  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;
  if (html.size() > static_cast<std::size_t>(INT_MAX)) html = html.substr(0, INT_MAX);
  // The charset comes from <meta charset> when there is one; libxml2 assumes UTF-8 otherwise.
  std::unique_ptr<xmlDoc, DocDeleter> doc(htmlReadMemory(
      html.data(), static_cast<int>(html.size()), nullptr, nullptr,
      HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET));
  if (!doc) return out;
  xmlNodePtr root = xmlDocGetRootElement(doc.get());
  if (!root) return out;

  // The first <base href> applies to the whole document (HTML: only the first counts).
  std::string base = page_url;
  for (xmlNodePtr n = root; n; n = next_node(n, root)) {
    if (is_element(n, "base")) {
      std::string href = href_of(n);
      if (href.empty()) continue;
      std::string resolved = util::resolve_url(page_url, href);
      if (!resolved.empty()) base = std::move(resolved);
      break;
    }
  }

  std::unordered_set<std::string> seen;
  for (xmlNodePtr n = root; n; n = next_node(n, root)) {
    if (!is_element(n, "a")) continue;
    std::string href = href_of(n);
    // "#top" and "" point into this same page, not to another one.
    std::size_t start = href.find_first_not_of(" \t\r\n\f");
    if (start == std::string::npos || href[start] == '#') continue;
    std::string url = util::resolve_url(base, href);  // empty unless http(s); no fragment
    if (!takes(url, pattern)) continue;
    if (seen.insert(url).second) out.push_back(std::move(url));
  }
  return out;
}

std::vector<std::string> filter_links(const std::vector<std::string>& links,
                                      const std::string& page_url, const std::regex& pattern) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const auto& link : links) {
    std::string url = util::resolve_url(page_url, link);  // empty unless http(s); no fragment
    if (!takes(url, pattern)) continue;
    if (seen.insert(url).second) out.push_back(std::move(url));
  }
  return out;
}

}  // namespace vellum::sources
