// The template plugin: copy this folder, rename, and teach extract() your site.
//
// Build it against an installed Vellum SDK:
//   cmake -S . -B build && cmake --build build
// and copy build/hello.so into a plugin directory.
#include <vellum/helpers.h>
#include <vellum/plugin.h>

namespace {

class HelloExtractor : public vellum::Extractor {
 public:
  explicit HelloExtractor(const vellum::HostServices& services) : services_(services) {}

  std::optional<vellum::Article> extract(const vellum::Page& page) override {
    if (!page.document) return std::nullopt;
    vellum::Article article;
    article.title = page.document->select_first("h1").text();
    if (article.title.empty()) article.title = page.meta_value("og:title");
    for (const auto& a : page.meta_values("author")) article.authors.push_back(a);
    // Dates go into the article as ISO 8601 UTC; empty (unknown) when the page has none.
    article.published = vellum::helpers::iso_utc(page.meta_value("article:published_time"));
    vellum::ArticleSection body;
    for (const auto& p : page.document->select("article p")) {
      std::string text = p.text();
      if (!text.empty()) body.paragraphs.push_back(text);
    }
    if (article.title.empty() && body.paragraphs.empty()) return std::nullopt;
    article.sections.push_back(std::move(body));
    if (services_.log) services_.log(vellum::LogLevel::debug, "extracted " + page.final_url);
    return article;
  }

 private:
  vellum::HostServices services_;
};

}  // namespace

VELLUM_PLUGIN("hello", "1.0.0", VELLUM_HOSTS("hello.example"), VELLUM_PATTERNS(), HelloExtractor)
