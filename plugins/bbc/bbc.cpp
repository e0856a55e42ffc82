// Site extractor for BBC News (bbc.com, bbc.co.uk): JSON-LD metadata and the article's content
// blocks (or the pre-2023 story body).

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

// A paragraph that is one bold run: the BBC's standfirst style.
bool all_bold(const Node& p) {
  bool bold = false;
  for (const Node& c : p.children()) {
    if (c.is_text()) {
      if (!clean(c.raw_text()).empty()) return false;
    } else if (c.is_element()) {
      std::string t = c.tag();
      if (t != "b" && t != "strong") return false;
      bold = true;
    }
  }
  return bold;
}

// A list whose every item is a single link: "related stories", not article text.
bool is_link_list(const Node& list) {
  auto items = list.select("li");
  if (items.empty()) return false;
  for (const Node& li : items) {
    auto links = li.select("a");
    if (links.size() != 1 || text_of(links.front()) != text_of(li)) return false;
  }
  return true;
}

// Italic text around links ("Follow Newsbeat on Instagram, Facebook..."): a promotion at the
// foot of older stories.
bool italic_promo(const Node& p) {
  bool link = false, ok = true;
  auto walk = [&](auto&& self, const Node& n, bool italic) -> void {
    for (const Node& c : n.children()) {
      if (c.is_text()) {
        std::string s = c.raw_text();
        bool words = std::any_of(s.begin(), s.end(), [](char ch) {
          return std::isalnum(static_cast<unsigned char>(ch));
        });
        if (!italic && words) ok = false;
      } else if (c.is_element()) {
        std::string t = c.tag();
        if (t == "a") {
          link = true;
          continue;
        }
        self(self, c, italic || t == "i" || t == "em");
      }
    }
  };
  walk(walk, p, false);
  return link && ok;
}

class BbcExtractor : public vellum::Extractor {
 public:
  explicit BbcExtractor(const vellum::HostServices&) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    const std::string& url = page.final_url.empty() ? page.url : page.final_url;
    if (!page.document || !(on_domain(url, "bbc.com") || on_domain(url, "bbc.co.uk")))
      return std::nullopt;
    const json* ld = find_ld(page, {"ReportageNewsArticle", "NewsArticle", "Article"});
    // Article pages are built from blocks tagged data-component="...-block"; pages from before
    // 2023 keep their text in div.story-body__inner.
    Node article = page.document->xpath_first(
        "//main//article[.//*[@data-component='text-block']] | "
        "//article[.//*[@data-component='text-block']]");
    Node legacy = article ? Node() : page.document->select_first("div.story-body__inner");
    if ((!article && !legacy) || !ld) return std::nullopt;
    Node scope = article ? article : legacy;

    vellum::Article a;
    a.title = clean(ld_str(ld, "headline"));
    if (a.title.empty()) a.title = text_of(page.document->xpath_first("//h1"));
    a.authors = ld_names(ld);
    a.published = iso_utc(ld_str(ld, "datePublished"));
    a.modified = iso_utc(ld_str(ld, "dateModified"));
    a.language = language(page);
    a.canonical_url = canonical(page);
    a.images = ld_images(ld);
    for (const Node& t :
         scope.xpath(".//*[@data-component='tags' or @data-component='tag-list-block']//a"))
      if (std::string s = text_of(t); !s.empty()) a.tags.push_back(s);

    SectionBuilder sb;
    bool any_paragraph = false;
    if (legacy) {
      for (const Node& c : legacy.element_children()) {
        std::string tag = c.tag();
        if (tag == "p") {
          if (c.has_class("story-body__introduction") && a.lead.empty() && !any_paragraph)
            a.lead = text_of(c);
          else if (!italic_promo(c))
            sb.paragraph(text_of(c));
          any_paragraph = true;
        } else if (tag == "h2" || tag == "h3") {
          sb.heading(text_of(c));
        } else if ((tag == "ul" || tag == "ol") && !is_link_list(c)) {
          for (const Node& li : c.xpath("./li")) sb.paragraph(text_of(li));
        }
      }
    }
    for (const Node& block : article.xpath(".//*[@data-component]")) {
      std::string kind = block.attr("data-component");
      if (kind == "subheadline-block") {
        sb.heading(text_of(block));
      } else if (kind == "text-block") {
        for (const Node& el : block.xpath(".//p | .//ul | .//ol")) {
          if (el.tag() == "p") {
            if (el.xpath_first("ancestor::li")) continue;
            std::string text = text_of(el);
            // A bold first paragraph is the summary.
            if (!any_paragraph && a.lead.empty() && all_bold(el)) {
              a.lead = text;
              continue;
            }
            sb.paragraph(text);
            any_paragraph = true;
          } else if (!is_link_list(el)) {
            for (const Node& li : el.xpath("./li")) {
              sb.paragraph(text_of(li));
              any_paragraph = true;
            }
          }
        }
      }
    }
    a.sections = sb.take();
    if (a.title.empty() || a.sections.empty()) return std::nullopt;
    return a;
  }
};

}  // namespace

VELLUM_PLUGIN("bbc", "1.0.0", VELLUM_HOSTS("bbc.com", "bbc.co.uk"), VELLUM_PATTERNS(), BbcExtractor)
