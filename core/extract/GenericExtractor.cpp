#include "extract/GenericExtractor.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_map>

#include "extract/AuthorCleaner.h"
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

// Whether a place or role after a byline's name holds nothing a sentence or a quotation would:
// no ! ? : ; or quotation marks, no full stop ending a sentence ("U.S. Correspondent" has
// none), at most six words.
bool plain_byline_part(std::string_view s) {
  if (s.empty() || s.find_first_of("!?:;\"()") != std::string_view::npos) return false;
  for (const char* mark : {"\xE2\x80\x9C", "\xE2\x80\x9D", "\xE2\x80\x98", "\xE2\x80\x99",
                           "\xC2\xAB", "\xC2\xBB", "\xE2\x80\xA6"})  // quotes, ellipsis
    if (s.find(mark) != std::string_view::npos) return false;
  for (std::size_t i = s.find('.'); i != std::string_view::npos; i = s.find('.', i + 1)) {
    const bool after_word = i > 0 && std::islower(static_cast<unsigned char>(s[i - 1]));
    if (i + 1 == s.size() && after_word) return false;
    if (i + 2 < s.size() && s[i + 1] == ' ' && std::islower(static_cast<unsigned char>(s[i + 2])))
      return false;
  }
  return std::count(s.begin(), s.end(), ' ') < 6;
}

// The part of a byline line after an author's name: nothing; another author after "and", "&"
// or a comma; an agency in parentheses ("(AP)"); a handle ("@jsmith"); a place ("in London",
// "in Île-de-France", and another author after it); a role after a comma, bar, dash or middle
// dot ("Political Editor", "5 min read").
bool byline_tail(std::string_view rest, const std::vector<std::string>& authors, int depth) {
  if (rest.empty()) return true;
  if (depth > 8) return false;
  const std::string l = util::to_lower(rest);
  for (const char* joint : {" and ", " & ", ", "}) {
    if (!l.starts_with(joint)) continue;
    const std::size_t at = std::strlen(joint);
    for (const std::string& other : authors) {
      const std::string o = util::to_lower(other);
      if (o.size() >= 4 && l.compare(at, o.size(), o) == 0 &&
          byline_tail(rest.substr(at + o.size()), authors, depth + 1))
        return true;
    }
  }
  if (rest.starts_with(" (") && rest.back() == ')' && rest.size() <= 30 &&
      rest.find_first_of("()", 2) == rest.size() - 1)
    return true;
  if (rest.starts_with(" @") && rest.find(' ', 1) == std::string_view::npos && rest.size() > 2)
    return true;
  if (rest.starts_with(" in ")) {
    std::string_view place = rest.substr(4);
    const auto lead = static_cast<unsigned char>(place.empty() ? 'x' : place.front());
    if (!(std::isupper(lead) || lead >= 0x80)) return false;
    // "in Washington and John Doe in London"
    for (std::size_t j = place.find(" and "); j != std::string_view::npos;
         j = place.find(" and ", j + 1))
      if (plain_byline_part(place.substr(0, j)) && byline_tail(place.substr(j), authors, depth + 1))
        return true;
    return plain_byline_part(place) && std::count(place.begin(), place.end(), ' ') < 4;
  }
  for (const char* separator :
       {", ", " | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ", " \xC2\xB7 "}) {
    if (rest.starts_with(separator)) return plain_byline_part(rest.substr(std::strlen(separator)));
  }
  return false;
}

// A byline left above the text: one of the authors' names with nothing after it that makes it
// a sentence ("Jane Smith said: …", "Jane Smith (pictured) won …", "Jane Smith writes …").
bool is_byline_line(const std::string& p, const std::vector<std::string>& authors) {
  if (p.size() > 100 || p.find('\n') != std::string::npos) return false;
  const std::string l = util::to_lower(p);
  for (const std::string& name : authors) {
    const std::string n = util::to_lower(name);
    if (n.size() >= 4 && l.starts_with(n) &&
        byline_tail(std::string_view(p).substr(n.size()), authors, 0))
      return true;
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
  // A byline set as text above the article, when nothing else names the authors.
  if (a.authors.empty() && !c.byline.empty()) a.authors = clean_authors({c.byline});
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
    if (!a.sections.empty()) {
      // Descriptions are often the first paragraph cut short ("..."), after a dateline that
      // the paragraph has and the description not ("WASHINGTON (AP) — "), or the second.
      const std::string dcut = d.substr(0, std::min<std::size_t>(d.size(), 60));
      const auto& paragraphs = a.sections.front().paragraphs;
      for (std::size_t i = 0; i < paragraphs.size() && i < 2 && !repeated; ++i) {
        const std::size_t at = squash(paragraphs[i]).find(dcut);
        repeated = !dcut.empty() && at != std::string::npos && at <= 40;
      }
    }
    if (!repeated && describes_article(m.description, a)) a.lead = m.description;
  }
  return a;
}

}  // namespace vellum::extract
