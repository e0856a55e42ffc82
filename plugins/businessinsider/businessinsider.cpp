// Site extractor for Business Insider (businessinsider.com): JSON-LD metadata, story and slideshow
// layouts.

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

// Adds a container's top-level paragraphs, headings and lists to `sb`.
void add_blocks(const Node& container, SectionBuilder& sb) {
  for (const Node& c : container.element_children()) {
    std::string tag = c.tag();
    if (tag == "p") {
      sb.paragraph(text_of(c));
    } else if (tag == "h2" || tag == "h3") {
      sb.heading(text_of(c));
    } else if ((tag == "ul" || tag == "ol") && !c.has_class("summary-list")) {
      for (const Node& li : c.xpath("./li")) sb.paragraph(text_of(li));
    } else if (tag == "blockquote" && !is_social_embed(c)) {
      sb.paragraph(text_of(c));
    }
  }
}

class BusinessInsiderExtractor : public vellum::Extractor {
 public:
  explicit BusinessInsiderExtractor(const vellum::HostServices&) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    const std::string& url = page.final_url.empty() ? page.url : page.final_url;
    if (!page.document || !on_domain(url, "businessinsider.com")) return std::nullopt;
    const json* ld = find_ld(page, {"NewsArticle", "Article", "ReportageNewsArticle"});
    const vellum::Document& doc = *page.document;
    // Story layout: section.post-body-content; slideshow layout: an intro and one div.slide
    // per item.
    Node story = doc.select_first("section.post-body-content");
    Node intro = doc.select_first("section.slideshow-intro-content");
    auto slides = doc.select("div.slide-layout");
    if (!ld || (!story && !intro && slides.empty())) return std::nullopt;

    vellum::Article a;
    // "name" is the full headline; "headline" is a shortened one.
    a.title = clean(ld_str(ld, "name"));
    if (a.title.empty()) a.title = clean(page.meta_value("og:title"));
    if (a.title.empty()) a.title = clean(ld_str(ld, "headline"));
    a.authors = ld_names(ld);
    a.published = iso_utc(ld_str(ld, "datePublished"));
    a.modified = iso_utc(ld_str(ld, "dateModified"));
    a.language = language(page);
    a.canonical_url = canonical(page);
    a.lead = clean(ld_str(ld, "description"));
    a.images = ld_images(ld);
    for (const Node& li : doc.select("ul.summary-list li, div.post-summary-bullets li"))
      if (std::string s = text_of(li); !s.empty()) a.key_points.push_back(s);
    std::string keywords = ld_str(ld, "keywords");
    for (std::size_t i = 0; i < keywords.size();) {
      std::size_t j = keywords.find(',', i);
      if (j == std::string::npos) j = keywords.size();
      if (std::string k = clean(keywords.substr(i, j - i)); !k.empty()) a.tags.push_back(k);
      i = j + 1;
    }

    SectionBuilder sb;
    if (story) {
      add_blocks(story, sb);
    } else {
      if (intro) {
        Node text = intro.select_first("div.content-lock-content");
        add_blocks(text ? text : intro, sb);
      }
      for (const Node& slide : slides) {
        sb.heading(text_of(slide.select_first(".slide-title-text")));
        add_blocks(slide, sb);
      }
    }
    a.sections = sb.take();
    if (a.title.empty() || a.sections.empty()) return std::nullopt;
    return a;
  }
};

}  // namespace

VELLUM_PLUGIN("businessinsider", "1.0.0", VELLUM_HOSTS("businessinsider.com"), VELLUM_PATTERNS(),
              BusinessInsiderExtractor)
