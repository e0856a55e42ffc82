// Site extractor for Reuters (reuters.com): JSON-LD metadata and the article body of the current
// and the 2019 layouts.

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <vellum/helpers.h>
#include <vellum/plugin.h>

namespace {

using namespace vellum::helpers;
using nlohmann::json;
using vellum::Node;

// Screen-reader-only text (", opens new tab") is clipped away with inline styles.
bool visually_hidden(const Node& n) {
  std::string style = n.attr("style");
  return style.find("clip:rect(0 0 0 0)") != std::string::npos ||
         style.find("clip-path:inset(50%)") != std::string::npos;
}

bool starts_with(const std::string& s, std::string_view p) {
  return s.rfind(p, 0) == 0;
}

class ReutersExtractor : public vellum::Extractor {
 public:
  explicit ReutersExtractor(const vellum::HostServices&) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    const std::string& url = page.final_url.empty() ? page.url : page.final_url;
    if (!page.document || !on_domain(url, "reuters.com")) return std::nullopt;
    const json* ld = find_ld(page, {"NewsArticle", "Article", "ReportageNewsArticle"});
    // Current (Fusion) layout, then the 2019 one (StandardArticleBody).
    Node body = page.document->select_first("[data-testid=ArticleBody]");
    if (!body) body = page.document->select_first("div[class*=article-body__content]");
    Node legacy = body ? Node() : page.document->select_first("div.StandardArticleBody_body");
    if (!body && !legacy) return std::nullopt;

    vellum::Article a;
    a.title = clean(ld_str(ld, "headline"));
    if (a.title.empty()) a.title = clean(page.meta_value("og:title"));
    if (a.title.empty()) a.title = text_of(page.document->xpath_first("//h1"));
    a.authors = ld_names(ld);
    if (a.authors.empty()) {
      // Fallback: the comma-separated article:author (or Author) meta tag.
      std::string list = page.meta_value("article:author");
      if (list.empty()) list = page.meta_value("author");
      for (std::size_t i = 0; i < list.size();) {
        std::size_t j = list.find(',', i);
        if (j == std::string::npos) j = list.size();
        if (std::string n = clean(list.substr(i, j - i)); !n.empty()) a.authors.push_back(n);
        i = j + 1;
      }
    }
    a.published = iso_utc(ld_str(ld, "datePublished"));
    if (a.published.empty()) a.published = iso_utc(page.meta_value("article:published_time"));
    if (a.published.empty())
      a.published = iso_utc(page.meta_value("analyticsattributes.articledate"));
    a.modified = iso_utc(ld_str(ld, "dateModified"));
    a.language = language(page);
    a.canonical_url = canonical(page);
    a.images = ld_images(ld);
    for (const auto& k : page.meta_values("article:tag"))
      if (std::string s = clean(k); !s.empty()) a.tags.push_back(s);

    // Paragraphs carry data-testid="paragraph-N"; sub-headings data-testid="Heading". The
    // first paragraph is the dateline lead.
    SectionBuilder sb;
    bool first = true;
    if (legacy) {
      for (const Node& c : legacy.element_children()) {
        std::string tag = c.tag();
        if (tag == "p") {
          std::string p = text_of(c, visually_hidden);
          if (first && !p.empty()) {
            a.lead = p;
            first = false;
          } else {
            sb.paragraph(p);
          }
        } else if (tag == "h2" || tag == "h3") {
          sb.heading(text_of(c, visually_hidden));
        }
      }
    }
    for (const Node& n : body.select("[data-testid]")) {
      std::string id = n.attr("data-testid");
      if (starts_with(id, "paragraph-")) {
        std::string p = text_of(n, visually_hidden);
        if (first) {
          a.lead = p;
          first = false;
        } else {
          sb.paragraph(p);
        }
      } else if (id == "Heading" && (n.tag() == "h2" || n.tag() == "h3")) {
        sb.heading(text_of(n, visually_hidden));
      }
    }
    a.sections = sb.take();
    if (a.title.empty() || (a.sections.empty() && a.lead.empty())) return std::nullopt;
    return a;
  }
};

}  // namespace

VELLUM_PLUGIN("reuters", "1.0.0", VELLUM_HOSTS("reuters.com"), VELLUM_PATTERNS(), ReutersExtractor)
