// Site extractor for the Mirror (mirror.co.uk): articles and live blogs in both page templates.

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

// Is every word of `p` both bold and italic? The Mirror sets its editorial call-outs ("Do you
// have a story to tell? Email: ...", "Follow along with the latest updates below.") that way.
bool emphasised_callout(const Node& p) {
  bool any = false;
  bool ok = true;
  auto walk = [&](auto&& self, const Node& n, bool bold, bool italic) -> void {
    for (const Node& c : n.children()) {
      if (c.is_text()) {
        if (clean(c.raw_text()).empty()) continue;
        any = true;
        if (!bold || !italic) ok = false;
      } else if (c.is_element()) {
        std::string t = c.tag();
        self(self, c, bold || t == "b" || t == "strong", italic || t == "i" || t == "em");
      }
    }
  };
  walk(walk, p, false, false);
  return any && ok;
}

// A paragraph that is nothing but a link: a teaser for another article.
bool link_only(const Node& p) {
  auto links = p.xpath(".//a");
  return links.size() == 1 && !text_of(p).empty() && text_of(links.front()) == text_of(p);
}

// Adds the direct children of `container` that are article text: paragraphs, sub-headings,
// lists and quotes.
void add_blocks(const Node& container, SectionBuilder& sb) {
  for (const Node& c : container.element_children()) {
    std::string tag = c.tag();
    if (tag == "p") {
      if (!emphasised_callout(c) && !link_only(c)) sb.paragraph(text_of(c));
    } else if ((tag == "h2" || tag == "h3") && c.attr("data-testid") != "leadtext") {
      sb.heading(text_of(c));
    } else if (tag == "ul" || tag == "ol") {
      for (const Node& li : c.xpath("./li")) sb.paragraph(text_of(li));
    } else if (tag == "blockquote" && !is_social_embed(c)) {
      sb.paragraph(text_of(c));
    }
  }
}

class MirrorExtractor : public vellum::Extractor {
 public:
  explicit MirrorExtractor(const vellum::HostServices&) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    const std::string& url = page.final_url.empty() ? page.url : page.final_url;
    if (!page.document || !on_domain(url, "mirror.co.uk")) return std::nullopt;
    const vellum::Document& doc = *page.document;
    // Two templates: the classic one (div.article-body, also used by live blogs) and the 2025
    // one (article#article-body).
    Node classic = doc.select_first("div.article-body[itemprop=articleBody]");
    Node modern = doc.select_first("article#article-body");
    if (!classic && !modern) return std::nullopt;
    const json* ld =
        find_ld(page, {"NewsArticle", "Article", "LiveBlogPosting", "ReportageNewsArticle"});

    vellum::Article a;
    a.title = clean(page.meta_value("og:title"));
    if (a.title.empty()) a.title = clean(ld_str(ld, "headline"));
    if (a.title.empty()) a.title = text_of(doc.xpath_first("//h1"));
    a.authors = ld_names(ld);
    if (a.authors.empty())
      for (const auto& n : page.meta_values("author"))
        if (std::string s = clean(n);
            !s.empty() && s.front() != '(' &&
            std::find(a.authors.begin(), a.authors.end(), s) == a.authors.end())
          a.authors.push_back(s);
    a.published = iso_utc(ld_str(ld, "datePublished"));
    if (a.published.empty()) a.published = iso_utc(page.meta_value("article:published_time"));
    if (a.published.empty()) a.published = iso_utc(page.meta_value("parsely-pub-date"));
    a.modified = iso_utc(ld_str(ld, "dateModified"));
    if (a.modified.empty()) a.modified = iso_utc(page.meta_value("article:modified_time"));
    a.language = clean(ld_str(ld, "inLanguage"));
    if (a.language.empty()) a.language = clean(page.meta_value("og:language"));
    if (a.language.empty()) a.language = language(page);
    a.canonical_url = canonical(page);
    if (modern) a.lead = text_of(modern.select_first("[data-testid=leadtext]"));
    if (a.lead.empty()) a.lead = clean(page.meta_value("og:description"));
    if (a.lead.empty()) a.lead = clean(ld_str(ld, "description"));
    a.images = ld_images(ld);
    if (a.images.empty())
      if (std::string img = page.meta_value("og:image"); img.rfind("http", 0) == 0)
        a.images.push_back({img, "", ""});

    SectionBuilder sb;
    if (modern) {
      add_blocks(modern, sb);
    } else if (Node live = classic.select_first("div.live-event-container")) {
      // Live blog: the introduction, then one section per update, newest first.
      if (Node intro = live.select_first("div.live-event-lead-entry")) add_blocks(intro, sb);
      for (const Node& entry : live.select("div.live-event-entry > div.entry-content"))
        add_blocks(entry, sb);
    } else {
      add_blocks(classic, sb);
    }
    a.sections = sb.take();
    if (a.title.empty() || a.sections.empty()) return std::nullopt;
    return a;
  }
};

}  // namespace

VELLUM_PLUGIN("mirror", "1.0.0", VELLUM_HOSTS("mirror.co.uk"), VELLUM_PATTERNS(), MirrorExtractor)
