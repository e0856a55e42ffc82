// Site extractor for TechCrunch (techcrunch.com): Yoast JSON-LD metadata and the post body.

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

// Names of the article's authors; {"@id": ...} references are resolved against the page's
// other JSON-LD objects (Yoast puts the Person nodes elsewhere in the graph).
std::vector<std::string> authors_of(const vellum::Page& page, const json* article) {
  std::vector<std::string> out;
  if (!article || !article->contains("author")) return out;
  json list = (*article)["author"];
  if (!list.is_array()) list = json::array({list});
  for (const auto& a : list) {
    json resolved = a;
    if (a.is_object() && !a.contains("name") && a.contains("@id"))
      for (const auto& o : page.json_ld)
        if (o.is_object() && o.value("@id", json()) == a["@id"] && o.contains("name")) resolved = o;
    json one = json::object({{"author", resolved}});
    for (auto& n : ld_names(&one))
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

// og:title without the site-name suffix (" | TechCrunch", earlier " – TechCrunch").
std::string strip_site_suffix(std::string t) {
  for (std::string_view suffix : {" | TechCrunch", " \xE2\x80\x93 TechCrunch", " - TechCrunch"})
    if (t.size() > suffix.size() && t.compare(t.size() - suffix.size(), suffix.size(), suffix) == 0)
      t.erase(t.size() - suffix.size());
  return clean(t);
}

class TechCrunchExtractor : public vellum::Extractor {
 public:
  explicit TechCrunchExtractor(const vellum::HostServices&) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    const std::string& url = page.final_url.empty() ? page.url : page.final_url;
    if (!page.document || !on_domain(url, "techcrunch.com")) return std::nullopt;
    const json* ld = find_ld(page, {"NewsArticle", "Article", "BlogPosting"});
    // 2024 WordPress block theme: div.entry-content; the earlier theme: div.article-content.
    Node body = page.document->select_first("div.entry-content");
    if (!body) body = page.document->select_first("div.article-content");
    if (!body || !ld) return std::nullopt;
    // The body container is generic WordPress: also require the site's own identity.
    if (page.meta_value("og:site_name") != "TechCrunch") return std::nullopt;

    vellum::Article a;
    // The JSON-LD headline keeps HTML entities; og:title is plain text.
    a.title = strip_site_suffix(page.meta_value("og:title"));
    if (a.title.empty()) a.title = text_of(page.document->xpath_first("//h1"));
    a.authors = authors_of(page, ld);
    if (a.authors.empty())
      if (std::string n = clean(page.meta_value("author")); !n.empty()) a.authors.push_back(n);
    a.published = iso_utc(ld_str(ld, "datePublished"));
    a.modified = iso_utc(ld_str(ld, "dateModified"));
    a.language = clean(ld_str(ld, "inLanguage"));
    if (a.language.empty()) a.language = language(page);
    a.canonical_url = canonical(page);
    a.images = ld_images(ld);
    if (a.images.empty())
      if (std::string img = page.meta_value("og:image"); img.rfind("http", 0) == 0)
        a.images.push_back({img, "", ""});
    if (ld->contains("keywords") && (*ld)["keywords"].is_array())
      for (const auto& k : (*ld)["keywords"])
        if (k.is_string()) a.tags.push_back(clean(k.get<std::string>()));

    // Top-level paragraphs, headings and lists; the speakable summary is the lead.
    SectionBuilder sb;
    for (const Node& c : body.element_children()) {
      std::string tag = c.tag();
      if (tag == "p") {
        if (c.attr("id") == "speakable-summary" && a.lead.empty())
          a.lead = text_of(c);
        else
          sb.paragraph(text_of(c));
      } else if (tag == "h2" || tag == "h3") {
        sb.heading(text_of(c));
      } else if (tag == "ul" || tag == "ol") {
        for (const Node& li : c.select("li")) sb.paragraph(text_of(li));
      } else if (tag == "blockquote" && !is_social_embed(c)) {
        for (const Node& p : c.select("p")) sb.paragraph(text_of(p));
      }
    }
    a.sections = sb.take();
    if (a.title.empty() || a.sections.empty()) return std::nullopt;
    return a;
  }
};

}  // namespace

VELLUM_PLUGIN("techcrunch", "1.0.0", VELLUM_HOSTS("techcrunch.com"), VELLUM_PATTERNS(),
              TechCrunchExtractor)
