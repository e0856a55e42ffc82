// Site extractor for AP News (apnews.com): JSON-LD metadata and the story body container.

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

// A heading made only of underscores ends the story (credits follow).
bool is_end_rule(const std::string& h) {
  return !h.empty() && std::all_of(h.begin(), h.end(), [](char c) { return c == '_'; });
}

class ApNewsExtractor : public vellum::Extractor {
 public:
  explicit ApNewsExtractor(const vellum::HostServices&) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    const std::string& url = page.final_url.empty() ? page.url : page.final_url;
    if (!page.document || !on_domain(url, "apnews.com")) return std::nullopt;
    // Current layout: div.RichTextStoryBody; the 2023 layout: div.Article.
    Node body = page.document->select_first("div.RichTextStoryBody");
    if (!body) body = page.document->select_first("div.Article");
    const json* ld = find_ld(page, {"NewsArticle", "Article", "ReportageNewsArticle"});
    if (!body || !ld) return std::nullopt;

    vellum::Article a;
    a.title = clean(ld_str(ld, "headline"));
    if (a.title.empty()) a.title = clean(page.meta_value("og:title"));
    if (a.title.empty()) a.title = text_of(page.document->xpath_first("//h1"));
    a.authors = ld_names(ld);
    a.published = iso_utc(ld_str(ld, "datePublished"));
    a.modified = iso_utc(ld_str(ld, "dateModified"));
    a.language = language(page);
    a.canonical_url = canonical(page);
    a.images = ld_images(ld);
    for (const Node& t : page.document->select("div.Page-tags a"))
      if (std::string s = text_of(t); !s.empty()) a.tags.push_back(s);

    // Paragraphs and sub-headings are direct children; embeds, ads and info boxes are divs.
    SectionBuilder sb;
    for (const Node& c : body.element_children()) {
      std::string tag = c.tag();
      if (tag == "p") {
        sb.paragraph(text_of(c));
      } else if (tag == "h2" || tag == "h3") {
        std::string h = text_of(c);
        if (is_end_rule(h)) break;
        sb.heading(h);
      } else if (tag == "ul" || tag == "ol") {
        for (const Node& li : c.select("li")) sb.paragraph(text_of(li));
      } else if (tag == "blockquote" && !is_social_embed(c)) {
        sb.paragraph(text_of(c));
      }
    }
    a.sections = sb.take();
    if (a.title.empty() || a.sections.empty()) return std::nullopt;
    return a;
  }
};

}  // namespace

VELLUM_PLUGIN("apnews", "1.0.0", VELLUM_HOSTS("apnews.com"), VELLUM_PATTERNS(), ApNewsExtractor)
