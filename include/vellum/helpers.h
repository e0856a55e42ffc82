// Helpers for site plugins: whitespace, visible text, JSON-LD look-ups, dates, sections.
// Header-only, so a plugin links nothing more than Vellum::plugin_sdk.
#pragma once

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vellum/plugin.h"

namespace vellum::helpers {

using nlohmann::json;
using vellum::Node;

// Whitespace collapsed and trimmed; no-break and zero-width spaces count as whitespace.
inline std::string clean(std::string_view s) {
  std::string t;
  t.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s.compare(i, 2, "\xC2\xA0") == 0) {
      t += ' ';
      ++i;
    } else if (s.compare(i, 3, "\xE2\x80\x8B") == 0) {
      i += 2;
    } else {
      t += s[i];
    }
  }
  return Node::collapse_space(t);
}

inline bool skipped_tag(const std::string& tag) {
  return tag == "script" || tag == "style" || tag == "noscript" || tag == "template" ||
         tag == "svg" || tag == "button" || tag == "figure";
}

// Text of `n` without scripts, styles and what `skip` rejects; <br> becomes a space.
template <class Skip>
inline void append_text(const Node& n, std::string& out, const Skip& skip) {
  for (const Node& c : n.children()) {
    if (c.is_text()) {
      out += c.raw_text();
    } else if (c.is_element()) {
      std::string tag = c.tag();
      if (tag == "br") {
        out += ' ';
      } else if (!skipped_tag(tag) && !skip(c)) {
        append_text(c, out, skip);
      }
    }
  }
}
template <class Skip>
inline std::string text_of(const Node& n, const Skip& skip) {
  std::string out;
  append_text(n, out, skip);
  return clean(out);
}
inline std::string text_of(const Node& n) {
  return text_of(n, [](const Node&) { return false; });
}

// Days since 1970-01-01 of a proleptic Gregorian date.
inline long days_from_civil(long y, long m, long d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// An ISO 8601 timestamp ("2024-03-07T07:55:25.123+01:00", "2024-03-07 07:55Z") as UTC
// "YYYY-MM-DDThh:mm:ssZ"; a missing offset is taken as UTC. Empty when unparsable.
inline std::string iso_utc(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  auto num = [&](int digits, long& v) {
    v = 0;
    for (int k = 0; k < digits; ++k, ++i) {
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      v = v * 10 + (s[i] - '0');
    }
    return true;
  };
  auto lit = [&](char c) {
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  };
  long y, mo, d, h = 0, mi = 0, se = 0;
  if (!num(4, y) || !lit('-') || !num(2, mo) || !lit('-') || !num(2, d)) return {};
  if (lit('T') || lit(' ')) {
    if (!num(2, h) || !lit(':') || !num(2, mi)) return {};
    if (lit(':') && !num(2, se)) return {};
    if (lit('.') || lit(','))
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  }
  long offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    long sign = s[i] == '-' ? -1 : 1, oh, om = 0;
    ++i;
    if (!num(2, oh)) return {};
    lit(':');
    if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && !num(2, om)) return {};
    offset = sign * (oh * 3600 + om * 60);
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return {};
  long t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset;
  long days = (t >= 0 ? t : t - 86399) / 86400;
  long rem = t - days * 86400;
  // Civil date from the day count.
  long z = days + 719468;
  long era = (z >= 0 ? z : z - 146096) / 146097;
  long doe = z - era * 146097;
  long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long mp = (5 * doy + 2) / 153;
  long dd = doy - (153 * mp + 2) / 5 + 1;
  long mm = mp + (mp < 10 ? 3 : -9);
  long yy = yoe + era * 400 + (mm <= 2);
  if (yy < 1 || yy > 9999) return {};
  auto pad = [](long v, std::size_t w) {
    std::string r = std::to_string(v);
    return std::string(r.size() < w ? w - r.size() : 0, '0') + r;
  };
  return pad(yy, 4) + "-" + pad(mm, 2) + "-" + pad(dd, 2) + "T" + pad(rem / 3600, 2) + ":" +
         pad(rem / 60 % 60, 2) + ":" + pad(rem % 60, 2) + "Z";
}

// The host of an absolute URL, lower-cased.
inline std::string url_host(std::string_view url) {
  auto p = url.find("://");
  if (p == std::string_view::npos) return {};
  url.remove_prefix(p + 3);
  auto e = url.find_first_of("/?#");
  std::string h(url.substr(0, e));
  if (auto at = h.rfind('@'); at != std::string::npos) h.erase(0, at + 1);
  if (auto colon = h.find(':'); colon != std::string::npos) h.erase(colon);
  for (char& c : h) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return h;
}
// Is `url` on `domain` or one of its subdomains?
inline bool on_domain(std::string_view url, std::string_view domain) {
  std::string h = url_host(url);
  return h == domain || (h.size() > domain.size() &&
                         h.compare(h.size() - domain.size(), domain.size(), domain) == 0 &&
                         h[h.size() - domain.size() - 1] == '.');
}

inline bool ld_is(const json& o, std::initializer_list<std::string_view> types) {
  auto t = o.find("@type");
  if (t == o.end()) return false;
  auto one = [&](const json& v) {
    if (!v.is_string()) return false;
    for (auto ty : types)
      if (v.get_ref<const std::string&>() == ty) return true;
    return false;
  };
  if (t->is_array()) {
    for (const auto& v : *t)
      if (one(v)) return true;
    return false;
  }
  return one(*t);
}
// The first JSON-LD object of one of `types`; null when none.
inline const json* find_ld(const vellum::Page& page,
                           std::initializer_list<std::string_view> types) {
  for (const auto& o : page.json_ld)
    if (o.is_object() && ld_is(o, types)) return &o;
  return nullptr;
}
// A string member (or the first string of an array member); empty when absent.
inline std::string ld_str(const json* o, const char* key) {
  if (!o || !o->is_object()) return {};
  auto it = o->find(key);
  if (it == o->end()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_array())
    for (const auto& v : *it)
      if (v.is_string()) return v.get<std::string>();
  if (it->is_object()) return ld_str(&*it, "@id");
  return {};
}
// Names in an "author" member: strings, {"name"} or {"byline"} objects, or arrays of them.
inline std::vector<std::string> ld_names(const json* o, const char* key = "author") {
  std::vector<std::string> out;
  if (!o || !o->is_object() || !o->contains(key)) return out;
  auto add = [&](const json& a) {
    std::string n;
    if (a.is_string())
      n = a.get<std::string>();
    else if (a.is_object())
      n = a.contains("name") ? ld_str(&a, "name") : ld_str(&a, "byline");
    n = clean(n);
    if (!n.empty() && std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  };
  const json& v = (*o)[key];
  if (v.is_array())
    for (const auto& a : v) add(a);
  else
    add(v);
  return out;
}

// Sections built paragraph by paragraph: a heading opens a new section.
struct SectionBuilder {
  std::vector<vellum::ArticleSection> sections;
  void heading(std::string h) {
    h = clean(h);
    if (h.empty()) return;
    sections.push_back({std::move(h), {}});
  }
  void paragraph(std::string p) {
    p = clean(p);
    if (p.empty()) return;
    if (sections.empty()) sections.emplace_back();
    sections.back().paragraphs.push_back(std::move(p));
  }
  // Sections with paragraphs (a heading with nothing under it is dropped).
  std::vector<vellum::ArticleSection> take() {
    std::vector<vellum::ArticleSection> out;
    for (auto& s : sections)
      if (!s.paragraphs.empty()) out.push_back(std::move(s));
    return out;
  }
};

inline std::string canonical(const vellum::Page& page) {
  if (page.document)
    if (Node l = page.document->xpath_first("//link[@rel='canonical'][@href]"))
      return l.attr("href");
  std::string og = page.meta_value("og:url");
  return og.empty() ? page.final_url : og;
}
inline std::string language(const vellum::Page& page) {
  if (page.document)
    if (Node r = page.document->root()) return clean(r.attr("lang"));
  return {};
}
// Image URLs in a JSON-LD "image" member (a URL, an ImageObject, or an array of those).
inline std::vector<vellum::ArticleImage> ld_images(const json* o) {
  std::vector<vellum::ArticleImage> out;
  if (!o || !o->is_object() || !o->contains("image")) return out;
  auto add = [&](const json& v) {
    vellum::ArticleImage img;
    if (v.is_string()) {
      img.url = v.get<std::string>();
    } else if (v.is_object()) {
      img.url = ld_str(&v, "url");
      img.caption = clean(ld_str(&v, "caption"));
      img.credit = clean(ld_str(&v, "creditText"));
    }
    if (img.url.rfind("http", 0) != 0) return;
    for (const auto& e : out)
      if (e.url == img.url) return;
    out.push_back(std::move(img));
  };
  const json& v = (*o)["image"];
  if (v.is_array())
    for (const auto& x : v) add(x);
  else
    add(v);
  return out;
}
// A social-media embed (tweets, Instagram and TikTok posts are blockquotes with a class).
inline bool is_social_embed(const Node& n) {
  std::string c = n.attr("class");
  for (const char* k : {"twitter", "tweet", "instagram", "tiktok", "embed", "social"})
    if (c.find(k) != std::string::npos) return true;
  return false;
}

}  // namespace vellum::helpers
