#include "extract/MetadataExtractor.h"

#include <libxml/tree.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "extract/AuthorCleaner.h"
#include "extract/ContentExtractor.h"
#include "extract/DateParser.h"
#include "extract/HtmlEntities.h"
#include "extract/TextUtil.h"
#include "util/Text.h"
#include "util/Url.h"

namespace vellum::extract {

namespace {

using nlohmann::json;

bool type_matches(const json& obj, std::initializer_list<const char*> names) {
  auto it = obj.find("@type");
  if (it == obj.end()) return false;
  auto check = [&](const json& t) {
    if (!t.is_string()) return false;
    std::string s = t.get<std::string>();
    auto slash = s.rfind('/');  // "http://schema.org/NewsArticle"
    if (slash != std::string::npos) s = s.substr(slash + 1);
    for (const char* n : names)
      if (s == n) return true;
    return false;
  };
  if (it->is_array()) {
    for (const auto& t : *it)
      if (check(t)) return true;
    return false;
  }
  return check(*it);
}

const std::initializer_list<const char*> kArticleTypes = {
    "NewsArticle",         "Article",
    "BlogPosting",         "ReportageNewsArticle",
    "AnalysisNewsArticle", "OpinionNewsArticle",
    "ReviewNewsArticle",   "BackgroundNewsArticle",
    "LiveBlogPosting",     "TechArticle",
    "ScholarlyArticle",    "Report",
    "SocialMediaPosting",  "AdvertiserContentArticle",
    "SatiricalArticle",    "MedicalScholarlyArticle"};

std::string str(const json& j) {
  if (j.is_string()) return clean_text(decode_entities(j.get<std::string>()));
  if (j.is_number_integer()) return std::to_string(j.get<long long>());
  return {};
}

std::string field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_array() && !it->empty()) return str(it->front());
  return str(*it);
}

// A name, URL or @id of a nested object or string.
std::string object_value(const json& j, const char* key) {
  if (j.is_string()) return str(j);
  if (j.is_object()) return field(j, key);
  if (j.is_array() && !j.empty()) return object_value(j.front(), key);
  return {};
}

class Collector {
 public:
  explicit Collector(const Page& p)
      : page_(p), base_(p.document ? document_base_url(*p.document, p.final_url) : p.final_url) {}
  const std::string& base() const { return base_; }

  // The first object with this @id and a name; the objects are indexed once per page, so that
  // thousands of references cost one look-up each.
  const json* find_by_id(const std::string& id) const {
    if (id.empty()) return nullptr;
    if (!by_id_) {
      by_id_.emplace();
      for (const auto& o : page_.json_ld) {
        if (!o.is_object() || !o.contains("name")) continue;
        if (std::string key = field(o, "@id"); !key.empty()) by_id_->emplace(key, &o);
      }
    }
    auto it = by_id_->find(id);
    return it == by_id_->end() ? nullptr : it->second;
  }

  void authors_from(const json& a, std::vector<std::string>& out) const {
    if (a.is_string()) {
      out.push_back(str(a));
    } else if (a.is_array()) {
      for (const auto& e : a) authors_from(e, out);
    } else if (a.is_object()) {
      std::string name = field(a, "name");
      if (name.empty()) {
        if (const json* ref = find_by_id(field(a, "@id"))) name = field(*ref, "name");
      }
      if (name.empty()) {
        std::string g = field(a, "givenName"), f = field(a, "familyName");
        name = clean_text(g + " " + f);
      }
      if (!name.empty()) out.push_back(name);
    }
  }

  void images_from(const json& j, std::vector<ArticleImage>& out) const {
    if (j.is_string()) {
      out.push_back({resolve_url(base_, str(j)), {}, {}});
    } else if (j.is_array()) {
      for (const auto& e : j) images_from(e, out);
    } else if (j.is_object()) {
      std::string u = field(j, "url");
      if (u.empty()) u = field(j, "contentUrl");
      if (!u.empty())
        out.push_back({resolve_url(base_, u), field(j, "caption"),
                       field(j, "creditText").empty() ? field(j, "copyrightHolder")
                                                      : field(j, "creditText")});
    }
  }

 private:
  const Page& page_;
  std::string base_;  // what relative URLs resolve against (<base href> or the page's URL)
  mutable std::optional<std::unordered_map<std::string, const json*>> by_id_;
};

std::string first_meta(const Page& page, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto v = clean_text(decode_entities(page.meta_value(k)));
    if (!v.empty()) return v;
  }
  return {};
}

std::string first_date(const Page& page, bool day_first, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    for (const auto& v : page.meta_values(k)) {
      std::string d = normalize_date(v, day_first);
      if (!d.empty()) return d;
    }
  }
  return {};
}

// What stands between a headline and the site's name in a title ("Headline | Site").
constexpr const char* kSiteSeparators[] = {" | ",  " - ",        " \xE2\x80\x93 ", " \xE2\x80\x94 ",
                                           " :: ", " \xC2\xB7 ", " \xE2\x80\xA2 "};

std::string strip_sep_suffix(const std::string& t, const std::string& site) {
  std::string ls = util::to_lower(site);
  std::string lt = util::to_lower(t);
  auto ends_with_site = [&](const char* sep) {
    const std::string suffix = std::string(sep) + ls;
    return lt.size() > suffix.size() &&
           lt.compare(lt.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const char* sep : kSiteSeparators) {
    if (ends_with_site(sep))
      return clean_text(t.substr(0, t.size() - std::strlen(sep) - ls.size()));
    std::string prefix = ls + sep;
    if (lt.size() > prefix.size() && lt.compare(0, prefix.size(), prefix) == 0)
      return clean_text(t.substr(prefix.size()));
  }
  // "Headline: Site", never "Site: Headline" (that is a topic label).
  if (ends_with_site(": ")) return clean_text(t.substr(0, t.size() - 2 - ls.size()));
  return t;
}

enum class HeadingKind { headline, logo, other };

// What an <h1> is: the site's name set as a heading (a logo: the <h1> or an element just
// around it is named for a logo or masthead, or it links to the site's home page), a section's
// name or the title of a hidden dialog ("Log in"), or else the headline.
HeadingKind heading_kind(const Node& h1) {
  for (xmlNodePtr a = h1.raw(); a && a->type == XML_ELEMENT_NODE; a = a->parent) {
    const Node n(a);
    if (n.has_attr("hidden") || n.tag() == "dialog" ||
        compact_style(a).find("display:none") != std::string::npos)
      return HeadingKind::other;
  }
  static const char* logos[] = {"logo",     "masthead",    "site-title", "site-name",
                                "sitename", "site-header", "navbar",     "brand"};
  static const char* others[] = {"modal", "section-header", "section-name"};
  int depth = 0;
  for (xmlNodePtr a = h1.raw(); a && a->type == XML_ELEMENT_NODE && depth < 3;
       a = a->parent, ++depth) {
    const Node n(a);
    const std::string ci = util::to_lower(n.attr("class") + " " + n.attr("id"));
    for (const char* m : others)
      if (ci.find(m) != std::string::npos) return HeadingKind::other;
    for (const char* m : logos)
      if (ci.find(m) != std::string::npos) return HeadingKind::logo;
  }
  for (const Node& link : h1.xpath(".//a[@href]")) {
    const std::string href = trim_ascii(link.attr("href"));
    if (href == "/" || href == "./") return HeadingKind::logo;
    auto u = util::parse_url(href);
    if (u && u->path == "/" && !u->has_query) return HeadingKind::logo;
  }
  return HeadingKind::headline;
}

// Letters and digits only, lower-cased: "City Times" and "citytimes" are the same name.
std::string squashed(std::string_view s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) >= 0x80)
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// `title` without a leading or trailing part that names the site the way its host does
// ("Headline | City Times" on citytimes.com).
std::string strip_host_name(const std::string& title, const std::string& brand) {
  if (brand.empty()) return title;
  const std::string want = squashed(brand);
  for (const char* sep : kSiteSeparators) {
    const std::size_t len = std::strlen(sep);
    if (auto at = title.rfind(sep); at != std::string::npos && at > 0 &&
                                    squashed(std::string_view(title).substr(at + len)) == want)
      return clean_text(title.substr(0, at));
    if (auto at = title.find(sep); at != std::string::npos && at + len < title.size() &&
                                   squashed(std::string_view(title).substr(0, at)) == want)
      return clean_text(title.substr(at + len));
  }
  return title;
}

// Whether `n` lies in a teaser, a comment or page furniture rather than in the article: under
// <aside>, <nav>, <footer>, or an element named for related stories, comments and the like.
bool in_teaser(xmlNodePtr n) {
  static const char* marks[] = {"related", "teaser",  "trending", "recommend", "most-",
                                "promo",   "comment", "sidebar",  "widget",    "more-stories",
                                "card",    "rail",    "outbrain", "taboola"};
  for (xmlNodePtr a = n ? n->parent : nullptr; a && a->type == XML_ELEMENT_NODE; a = a->parent) {
    const Node e(a);
    const std::string tag = e.tag();
    // Up to the article (or the page's main part): classes of <body> ("has-sidebar") say
    // nothing about one element in it.
    if (tag == "article" || tag == "main" || tag == "body") return false;
    if (tag == "aside" || tag == "nav" || tag == "footer") return true;
    const std::string ci = util::to_lower(e.attr("class") + " " + e.attr("id"));
    for (const char* mk : marks)
      if (ci.find(mk) != std::string::npos) return true;
  }
  return false;
}

// Whether a <time> gives when the article was changed, not published: itemprop dateModified, a
// class saying so, or the word right before it ("Updated", "Aktualisiert", "Mis à jour").
bool is_modified_time(const Node& n) {
  if (util::iequals(n.attr("itemprop"), "dateModified")) return true;
  if (util::iequals(n.attr("itemprop"), "datePublished")) return false;
  const std::string cls = util::to_lower(n.attr("class"));
  // WordPress marks the publication time "entry-date published updated": published wins.
  if (cls.find("published") != std::string::npos) return false;
  if (cls.find("updated") != std::string::npos || cls.find("modified") != std::string::npos)
    return true;
  std::string before;
  for (xmlNodePtr prev = n.raw()->prev; prev && before.empty(); prev = prev->prev)
    if (prev->type != XML_COMMENT_NODE) before = util::to_lower(clean_text(Node(prev).text()));
  while (!before.empty() && (before.back() == ':' || before.back() == ' ')) before.pop_back();
  for (std::string_view word : {"updated", "update", "modified", "aktualisiert", "actualizado",
                                "aggiornato", "bijgewerkt", "atualizado", "mis \xC3\xA0 jour"})
    if (before.size() >= word.size() &&
        before.compare(before.size() - word.size(), word.size(), word) == 0)
      return true;
  return false;
}

// The text below `n` as lines: a line feed where a <br> or an element laid out as a block (<p>,
// <div>, <li>…) breaks it, and every line feed of the source a space, as a browser shows it.
// xmlNodeGetContent joins "Headline<br>Subtitle" into "HeadlineSubtitle". With `parts`, an
// element that follows another with nothing between, and whose text would join the last word
// to a capital or digit ("<span>Jane Doe</span><span>Updated 3 May</span>"), starts a line of
// its own too: its style sets it apart, which a browser shows and the markup does not say.
void append_lines(xmlNodePtr n, std::string& out, int depth, bool parts = false) {
  bool after_element = false;
  for (xmlNodePtr c = n->children; c; c = c->next) {
    if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
      if (!c->content || !*c->content) continue;
      for (const char* t = reinterpret_cast<const char*>(c->content); *t; ++t)
        out += (*t == '\n' || *t == '\r') ? ' ' : *t;
      after_element = false;
    } else if (c->type == XML_ELEMENT_NODE && c->name) {
      const char* tag = reinterpret_cast<const char*>(c->name);
      if (std::strcmp(tag, "br") == 0) {
        out += '\n';
        continue;
      }
      const bool block = is_block_element(tag);
      if (block) out += '\n';
      if (parts && after_element && !out.empty() &&
          !std::isspace(static_cast<unsigned char>(out.back()))) {
        const std::string text = Node(c).raw_text();
        const auto first = text.empty() ? 0 : static_cast<unsigned char>(text.front());
        if (std::isupper(first) || std::isdigit(first)) out += '\n';
      }
      if (depth < 64)
        append_lines(c, out, depth + 1, parts);
      else
        out += Node(c).raw_text();
      if (block) out += '\n';
      after_element = true;
    }
  }
}

// Those lines, each cleaned (clean_text), the empty ones dropped, joined by '\n'.
std::string text_lines(const Node& n, bool parts = false) {
  std::string out;
  if (n.raw()) append_lines(n.raw(), out, 0, parts);
  return clean_lines(out);
}

std::string host_of(const std::string& url) {
  auto p = url.find("://");
  if (p == std::string::npos) return {};
  p += 3;
  auto e = url.find_first_of("/:?#", p);
  std::string h = util::to_lower(url.substr(p, e == std::string::npos ? std::string::npos : e - p));
  if (h.rfind("www.", 0) == 0) h = h.substr(4);
  return h;
}

}  // namespace

std::string decode_entities(std::string_view s) {
  if (s.find('&') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (s[i] == '&') {
      auto semi = s.find(';', i);
      if (semi != std::string_view::npos && semi - i <= 33) {
        std::string_view ent = s.substr(i + 1, semi - i - 1);
        bool done = false;
        if (!ent.empty() && ent[0] == '#') {
          unsigned long cp = 0;
          bool hex = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X');
          std::string digits(ent.substr(hex ? 2 : 1));
          if (!digits.empty() && digits.size() <= 7) {
            char* end = nullptr;
            cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
            if (end && *end == 0) {
              util::append_utf8(out, cp);
              done = true;
            }
          }
        } else if (const HtmlEntity* e = find_html_entity(s.substr(i + 1, semi - i))) {
          // Every name HTML gives (&uuml;, &euro;, &check;…), with its semicolon.
          util::append_utf8(out, e->first);
          if (e->second) util::append_utf8(out, e->second);
          done = true;
        }
        if (done) {
          i = semi + 1;
          continue;
        }
      }
    }
    out += s[i++];
  }
  return out;
}

std::string strip_site_name(const std::string& title, const std::string& site_name) {
  if (site_name.empty() || title.empty()) return title;
  std::string t = strip_sep_suffix(title, site_name);
  return t.empty() ? title : t;
}

ArticleMetadata MetadataExtractor::extract(const Page& page) const {
  ArticleMetadata m;
  Collector c(page);
  const Document* doc = page.document.get();

  // The article object of JSON-LD (else a WebPage).
  // The article object of JSON-LD: the one that names this page as its own, else the first
  // (a page may also describe related articles).
  const json* art = nullptr;
  const std::string page_key = util::surt(page.final_url);
  auto names_page = [&](const json& o) {
    for (const char* key : {"mainEntityOfPage", "url", "@id"}) {
      auto it = o.find(key);
      if (it == o.end()) continue;
      std::string v = it->is_string() ? it->get<std::string>() : std::string();
      if (it->is_object())
        for (const char* inner : {"@id", "url"})
          if (auto in = it->find(inner); in != it->end() && in->is_string())
            v = in->get<std::string>();
      if (!v.empty() && util::surt(v) == page_key) return true;
    }
    return false;
  };
  for (const auto& o : page.json_ld)
    if (o.is_object() && type_matches(o, kArticleTypes)) {
      if (!art) art = &o;
      if (names_page(o)) {
        art = &o;
        break;
      }
    }
  const json* web = nullptr;
  for (const auto& o : page.json_ld)
    if (o.is_object() && type_matches(o, {"WebPage", "ItemPage", "NewsMediaOrganization"}) &&
        o.contains("headline")) {
      web = &o;
      break;
    }
  const json* ld = art ? art : web;

  std::string site = first_meta(page, {"og:site_name", "application-name", "twitter:site"});
  if (site.rfind('@', 0) == 0) site.clear();

  // Title: the candidate most of the page's title sources agree on ("Headline | Site" counts
  // for "Headline"); ties go to JSON-LD, then OpenGraph, then <h1>.
  std::vector<std::string> cands;
  cands.push_back(ld ? field(*ld, "headline") : std::string());
  if (cands.back().empty() && art) cands.back() = field(*art, "name");
  cands.push_back(first_meta(page, {"og:title"}));
  std::string h1_text;
  if (doc) {
    Node h1 = doc->xpath_first("//h1[@itemprop='headline']");
    if (!h1)
      for (const Node& h : doc->xpath("//h1")) {
        const HeadingKind kind = heading_kind(h);
        if (kind == HeadingKind::headline) {
          h1 = h;
          break;
        }
        // A logo's text is the site's name, when the page does not say it otherwise.
        if (kind == HeadingKind::logo && site.empty()) site = clean_text(h.raw_text());
      }
    if (h1) h1_text = clean_text(text_lines(h1));
  }
  cands.push_back(h1_text);
  cands.push_back(first_meta(
      page, {"twitter:title", "title", "headline", "dc.title", "sailthru.title", "parsely-title"}));
  std::string html_title;
  if (doc) {
    Node t = doc->xpath_first("/html/head/title|//title");
    if (t) html_title = clean_text(t.raw_text());
  }
  cands.push_back(html_title);
  // A headline is a line: a value of megabytes (a page's text poured into og:title) is cut, so
  // that the record, the index and the comparisons below stay small.
  for (auto& t : cands) t = bounded_text(std::move(t), kMaxTitleBytes);
  std::string host = host_of(page.final_url);
  auto dot = host.find('.');
  std::string brand = dot == std::string::npos ? host : host.substr(0, dot);
  for (auto& t : cands) {
    t = strip_site_name(t, site);
    if (!host.empty()) t = strip_host_name(strip_site_name(strip_site_name(t, host), brand), brand);
    if (!site.empty() && util::iequals(t, site)) t.clear();
  }
  // d supports c when it is c, or c decorated: "Section: c", "c | Site", "Topic: c | Section".
  auto supports = [](const std::string& d, const std::string& c) {
    if (d == c) return true;
    if (d.size() <= c.size() + 2) return false;
    static constexpr std::string_view kSeps[] = {" | ", " - ", " \xE2\x80\x93 ", " \xE2\x80\x94 ",
                                                 " * ", " : ", " \xC2\xB7 ",     " \xE2\x80\xA2 "};
    auto after_ok = [](std::string_view rest) {
      if (rest.empty()) return true;
      for (auto sep : kSeps)
        if (rest.starts_with(sep)) return true;
      return false;
    };
    // Before the headline only a topic label ("Floods: "): in "Headline | Opinion" the part
    // after the bar is a section, not a headline.
    auto before_ok = [](std::string_view lead) {
      return lead.empty() || (lead.size() >= 3 && lead.ends_with(": "));
    };
    std::string_view dv(d);
    for (auto at = dv.find(c); at != std::string_view::npos; at = dv.find(c, at + 1))
      if (before_ok(dv.substr(0, at)) && after_ok(dv.substr(at + c.size()))) return true;
    return false;
  };
  int best_votes = 0;
  for (std::size_t i = 0; i + 1 < cands.size(); ++i) {
    if (cands[i].empty()) continue;
    int votes = 0;
    for (const auto& d : cands)
      if (!d.empty() && supports(d, cands[i])) ++votes;
    if (votes > best_votes) {
      best_votes = votes;
      m.title = cands[i];
    }
  }
  if (m.title.empty()) m.title = cands.back();

  // Authors.
  std::vector<std::string> raw;
  if (art) {
    auto it = art->find("author");
    if (it != art->end()) c.authors_from(*it, raw);
    if (raw.empty()) {
      auto cr = art->find("creator");
      if (cr != art->end()) c.authors_from(*cr, raw);
    }
  }
  m.authors = clean_authors(raw);
  if (m.authors.empty()) {
    for (const char* k :
         {"author", "article:author", "parsely-author", "sailthru.author", "dc.creator",
          "dcterms.creator", "dcsext.author", "byl", "citation_author"}) {
      raw.clear();
      for (const auto& v : page.meta_values(k)) raw.push_back(decode_entities(v));
      m.authors = clean_authors(raw);
      if (!m.authors.empty()) break;
    }
  }
  if (m.authors.empty() && doc) {
    // Microdata: the first author element and the ones next to it (not those of teasers).
    raw.clear();
    xmlNodePtr group = nullptr;
    for (const Node& n : doc->xpath("//*[@itemprop='author']")) {
      xmlNodePtr p = n.raw()->parent;
      if (group && p != group && (!p || p->parent != group)) continue;
      if (!group) group = p;
      Node name = n.xpath_first(".//*[@itemprop='name']");
      std::string v = name ? (name.has_attr("content") ? name.attr("content") : name.text())
                           : (n.has_attr("content") ? n.attr("content") : n.text());
      if (!v.empty()) raw.push_back(v);
    }
    m.authors = clean_authors(raw);
  }
  if (m.authors.empty() && doc) {
    raw.clear();
    for (const Node& n : doc->xpath("//a[@rel='author']"))
      if (!in_teaser(n.raw())) raw.push_back(n.text());
    m.authors = clean_authors(raw);
  }
  if (m.authors.empty() && doc) {
    // The byline as the page shows it ("By Jane Doe and John Roe | May 1, 2024"): its parts
    // without digits, which are dates and times, not names.
    // Also an element of class "author" alone among its classes' words (WordPress's
    // `<span class="author vcard">`), not "author-bio" or "comment-author", and short: a box
    // with the author's biography is no byline.
    for (const Node& n :
         doc->xpath("//*[contains(@class,'byline') or contains(@class,'author-name') or "
                    "contains(@class,'article-author') or "
                    "contains(concat(' ',normalize-space(@class),' '),' author ')]")) {
      if (in_teaser(n.raw())) continue;
      const std::string cls = n.attr("class");
      if (cls.find("byline") == std::string::npos && cls.find("author-name") == std::string::npos &&
          cls.find("article-author") == std::string::npos && n.text().size() > 200)
        continue;
      raw.clear();
      std::string line = text_lines(n, true);
      for (const char* sep : {" | ", " \xE2\x80\xA2 ", " \xC2\xB7 ", "\n"})
        for (auto at = line.find(sep); at != std::string::npos; at = line.find(sep))
          line.replace(at, std::strlen(sep), ",");
      std::string part;
      auto flush = [&] {
        // Buttons beside the name ("Jane Doe · Follow") are no names either.
        if (part.find_first_of("0123456789") == std::string::npos && !is_ui_text(trim_ascii(part)))
          raw.push_back(part);
        part.clear();
      };
      for (char ch : line) {
        if (ch == ',') {
          flush();
          continue;
        }
        part += ch;
      }
      flush();
      std::string joined;
      for (const auto& r : raw) joined += (joined.empty() ? "" : ", ") + r;
      m.authors = clean_authors({joined});
      if (!m.authors.empty()) break;
    }
  }
  if (!site.empty()) {
    // "By Jane Doe, Example News" -> the site name is not an author when people are named.
    std::vector<std::string> people;
    for (const auto& a : m.authors)
      if (!util::iequals(a, site)) people.push_back(a);
    if (!people.empty()) m.authors = std::move(people);
  }

  // Language.
  if (ld) m.language = field(*ld, "inLanguage");
  if (m.language.empty() && doc) m.language = trim_ascii(doc->root().attr("lang"));
  if (m.language.empty() && doc) m.language = trim_ascii(doc->root().attr("xml:lang"));
  if (m.language.empty())
    m.language = first_meta(page, {"og:locale", "content-language", "language"});
  for (char& ch : m.language)
    if (ch == '_') ch = '-';
  if (m.language.size() > 35) m.language.clear();

  // Dates ("01/05/2024" is the 1st of May on a British or Spanish page).
  const bool day_first = writes_day_first(m.language);
  auto date = [&](std::string_view text) { return normalize_date(text, day_first); };
  if (ld) {
    m.published = date(field(*ld, "datePublished"));
    if (m.published.empty()) m.published = date(field(*ld, "dateCreated"));
    m.modified = date(field(*ld, "dateModified"));
  }
  if (m.published.empty())
    m.published =
        first_date(page, day_first,
                   {"article:published_time", "og:published_time", "datepublished", "pubdate",
                    "publishdate", "publish-date", "published_time", "article.published",
                    "sailthru.date", "parsely-pub-date", "dc.date.issued", "dcterms.created",
                    "dc.date", "date", "publication_date", "citation_publication_date"});
  if (m.modified.empty())
    m.modified = first_date(page, day_first,
                            {"article:modified_time", "og:updated_time", "datemodified",
                             "dcterms.modified", "last-modified"});
  if (m.published.empty() && doc) {
    for (const Node& n : doc->xpath("//*[@itemprop='datePublished']")) {
      std::string v = n.attr("content");
      if (v.empty()) v = n.attr("datetime");
      if (v.empty()) v = n.text();
      m.published = date(v);
      if (!m.published.empty()) break;
    }
  }
  if (m.published.empty() && doc) {
    // The first <time> of the article, not one of a teaser, a comment or the sidebar; its
    // datetime attribute, else its text.
    // One that says when the article was changed is its modification time, not its date.
    for (const char* path : {"//article//time", "//main//time", "//time"}) {
      for (const Node& n : doc->xpath(path)) {
        if (in_teaser(n.raw())) continue;
        const std::string when = date(n.has_attr("datetime") ? n.attr("datetime") : n.text());
        if (when.empty()) continue;
        if (!is_modified_time(n)) {
          m.published = when;
          break;
        }
        if (m.modified.empty()) m.modified = when;
      }
      if (!m.published.empty()) break;
    }
  }

  // Canonical URL.
  if (doc) {
    for (const Node& l : doc->xpath("//link[@href]")) {
      if (util::to_lower(trim_ascii(l.attr("rel"))) == "canonical") {
        m.canonical_url = resolve_url(c.base(), l.attr("href"));
        break;
      }
    }
  }
  if (m.canonical_url.empty()) m.canonical_url = first_meta(page, {"og:url", "twitter:url"});
  if (m.canonical_url.empty() && ld) {
    auto it = ld->find("mainEntityOfPage");
    if (it != ld->end()) m.canonical_url = object_value(*it, "@id");
    if (m.canonical_url.rfind("http", 0) != 0) m.canonical_url = field(*ld, "url");
  }
  if (!m.canonical_url.empty()) m.canonical_url = resolve_url(c.base(), m.canonical_url);
  // Only what the page declares: the article JSON says null rather than guess.
  if (m.canonical_url.rfind("http", 0) != 0) m.canonical_url.clear();

  // Description.
  if (ld) m.description = field(*ld, "description");
  if (m.description.empty())
    m.description = first_meta(page, {"og:description", "twitter:description", "description"});
  m.description = bounded_text(std::move(m.description), kMaxDescriptionBytes);

  // Tags.
  // At most kMaxTags, so that a keywords list of thousands costs no more than its length.
  constexpr std::size_t kMaxTags = 64;
  auto add_tags = [&](const std::string& v) {
    std::size_t s = 0;
    while (s <= v.size() && m.tags.size() < kMaxTags) {
      auto e = v.find(',', s);
      std::string t = clean_text(v.substr(s, e == std::string::npos ? std::string::npos : e - s));
      if (!t.empty()) {
        bool dup = false;
        for (const auto& x : m.tags) dup = dup || util::iequals(x, t);
        if (!dup) m.tags.push_back(t);
      }
      if (e == std::string::npos) break;
      s = e + 1;
    }
  };
  if (art) {
    auto it = art->find("keywords");
    if (it != art->end()) {
      if (it->is_array())
        for (const auto& k : *it) add_tags(str(k));
      else
        add_tags(str(*it));
    }
  }
  if (m.tags.empty())
    for (const auto& v : page.meta_values("article:tag")) add_tags(v);
  if (m.tags.empty()) add_tags(first_meta(page, {"news_keywords", "keywords"}));

  // Lead image.
  std::string og =
      first_meta(page, {"og:image", "og:image:url", "twitter:image", "twitter:image:src"});
  if (!og.empty()) {
    ArticleImage im;
    im.url = resolve_url(c.base(), og);
    im.caption = first_meta(page, {"og:image:alt", "twitter:image:alt"});
    m.images.push_back(std::move(im));
  } else if (art) {
    auto it = art->find("image");
    if (it != art->end()) {
      std::vector<ArticleImage> v;
      c.images_from(*it, v);
      if (!v.empty()) m.images.push_back(v.front());
    }
  }
  return m;
}

}  // namespace vellum::extract
