#include "extract/GenericExtractor.h"

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "extract/ContentExtractor.h"
#include "extract/MetadataExtractor.h"
#include "extract/TextUtil.h"
#include "util/Text.h"

namespace vellum::extract {

namespace {

// Words of `s` in lower case, for loose comparison of a description with a paragraph.
std::string squash(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) out += static_cast<char>(std::tolower(u));
  }
  return out;
}

// Words of four letters or more in lower case (any non-ASCII byte counts as a letter), cut to
// their first five ("lawsuits" and "lawsuit" are one), for telling whether two texts speak of
// the same thing.
std::vector<std::string> long_words(const std::string& s) {
  static const char* const kCommon[] = {"that",  "with", "from",  "this", "have", "will",  "more",
                                        "about", "your", "their", "they", "what", "when",  "which",
                                        "there", "also", "into",  "than", "them", "these", "some",
                                        "were",  "been", "here",  "just", "only", "most",  "other"};
  std::vector<std::string> out;
  std::string w;
  auto flush = [&] {
    if (w.size() >= 4 && std::find(std::begin(kCommon), std::end(kCommon), w) == std::end(kCommon))
      out.push_back(w.substr(0, 5));
    w.clear();
  };
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80)
      w += static_cast<char>(std::tolower(u));
    else
      flush();
  }
  flush();
  return out;
}

// Whether a meta description speaks of the article: a site's own description, repeated on
// every page ("Breaking news, sport and weather from across the region"), shares no word with
// the headline or the text. A short text (a story cut by a paywall) and text without spaces
// between words (Chinese, Japanese) are not judged.
bool describes_article(const std::string& description, const Article& a) {
  const std::vector<std::string> words = long_words(description);
  if (words.size() < 4) return true;
  std::string text = a.title;
  for (const auto& section : a.sections)
    for (const auto& p : section.paragraphs) text += " " + p;
  std::vector<std::string> seen = long_words(text);
  if (seen.size() < 100) return true;
  std::sort(seen.begin(), seen.end());
  for (const std::string& w : words)
    if (std::binary_search(seen.begin(), seen.end(), w)) return true;
  return false;
}

// A byline left above the text: one of the authors' names alone, or followed by a place ("in
// London") or a role after a comma, bar or dash ("Jane Smith, Political Editor"), and nothing
// that makes it a sentence ("Jane Smith said: …", "Jane Smith (pictured) won …").
bool is_byline_line(const std::string& p, const std::vector<std::string>& authors) {
  if (p.size() > 100 || p.find('\n') != std::string::npos) return false;
  const std::string l = util::to_lower(p);
  for (const std::string& name : authors) {
    const std::string n = util::to_lower(name);
    if (n.size() < 4 || !l.starts_with(n)) continue;
    std::string_view rest = std::string_view(p).substr(n.size());
    if (rest.empty()) return true;
    std::size_t words = 1;
    if (rest.starts_with(" in ")) {
      rest.remove_prefix(4);  // a place: capitalised words
      for (std::size_t i = 0; i < rest.size(); ++i)
        if (rest[i] == ' ') ++words;
      if (rest.empty() || !std::isupper(static_cast<unsigned char>(rest.front())) || words > 4)
        continue;
    } else if (rest.starts_with(", ") || rest.starts_with(" | ") || rest.starts_with(" - ") ||
               rest.starts_with(" \xE2\x80\x93 ")) {
      rest.remove_prefix(rest.find(' ', 1) + 1);  // a role: a few words
      for (std::size_t i = 0; i < rest.size(); ++i)
        if (rest[i] == ' ') ++words;
      if (rest.empty() || words > 6) continue;
    } else {
      continue;
    }
    // Nothing a sentence or a quotation would hold.
    bool plain = rest.find_first_of(".!?:;\"()") == std::string_view::npos;
    for (const char* mark : {"\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x98", "\xE2\x80\x99",
                             "\xC2\xAB", "\xC2\xBB", "\xE2\x80\xA6"})  // quotes, ellipsis
      plain = plain && rest.find(mark) == std::string_view::npos;
    if (plain) return true;
  }
  return false;
}

}  // namespace

Article GenericExtractor::extract(const Page& page) const {
  Article a;
  ArticleMetadata m = MetadataExtractor().extract(page);
  a.title = m.title;
  a.authors = m.authors;
  a.published = m.published;
  a.modified = m.modified;
  a.language = m.language;
  a.canonical_url = m.canonical_url;
  a.tags = m.tags;
  a.images = m.images;
  if (!page.document) return a;

  ExtractedContent c = ContentExtractor().extract(
      *page.document, document_base_url(*page.document, page.final_url), a.title);
  a.sections = std::move(c.sections);
  a.key_points = std::move(c.key_points);
  if (!a.sections.empty() && a.sections.front().heading.empty()) {
    auto& first = a.sections.front().paragraphs;
    if (first.size() > 1 && is_byline_line(first.front(), a.authors)) first.erase(first.begin());
  }
  std::unordered_map<std::string, std::size_t> by_url;  // a gallery may hold thousands
  for (std::size_t i = 0; i < a.images.size(); ++i) by_url.emplace(a.images[i].url, i);
  for (auto& im : c.images) {
    auto [it, added] = by_url.emplace(im.url, a.images.size());
    if (added) {
      a.images.push_back(std::move(im));
      continue;
    }
    ArticleImage& e = a.images[it->second];
    if (e.caption.empty()) e.caption = im.caption;
    if (e.credit.empty()) e.credit = im.credit;
  }

  // The standfirst, unless it merely repeats the opening paragraph.
  if (!m.description.empty()) {
    std::string d = squash(m.description);
    bool repeated = false;
    if (!a.sections.empty() && !a.sections.front().paragraphs.empty()) {
      std::string p = squash(a.sections.front().paragraphs.front());
      // descriptions are often the first paragraph cut short ("...")
      std::string dcut = d.substr(0, std::min<std::size_t>(d.size(), 60));
      repeated = !dcut.empty() && p.rfind(dcut, 0) == 0;
    }
    if (!repeated && describes_article(m.description, a)) a.lead = m.description;
  }
  return a;
}

}  // namespace vellum::extract
