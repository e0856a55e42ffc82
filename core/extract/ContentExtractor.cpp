#include "extract/ContentExtractor.h"

#include <libxml/uri.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "extract/DateParser.h"
#include "extract/TextUtil.h"
#include "util/Text.h"

namespace vellum::extract {

namespace {

enum class Kind { Para, Heading, Item, Quote, Pre, Table, Run };

struct Block {
  xmlNodePtr node;       // the element (for runs: the container holding the run)
  xmlNodePtr container;  // the element whose score the block feeds first
  Kind kind;
  int level = 0;              // heading level
  xmlNodePtr list = nullptr;  // the list an item belongs to
  std::string text;
  std::size_t chars = 0;
  std::size_t link_chars = 0;
};

struct Stats {
  double score = 0;
  bool initialised = false;
  std::size_t chars = 0;
  std::size_t link_chars = 0;
};

const char* name_of(xmlNodePtr n) {
  return reinterpret_cast<const char*>(n->name);
}

bool tag_is(xmlNodePtr n, const char* t) {
  return n && n->type == XML_ELEMENT_NODE && std::strcmp(name_of(n), t) == 0;
}

std::string attr_of(xmlNodePtr n, const char* a) {
  xmlChar* v = xmlGetProp(n, reinterpret_cast<const xmlChar*>(a));
  if (!v) return {};
  std::string out(reinterpret_cast<const char*>(v));
  xmlFree(v);
  return out;
}

bool in_set(const char* t, std::initializer_list<const char*> set) {
  for (const char* s : set)
    if (std::strcmp(t, s) == 0) return true;
  return false;
}

bool is_skipped_tag(const char* t) {
  return in_set(
      t, {"script", "style",  "noscript", "nav",    "footer", "aside",    "form",     "header",
          "iframe", "svg",    "button",   "select", "input",  "textarea", "template", "menu",
          "dialog", "canvas", "object",   "embed",  "link",   "meta",     "head",     "title",
          "label",  "option", "video",    "audio",  "map",    "math"});
}

bool is_heading(const char* t) {
  return t[0] == 'h' && t[1] >= '1' && t[1] <= '6' && t[2] == 0;
}

// Words in class/id that mark page furniture.
const char* const kNegative[] = {"share",         "sharing",       "social",
                                 "related",       "comment",       "cookie",
                                 "consent",       "newsletter",    "promo",
                                 "advert",        "subscribe",     "breadcrumb",
                                 "sidebar",       "footer",        "masthead",
                                 "banner",        "popup",         "modal",
                                 "signup",        "sign-up",       "paywall",
                                 "subscription",  "regwall",       "premium-barrier",
                                 "meter-message", "piano-",        "recommend",
                                 "trending",      "most-read",     "mostread",
                                 "most-popular",  "outbrain",      "taboola",
                                 "sponsor",       "disqus",        "pagination",
                                 "pager",         "byline",        "author-bio",
                                 "tags",          "tag-list",      "toolbar",
                                 "skip-link",     "skiplink",      "nav-",
                                 "navbar",        "menu",          "read-more",
                                 "readmore",      "more-stories",  "also-read",
                                 "gdpr",          "print-only",    "visually-hidden",
                                 "sr-only",       "screen-reader", "caption-credit",
                                 "dateline",      "timestamp",     "meta-data",
                                 "article-meta",  "post-meta",     "widget",
                                 "donate",        "next-article",  "prev-article",
                                 "jump-link",     "inline-ad",     "ad-slot",
                                 "ad-container",  "ad-wrapper",    "adslot",
                                 "advertisement", "dfp",           "teaser",
                                 "skyscraper",    "shoutbox",      "supplemental",
                                 "login",         "follow",        "topics",
                                 "caption",       "gallery",       "slideshow",
                                 "carousel",      "credit"};

// Class and id names no article is ever wrapped in: readers' comments, comment and
// recommendation services, consent banners. A name that says whether comments are on
// ("comments-enabled", "has-comments") marks an article, and "commentary" and "commentator"
// are articles' words.
bool never_article(const std::string& class_id) {
  std::size_t i = 0;
  while (i < class_id.size()) {
    const std::size_t end = std::min(class_id.find_first_of(" \t\r\n\f", i), class_id.size());
    const std::string_view token = std::string_view(class_id).substr(i, end - i);
    i = end + 1;
    // WordPress names a post's categories and tags in its class ("category-cookies",
    // "tag-consent-decree"): what the post is about, not what it is.
    if (token.starts_with("tag-") || token.starts_with("category-") || token.starts_with("cat-"))
      continue;
    for (const char* w : {"disqus", "outbrain", "taboola", "cookie", "consent"})
      if (token.find(w) != std::string_view::npos) return true;
    const auto at = token.find("comment");
    if (at == std::string_view::npos) continue;
    const std::string_view rest = token.substr(at + 7);
    if (rest.starts_with("ary") || rest.starts_with("ator")) continue;
    bool state = token.starts_with("has-") || token.starts_with("with-") ||
                 token.starts_with("allow") || token.starts_with("no-comments");
    for (const char* s : {"-enabled", "-disabled", "-open", "-closed", "-on", "-off", "-allowed",
                          "-count", "-number"})
      state = state || token.ends_with(s);
    if (!state) return true;
  }
  return false;
}

const char* const kPositive[] = {"article", "story", "content", "entry", "post-body",
                                 "main",    "text",  "body",    "blog",  "hentry"};

// A class token exactly "ad", "ads", or starting "ad-"/"ads-".
bool has_ad_token(const std::string& cls) {
  std::size_t i = 0;
  while (i < cls.size()) {
    while (i < cls.size() && cls[i] == ' ') ++i;
    std::size_t j = i;
    while (j < cls.size() && cls[j] != ' ') ++j;
    std::string_view tok = std::string_view(cls).substr(i, j - i);
    if (tok == "ad" || tok == "ads" || tok == "hidden" || tok == "hide" || tok == "d-none" ||
        tok == "element-hidden" || tok == "is-hidden" || tok.rfind("ad-", 0) == 0 ||
        tok.rfind("ads-", 0) == 0 || tok.rfind("ad_", 0) == 0)
      return true;
    i = j;
  }
  return false;
}

}  // namespace

std::string compact_style(xmlNodePtr n) {
  std::string s = util::to_lower(attr_of(n, "style"));
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  return s;
}

namespace {

bool hidden(xmlNodePtr n) {
  if (xmlHasProp(n, reinterpret_cast<const xmlChar*>("hidden"))) return true;
  if (const std::string s = compact_style(n); !s.empty()) {
    if (s.find("display:none") != std::string::npos ||
        s.find("visibility:hidden") != std::string::npos)
      return true;
  }
  std::string role = attr_of(n, "role");
  if (!role.empty() && in_set(util::to_lower(role).c_str(),
                              {"navigation", "complementary", "banner", "contentinfo", "dialog",
                               "menu", "menubar", "toolbar", "search", "alertdialog"}))
    return true;
  return false;
}

// `raw` cut at each blank line (two line breaks with only spaces between).
std::vector<std::string> split_at_blank_lines(const std::string& raw) {
  std::vector<std::string> out(1);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\n') {
      std::size_t j = i + 1;
      while (j < raw.size() && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\r')) ++j;
      if (j < raw.size() && raw[j] == '\n') {
        out.emplace_back();
        i = j;
        continue;
      }
    }
    out.back() += raw[i];
  }
  return out;
}

// Headings that name an article's key points and nothing else.
const char* const kPlainKeyPointHeadings[] = {"key points", "key takeaways",         "takeaways",
                                              "key facts",  "what you need to know", "at a glance",
                                              "tl;dr"};
// Headings a site also puts over lists of its own.
const char* const kOtherKeyPointHeadings[] = {"highlights", "summary", "in brief",
                                              "the big picture"};

std::string key_point_heading_form(const std::string& text) {
  std::string l = util::to_lower(text);
  while (!l.empty() && (l.back() == ':' || l.back() == '.' || l.back() == ' ')) l.pop_back();
  return l;
}

bool is_plain_key_point_heading(const std::string& text) {
  const std::string l = key_point_heading_form(text);
  return std::find(std::begin(kPlainKeyPointHeadings), std::end(kPlainKeyPointHeadings), l) !=
         std::end(kPlainKeyPointHeadings);
}

bool is_key_point_heading(const std::string& text) {
  const std::string l = key_point_heading_form(text);
  return is_plain_key_point_heading(text) ||
         std::find(std::begin(kOtherKeyPointHeadings), std::end(kOtherKeyPointHeadings), l) !=
             std::end(kOtherKeyPointHeadings);
}

// "– text", "• text", "- text" -> "text"; `text` itself when it has no bullet.
std::string strip_bullet(const std::string& text) {
  for (const char* b : {"\xE2\x80\x93 ", "\xE2\x80\x94 ", "\xE2\x80\xA2 ", "\xC2\xB7 ", "- ", "* ",
                        "\xE2\x80\x93", "\xE2\x80\xA2"})
    if (text.rfind(b, 0) == 0) return clean_text(std::string_view(text).substr(std::strlen(b)));
  return text;
}

class Walker {
 public:
  // Whether class and id names that mark furniture ("sidebar", "related") remove a subtree;
  // hidden elements and furniture tags (nav, footer, aside...) go either way. `read_noscript`:
  // <noscript> is read too (a page that shows its text only through a script may keep a copy
  // there for readers without one).
  Walker(bool by_class_names, bool read_noscript)
      : by_class_names_(by_class_names), read_noscript_(read_noscript) {}

  std::vector<Block> blocks;
  std::unordered_map<xmlNodePtr, Stats> stats;
  std::unordered_set<xmlNodePtr> key_point_boxes;  // the <aside>s read for their key points
  std::vector<xmlNodePtr> figures;

  // Class/id score used both for removal and as a candidate bonus.
  static std::string class_id(xmlNodePtr n) {
    return util::to_lower(attr_of(n, "class") + " " + attr_of(n, "id"));
  }

  bool boilerplate(xmlNodePtr n) {
    const char* t = name_of(n);
    if (is_skipped_tag(t)) {
      if (read_noscript_ && std::strcmp(t, "noscript") == 0) return false;
      // ASP.NET pages wrap everything in one <form>; some sites put the article in <header>.
      if (in_set(t, {"form", "header"})) return !holds_much_text(n);
      // An <aside> of key points (a plain "Key points" heading over a list) belongs to the
      // article, unless hidden; other asides are furniture.
      const bool key_points_box = std::strcmp(t, "aside") == 0 && opens_with_key_points(n);
      if (!key_points_box) return std::strcmp(t, "aside") != 0 || !holds_much_text(n);
      key_point_boxes.insert(n);
    }
    if (hidden(n)) return true;
    if (in_set(t, {"body", "html", "main"})) return false;
    std::string ci = class_id(n);
    if (ci.size() <= 1) return false;
    // Readers' comments and the like go however much text they hold, in every reading: a long
    // discussion must not outweigh the article it is under.
    if (never_article(ci)) return true;
    if (!by_class_names_) return false;
    if (in_set(t, {"article", "p", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "tbody"}))
      return false;
    bool neg = has_ad_token(ci);
    for (const char* w : kNegative)
      if (!neg && ci.find(w) != std::string::npos) neg = true;
    if (!neg) return false;
    // A box of key points is the article's, whatever its class ("sidebar", "widget").
    if (key_point_boxes.contains(n) || opens_with_key_points(n)) return false;
    for (const char* w : kPositive)
      if (ci.find(w) != std::string::npos) return !holds_much_text(n, 4);
    return !holds_much_text(n, 2);
  }

  // Whether the first text in `n` is a plain key-points heading ("Key points", not
  // "Highlights") and a list or bulleted paragraphs follow it: the text of the block element
  // holding the first words that are not white space (inline elements such as <span> or <strong>
  // inside it included).
  static bool opens_with_key_points(xmlNodePtr n) {
    xmlNodePtr k = n->children;
    while (k && k != n) {
      if (k->type == XML_TEXT_NODE && k->content &&
          Walker::plain_chars_of(reinterpret_cast<const char*>(k->content)) > 0) {
        xmlNodePtr holder = k->parent;
        while (holder != n && holder->parent && holder->parent != n &&
               in_set(name_of(holder), {"span", "strong", "b", "em", "i", "a", "small"}))
          holder = holder->parent;
        std::string text =
            clean_text(holder == n ? std::string(reinterpret_cast<const char*>(k->content))
                                   : Node(holder).raw_text());
        if (text.size() >= 40 || !is_plain_key_point_heading(text)) return false;
        if (!Node(n).xpath(".//ul|.//ol").empty()) return true;
        for (const Node& para : Node(n).xpath(".//p")) {
          const std::string t = clean_text(para.raw_text());
          if (!t.empty() && strip_bullet(t).size() != t.size()) return true;  // "• First"
        }
        return false;
      }
      if (k->type == XML_ELEMENT_NODE && k->children) {
        k = k->children;
        continue;
      }
      while (k != n && !k->next) k = k->parent;
      if (k != n) k = k->next;
    }
    return false;
  }

  static std::size_t plain_chars_of(const char* text) {
    std::size_t c = 0;
    for (const char* p = text; *p; ++p)
      if (static_cast<unsigned char>(*p) > ' ') ++c;
    return c;
  }

  // Does the element hold at least 1/`share` of the page's plain (non-link) text: a wrapper
  // whose class happens to contain a furniture word?
  bool holds_much_text(xmlNodePtr n, std::size_t share = 2) {
    if (total_chars_ == 0) return false;
    std::size_t c = plain_chars(n);
    return c > 200 && c * share > total_chars_;
  }

  static std::size_t plain_chars(xmlNodePtr n) {
    std::size_t c = 0;
    for (xmlNodePtr k = n->children; k; k = k->next) {
      if (k->type == XML_TEXT_NODE) {
        if (k->content) c += plain_chars_of(reinterpret_cast<const char*>(k->content));
      } else if (k->type == XML_ELEMENT_NODE && !tag_is(k, "a") &&
                 !(is_skipped_tag(name_of(k)) &&
                   !in_set(name_of(k), {"form", "header", "aside"})) &&
                 !never_article(class_id(k))) {  // comments do not make the article look small
        c += plain_chars(k);
      }
    }
    return c;
  }

  void count_total(xmlNodePtr body) { total_chars_ = plain_chars(body); }

  // Whether the subtree holds a block-level element (memoised).
  bool has_block(xmlNodePtr n) {
    auto it = has_block_.find(n);
    if (it != has_block_.end()) return it->second;
    bool r = false;
    for (xmlNodePtr k = n->children; k && !r; k = k->next) {
      if (k->type != XML_ELEMENT_NODE || tag_is(k, "br")) continue;
      if (is_block_element(name_of(k)) || has_block(k)) r = true;
    }
    has_block_[n] = r;
    return r;
  }

  // Appends a text node's text. Its line breaks are the source's line wrapping, which a
  // browser shows as spaces, except in <pre>; a line break in the result is a <br>.
  static std::size_t append_text(std::string& out, xmlNodePtr k, bool pre) {
    if (!k->content) return 0;
    const char* s = reinterpret_cast<const char*>(k->content);
    const std::size_t from = out.size();
    out += s;
    if (!pre) std::replace(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(), '\n', ' ');
    return out.size() - from;
  }

  // Appends the visible text below `n`, counting link text.
  void gather(xmlNodePtr n, std::string& out, std::size_t& link, bool in_link, bool pre = false) {
    for (xmlNodePtr k = n->children; k; k = k->next) {
      if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
        const std::size_t added = append_text(out, k, pre);
        if (in_link) link += added;
      } else if (k->type == XML_ELEMENT_NODE) {
        const char* t = name_of(k);
        if (std::strcmp(t, "br") == 0) {
          out += '\n';
          continue;
        }
        if (is_skipped_tag(t) && std::strcmp(t, "label") != 0) continue;
        if (hidden(k)) continue;
        if (std::strcmp(t, "figure") == 0) {
          figures.push_back(k);
          continue;
        }

        bool block = is_block_element(t);
        if (block) out += ' ';
        gather(k, out, link, in_link || std::strcmp(t, "a") == 0, pre);
        if (block) out += ' ';
      }
    }
  }

  void emit(xmlNodePtr node, xmlNodePtr container, Kind kind, int level, std::string raw,
            std::size_t link) {
    // Line breaks (<br>, <pre>, table rows) are kept in text, and <pre>'s indentation; a
    // heading is one line.
    std::string text = kind == Kind::Heading ? clean_text(raw)
                       : kind == Kind::Pre   ? clean_pre_lines(raw)
                                             : clean_lines(raw);
    if (text.empty()) return;
    Block b;
    b.node = node;
    b.container = container;
    b.kind = kind;
    b.level = level;
    b.chars = char_count(text);
    b.link_chars = std::min(link, text.size());
    // link counted in bytes of raw text; scale to the cleaned text
    if (!raw.empty())
      b.link_chars = std::min(b.chars, link * b.chars / std::max<std::size_t>(1, char_count(raw)));
    b.text = std::move(text);
    if (kind == Kind::Item && node->parent) b.list = node->parent;
    blocks.push_back(std::move(b));
  }

  // Is `n` inside a link (block elements wrapped in <a>, as in teaser cards)?
  static bool inside_link(xmlNodePtr n) {
    for (xmlNodePtr a = n->parent; a && a->type == XML_ELEMENT_NODE; a = a->parent)
      if (tag_is(a, "a")) return true;
    return false;
  }

  void leaf(xmlNodePtr n, Kind kind, int level) {
    std::string raw;
    std::size_t link = 0;
    gather(n, raw, link, inside_link(n), kind == Kind::Pre);
    emit(n, n->parent ? n->parent : n, kind, level, std::move(raw), link);
  }

  // The rows of a table (through thead, tbody, tfoot), not those of tables inside it.
  static std::vector<xmlNodePtr> rows_of(xmlNodePtr table) {
    std::vector<xmlNodePtr> rows;
    for (xmlNodePtr k = table->children; k; k = k->next) {
      if (tag_is(k, "tr")) rows.push_back(k);
      if (tag_is(k, "thead") || tag_is(k, "tbody") || tag_is(k, "tfoot"))
        for (xmlNodePtr r = k->children; r; r = r->next)
          if (tag_is(r, "tr")) rows.push_back(r);
    }
    return rows;
  }

  static bool is_cell(xmlNodePtr n) { return tag_is(n, "td") || tag_is(n, "th"); }

  // A table of data (two rows or more, every cell plain text), as opposed to one laying out
  // a page, whose cells hold paragraphs and blocks.
  bool data_table(const std::vector<xmlNodePtr>& rows) {
    if (rows.size() < 2) return false;
    std::size_t side_by_side = 0;  // rows of two cells or more: columns, not a page's layout
    for (xmlNodePtr r : rows) {
      std::size_t cells = 0;
      for (xmlNodePtr c = r->children; c; c = c->next) {
        if (!is_cell(c)) continue;
        if (has_block(c)) return false;
        ++cells;
      }
      if (cells >= 2) ++side_by_side;
    }
    return 2 * side_by_side >= rows.size();
  }

  // A data table as one block: a line per row, its cells separated by spaces.
  void table(xmlNodePtr n, const std::vector<xmlNodePtr>& rows) {
    std::string raw;
    std::size_t link = 0;
    const bool linked = inside_link(n);
    for (xmlNodePtr r : rows) {
      if (hidden(r)) continue;
      for (xmlNodePtr c = r->children; c; c = c->next) {
        if (!is_cell(c) || hidden(c)) continue;
        raw += ' ';
        gather(c, raw, link, linked);
      }
      raw += '\n';
    }
    emit(n, n->parent ? n->parent : n, Kind::Table, 0, std::move(raw), link);
  }

  // A paragraph holding an image and no text: a figure without the name.
  static bool image_only(xmlNodePtr p) {
    bool image = false;
    for (xmlNodePtr k = p->children; k; k = k->next) {
      if (k->type == XML_TEXT_NODE && k->content) {
        for (const xmlChar* c = k->content; *c; ++c)
          if (*c > ' ') return false;
      } else if (k->type == XML_ELEMENT_NODE) {
        if (tag_is(k, "img") || tag_is(k, "amp-img") || tag_is(k, "picture")) {
          image = true;
        } else if (tag_is(k, "a") || tag_is(k, "span")) {
          if (!image_only(k)) return false;
          image = true;
        } else if (!tag_is(k, "br")) {
          return false;
        }
      }
    }
    return image;
  }

  void visit(xmlNodePtr n) {
    const char* t = name_of(n);
    // WordPress's captioned image box is a figure, though its class names a caption.
    if (std::strcmp(t, "div") == 0 && !hidden(n) &&
        class_id(n).find("wp-caption") != std::string::npos) {
      figures.push_back(n);
      return;
    }
    if (boilerplate(n)) return;
    // Figures: <figure>, a paragraph that is only an image.
    if (std::strcmp(t, "figure") == 0 || (std::strcmp(t, "p") == 0 && image_only(n))) {
      figures.push_back(n);
      return;
    }
    if (std::strcmp(t, "p") == 0) return leaf(n, Kind::Para, 0);
    if (is_heading(t)) return leaf(n, Kind::Heading, t[1] - '0');
    if (std::strcmp(t, "pre") == 0) return leaf(n, Kind::Pre, 0);
    if (std::strcmp(t, "table") == 0) {
      auto rows = rows_of(n);
      if (data_table(rows)) return table(n, rows);
    }
    if (!has_block(n)) {
      Kind k = Kind::Run;
      if (std::strcmp(t, "li") == 0 || std::strcmp(t, "dd") == 0) k = Kind::Item;
      if (std::strcmp(t, "blockquote") == 0) k = Kind::Quote;
      std::string raw;
      std::size_t link = 0;
      gather(n, raw, link, inside_link(n));
      // Runs split into paragraphs at blank lines (<br><br>); one <br> breaks a line.
      if (k == Kind::Run && raw.find('\n') != std::string::npos) {
        for (std::string& piece : split_at_blank_lines(raw)) {
          std::size_t piece_link = raw.empty() ? 0 : link * piece.size() / raw.size();
          emit(n, n, k, 0, std::move(piece), piece_link);
        }
        return;
      }
      emit(n, k == Kind::Run ? n : n->parent, k, 0, std::move(raw), link);
      return;
    }
    // Mixed content: inline runs between block children become blocks of their own.
    std::string run;
    std::size_t run_link = 0;
    auto flush = [&] {
      if (!run.empty())
        emit(n, n, std::strcmp(t, "li") == 0 ? Kind::Item : Kind::Run, 0, run, run_link);
      run.clear();
      run_link = 0;
    };
    for (xmlNodePtr k = n->children; k; k = k->next) {
      if (k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) {
        append_text(run, k, false);
      } else if (k->type == XML_ELEMENT_NODE) {
        const char* kt = name_of(k);
        if (std::strcmp(kt, "br") == 0) {
          // a second <br> in a row ends the run (with only spaces, source line breaks
          // among them, between the two)
          const auto last = run.find_last_not_of(" \t\r");
          if (last != std::string::npos && run[last] == '\n')
            flush();
          else
            run += '\n';
        } else if (is_block_element(kt) || has_block(k)) {
          flush();
          visit(k);
        } else if (!boilerplate(k)) {
          std::string piece;
          std::size_t l = 0;
          gather(k, piece, l, std::strcmp(kt, "a") == 0);
          if (std::strcmp(kt, "a") == 0) l = piece.size();
          run += piece;
          run_link += l;
        }
      }
    }
    flush();
  }

 private:
  bool by_class_names_ = true;
  bool read_noscript_ = false;
  std::size_t total_chars_ = 0;
  std::unordered_map<xmlNodePtr, bool> has_block_;
};

double class_weight(xmlNodePtr n) {
  std::string ci = Walker::class_id(n);
  double w = 0;
  static const char* neg[] = {"comment", "meta",   "foot",  "footer", "related", "share",
                              "sidebar", "widget", "promo", "tags",   "social",  "hidden",
                              "banner",  "menu",   "nav",   "sponsor"};
  static const char* pos[] = {"article", "body",  "content", "entry", "main",
                              "post",    "story", "text",    "blog",  "hentry"};
  for (const char* s : neg)
    if (ci.find(s) != std::string::npos) {
      w -= 25;
      break;
    }
  for (const char* s : pos)
    if (ci.find(s) != std::string::npos) {
      w += 25;
      break;
    }
  return w;
}

double tag_weight(xmlNodePtr n) {
  const char* t = name_of(n);
  if (in_set(t, {"div", "article", "section", "main"}))
    return std::strcmp(t, "article") == 0 ? 8 : 5;
  if (in_set(t, {"pre", "td", "blockquote"})) return 3;
  if (in_set(t, {"address", "ol", "ul", "dl", "dd", "dt", "li", "form"})) return -3;
  if (is_heading(t) || std::strcmp(t, "th") == 0) return -5;
  return 0;
}

bool contains(xmlNodePtr ancestor, xmlNodePtr n) {
  for (; n; n = n->parent)
    if (n == ancestor) return true;
  return false;
}

// Does `text` end like a sentence (".", "!", "?", not "a.m." or "p.m.")?
bool ends_sentence(const std::string& text) {
  if (text.empty()) return false;
  const char last = text.back();
  if (last == '!' || last == '?') return true;
  // The full stop, question and exclamation marks of Chinese and Japanese text, the Arabic
  // question mark, the Devanagari danda.
  for (const char* mark :
       {"\xE3\x80\x82", "\xEF\xBC\x9F", "\xEF\xBC\x81", "\xD8\x9F", "\xE0\xA5\xA4"})
    if (text.ends_with(mark)) return true;
  if (last != '.') return false;
  std::string tail =
      util::to_lower(text.substr(text.size() - std::min<std::size_t>(4, text.size())));
  return tail != "a.m." && tail != "p.m.";
}

}  // namespace

std::string document_base_url(const Document& doc, const std::string& page_url) {
  Node base = doc.xpath_first("/html/head/base[@href]");  // where it belongs, and cheap to find
  if (!base) return page_url;
  std::string url = resolve_url(page_url, base.attr("href"));
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0 ? url : page_url;
}

std::string resolve_url(const std::string& base, const std::string& href) {
  std::string h = trim_ascii(href);
  if (h.empty() || base.empty()) return h;
  xmlChar* r = xmlBuildURI(reinterpret_cast<const xmlChar*>(h.c_str()),
                           reinterpret_cast<const xmlChar*>(base.c_str()));
  if (!r) return h;
  std::string out(reinterpret_cast<const char*>(r));
  xmlFree(r);
  return out;
}

bool is_ui_text(const std::string& text) {
  if (char_count(text) > 80) return false;
  std::string l = util::to_lower(text);
  while (!l.empty() && (l.back() == ':' || l.back() == '.' || l.back() == ' ' || l.back() == '>' ||
                        l.back() == '!'))
    l.pop_back();
  static const char* exact[] = {"advertisement",
                                "advertising",
                                "ad",
                                "sponsored",
                                "read more",
                                "continue reading",
                                "share",
                                "share this",
                                "share this article",
                                "share this story",
                                "share on facebook",
                                "share on twitter",
                                "tweet",
                                "email",
                                "print",
                                "comments",
                                "related",
                                "related articles",
                                "related stories",
                                "more",
                                "loading",
                                "click here",
                                "subscribe",
                                "sign up",
                                "log in",
                                "follow us",
                                "follow",
                                "recommended",
                                "most read",
                                "most popular",
                                "copy link",
                                "link copied",
                                "see more",
                                "show more",
                                "view comments",
                                "skip advertisement",
                                "story continues below",
                                "article continues below",
                                "continue reading below",
                                "scroll to continue",
                                "image",
                                "photo",
                                "video",
                                "listen",
                                "listen to this article",
                                "save",
                                "play",
                                "close"};
  for (const char* e : exact)
    if (l == e) return true;
  static const char* prefixes[] = {"read more:",
                                   "read more about",
                                   "also read:",
                                   "read also:",
                                   "related:",
                                   "see also:",
                                   "click here to",
                                   "sign up for",
                                   "subscribe to",
                                   "follow us on",
                                   "download the",
                                   "advertisement",
                                   "this article was originally published",
                                   "share this"};
  for (const char* p : prefixes)
    if (istarts_with(l, p)) return true;
  // "5 min read", "• 12 minute read"
  if (l.ends_with(" read")) {
    std::size_t i = l.find_first_of("0123456789");
    if (i != std::string::npos && i <= 4) {
      while (i < l.size() && std::isdigit(static_cast<unsigned char>(l[i]))) ++i;
      const std::string_view unit = std::string_view(l).substr(i, l.size() - 5 - i);
      if (unit == " min" || unit == " mins" || unit == " minute" || unit == " minutes") return true;
    }
  }
  // "Published 1 May 2024, 14:03 BST | Updated 2 May 2024": the date line of the page.
  // The rest must be the date alone: "Updated figures released on 3 May 2024 show ..." is
  // text.
  for (const char* p : {"published", "updated", "last updated", "first published", "posted"}) {
    if (!istarts_with(l, p)) continue;
    std::string rest = text.substr(std::strlen(p));
    rest = rest.substr(0, rest.find('|'));
    if (std::count(rest.begin(), rest.end(), ' ') <= 7 && !normalize_date(rest).empty())
      return true;
  }
  return false;
}

namespace {

// Whether the text before a credit marker ends a sentence or a part of the caption, so that
// "photo by" starts a credit in "The bridge. Photo by Jane Doe" and not in "A photo by the
// river shows the bridge".
bool starts_a_part(std::string_view before) {
  while (!before.empty() && before.back() == ' ') before.remove_suffix(1);
  if (before.empty()) return true;
  const char c = before.back();
  return c == '.' || c == '|' || c == ';' || c == ':' || c == ')' || c == '-' || c == ',' ||
         before.ends_with("\xE2\x80\x93") || before.ends_with("\xE2\x80\x94");
}

// A trailing "(AP Photo/Evan Vucci)" or "(Getty Images)": the group that closes the caption,
// when it names a photographer or agency.
std::size_t trailing_credit_group(std::string_view caption) {
  if (caption.empty() || caption.back() != ')') return std::string_view::npos;
  const auto open = caption.rfind('(');
  if (open == std::string_view::npos) return std::string_view::npos;
  const std::string inside = util::to_lower(caption.substr(open));
  if (inside.find_first_of("0123456789") != std::string::npos &&
      inside.find("photo") == std::string::npos)
    return std::string_view::npos;  // "(2019/20 season)"
  for (const char* mark : {"/", "photo", "image", "getty", "reuters", "afp", "\xC2\xA9", "ap "})
    if (inside.find(mark) != std::string::npos) return open;
  return std::string_view::npos;
}

// A trailing "Jane Smith/Reuters": a short last part of the caption with a slash in a word.
std::size_t trailing_name_slash_agency(std::string_view caption) {
  std::size_t start = caption.rfind(". ");
  start = start == std::string_view::npos ? std::string_view::npos : start + 2;
  if (start == std::string_view::npos || start >= caption.size()) return std::string_view::npos;
  const std::string_view last = caption.substr(start);
  const auto slash = last.find('/');
  if (slash == std::string_view::npos || slash == 0 || last[slash - 1] == ' ' ||
      slash + 1 >= last.size() || last[slash + 1] == ' ')
    return std::string_view::npos;
  if (std::count(last.begin(), last.end(), ' ') > 5 || last.back() == '.' ||
      last.find_first_of("0123456789") != std::string_view::npos)
    return std::string_view::npos;  // "The 2023/24 season ended."
  return start;
}

}  // namespace

// The largest image of a srcset ("\n  /img/a.jpg 300w, /img/b.jpg 600w"; "a.jpg, b.jpg 2x")
// and its size (a width, or a density times 1000; 0 when none is given, -1 for no candidate):
// each candidate's URL runs from its first non-space to the next whitespace, without a comma
// that ends it, and a width or density follows it; the first wins a tie.
std::pair<std::string, double> best_srcset(const std::string& set) {
  std::string best;
  double best_size = -1;
  std::size_t i = 0;
  while (i < set.size()) {
    i = set.find_first_not_of(" \t\r\n\f,", i);
    if (i == std::string::npos) break;
    std::size_t end = set.find_first_of(" \t\r\n\f", i);
    if (end == std::string::npos) end = set.size();
    std::string url = set.substr(i, end - i);
    const bool comma_ended = !url.empty() && url.back() == ',';
    while (!url.empty() && url.back() == ',') url.pop_back();
    double size = 0;
    i = end;
    if (!comma_ended) {
      const std::size_t next = set.find(',', i);
      const std::string descriptor =
          trim_ascii(set.substr(i, next == std::string::npos ? std::string::npos : next - i));
      size = std::atof(descriptor.c_str()) * (descriptor.ends_with("x") ? 1000 : 1);
      i = next == std::string::npos ? set.size() : next + 1;
    }
    if (!url.empty() && size > best_size) {
      best = url;
      best_size = size;
    }
  }
  return {best, best_size};
}

// A stand-in shown until the real image loads: a data: URL, or a file named for it.
bool placeholder_image(const std::string& url) {
  if (url.empty() || url.rfind("data:", 0) == 0) return true;
  const std::string l = util::to_lower(url);
  for (const char* w : {"placeholder", "blank.", "spacer.", "transparent.", "pixel.", "lazy."})
    if (l.find(w) != std::string::npos) return true;
  return false;
}

std::string image_url(const Node& img) {
  // Lazy loading keeps the real image in a data- attribute and a stand-in in src.
  for (const char* a : {"data-src", "data-original", "data-lazy-src", "data-url"})
    if (std::string v = trim_ascii(img.attr(a)); !placeholder_image(v)) return v;
  // The largest candidate of the image's srcset and of the <source>s of its <picture>
  // (libxml2 nests the <img> in the <source>), else its src.
  std::string best;
  double best_size = -1;
  auto consider = [&](const std::string& set) {
    auto [url, size] = best_srcset(set);
    if (!placeholder_image(url) && size > best_size) {
      best = std::move(url);
      best_size = size;
    }
  };
  for (const char* a : {"srcset", "data-srcset"}) consider(img.attr(a));
  int depth = 0;
  for (xmlNodePtr a = img.raw()->parent; a && a->type == XML_ELEMENT_NODE && depth < 3;
       a = a->parent, ++depth) {
    if (!tag_is(a, "picture")) continue;
    for (const Node& source : Node(a).xpath(".//source[@srcset]")) consider(source.attr("srcset"));
    break;
  }
  if (!best.empty()) return best;
  if (std::string v = trim_ascii(img.attr("src")); !placeholder_image(v)) return v;
  return {};
}

std::string split_credit(std::string& caption) {
  static const char* markers[] = {"photo:",        "photograph:",   "image:",
                                  "picture:",      "credit:",       "photo credit:",
                                  "photos:",       "illustration:", "source:",
                                  "image credit:", "(photo:",       "(image:",
                                  "(credit:",      "(picture:",     "(photograph:",
                                  "(photo by",     "photo by",      "(source:",
                                  "photograph by", "credit...",     "credit\xE2\x80\xA6",
                                  "\xC2\xA9"};
  std::string l = util::to_lower(caption);
  std::size_t best = std::string::npos;
  std::size_t mlen = 0;
  bool paren = false;
  for (const char* m : markers) {
    for (auto pos = l.find(m); pos != std::string::npos; pos = l.find(m, pos + 1)) {
      if (m[0] != '(' && !starts_a_part(std::string_view(l).substr(0, pos))) continue;
      if (pos < best || (pos == best && std::strlen(m) > mlen)) {
        best = pos;
        mlen = std::strlen(m);
        paren = m[0] == '(';
      }
      break;
    }
  }
  if (best == std::string::npos) {
    // No marker: a closing "(AP Photo/Evan Vucci)" or a last "Jane Smith/Reuters".
    if (auto open = trailing_credit_group(caption); open != std::string::npos) {
      std::string credit = clean_text(caption.substr(open + 1, caption.size() - open - 2));
      caption = clean_text(caption.substr(0, open));
      return credit;
    }
    if (auto start = trailing_name_slash_agency(caption); start != std::string::npos) {
      std::string credit = clean_text(caption.substr(start));
      caption = clean_text(caption.substr(0, start));
      return credit;
    }
    return {};
  }
  std::size_t start = best + mlen;
  std::size_t end = caption.size();
  if (paren) {
    auto close = caption.find(')', start);
    if (close != std::string::npos) end = close;
  }
  std::string credit = clean_text(std::string_view(caption).substr(start, end - start));
  std::string rest = caption.substr(0, best);
  if (paren && end < caption.size()) rest += caption.substr(end + 1);
  caption = clean_text(rest);
  return credit;
}

namespace {

std::size_t text_chars(const ExtractedContent& c) {
  std::size_t n = 0;
  for (const auto& s : c.sections)
    for (const auto& p : s.paragraphs) n += char_count(p);
  return n;
}

}  // namespace

namespace {

// Whether `text` reads as the names of a byline: names of two or three capitalised words (a
// particle such as "de" or "van" between them), joined by commas or a word for "and". "County
// Wineries Thrive Again" and "Berlin nach Paris" do not.
bool reads_as_names(std::string_view text) {
  static constexpr std::string_view kJoins[] = {" and ", " und ", " et ", " y ",
                                                " e ",   " en ",  " & ",  ", "};
  static constexpr std::string_view kParticles[] = {"de",  "van", "von", "der", "den", "da",  "di",
                                                    "del", "la",  "le",  "du",  "ten", "ter", "zu"};
  std::size_t names = 0;
  while (!text.empty()) {
    std::size_t cut = text.size(), skip = 0;
    for (std::string_view j : kJoins)
      if (const std::size_t at = text.find(j); at < cut) {
        cut = at;
        skip = j.size();
      }
    std::string_view name = text.substr(0, cut);
    text.remove_prefix(std::min(text.size(), cut + skip));
    std::size_t capitals = 0;
    while (!name.empty()) {
      const std::size_t space = name.find(' ');
      const std::string_view word = name.substr(0, space);
      name.remove_prefix(space == std::string_view::npos ? name.size() : space + 1);
      if (word.empty()) continue;
      const auto first = static_cast<unsigned char>(word.front());
      if (std::isupper(first) || first >= 0xC3)
        ++capitals;
      else if (std::find(std::begin(kParticles), std::end(kParticles), word) ==
               std::end(kParticles))
        return false;
    }
    if (capitals < 2 || capitals > 3) return false;
    ++names;
  }
  return names > 0 && names <= 4;
}

// The length of "By " at the start of `text` when a capitalised word follows, as a byline has
// it, or of "Von ", "Par ", "Por ", "Di ", "Door " when names follow; else 0.
std::size_t byline_prefix(const std::string& text) {
  for (std::string_view p : {"by ", "von ", "par ", "por ", "di ", "door "})
    if (istarts_with(text, p) && text.size() > p.size() &&
        std::isupper(static_cast<unsigned char>(text[p.size()])) &&
        (p == "by " || reads_as_names(std::string_view(text).substr(p.size()))))
      return p.size();
  return 0;
}

}  // namespace

ExtractedContent ContentExtractor::extract(const Document& doc, const std::string& base_url,
                                           const std::string& title) const {
  // The reading below recurses once per level of nesting; a parsed Document nests no deeper
  // than Document::kMaxDepth.
  Node root = doc.root();
  if (!root) return {};
  ExtractedContent out = extract_pass(doc, base_url, title, true, false);
  // When class names took nearly everything away (the article's wrapper named for the sidebar
  // beside it, say, while comments outweigh the article), read the page again without
  // removing by class names, as readability does; class names still weigh on the scores.
  constexpr std::size_t kShortArticle = 500;
  std::size_t chars = text_chars(out);
  if (chars >= kShortArticle) return out;
  ExtractedContent lenient = extract_pass(doc, base_url, title, false, false);
  const std::size_t lenient_chars = text_chars(lenient);
  if (lenient_chars > 2 * chars + 100) {
    out = std::move(lenient);
    chars = lenient_chars;
  }
  // A page that draws its text with a script may keep a copy in <noscript>. A notice there
  // ("Please enable JavaScript") is not an article: that reading counts only when <noscript>
  // adds text and the whole is an article's worth.
  if (chars < kShortArticle && !root.xpath("//noscript").empty()) {
    ExtractedContent again = extract_pass(doc, base_url, title, false, true);
    const std::size_t again_chars = text_chars(again);
    if (again_chars >= kShortArticle && again_chars > lenient_chars + 100 &&
        again_chars > 2 * chars + 100)
      out = std::move(again);
  }
  return out;
}

namespace {

// A <p>, or an element holding nothing but <p>s.
bool paragraph_box(xmlNodePtr n) {
  if (tag_is(n, "p")) return true;
  if (!tag_is(n, "div") && !tag_is(n, "section")) return false;
  bool any = false;
  for (xmlNodePtr k = n->children; k; k = k->next) {
    if (k->type == XML_ELEMENT_NODE) {
      if (!tag_is(k, "p")) return false;
      any = true;
    } else if (k->type == XML_TEXT_NODE && k->content) {
      for (const xmlChar* c = k->content; *c; ++c)
        if (*c > ' ') return false;
    }
  }
  return any;
}

// Whether the text of `n` ends a sentence.
bool ends_with_sentence(xmlNodePtr n) {
  return ends_sentence(clean_text(Node(n).raw_text()));
}

}  // namespace

ExtractedContent ContentExtractor::extract_pass(const Document& doc, const std::string& base_url,
                                                const std::string& title, bool by_class_names,
                                                bool read_noscript) const {
  ExtractedContent out;
  Node root = doc.root();
  if (!root) return out;
  xmlNodePtr body = nullptr;
  for (xmlNodePtr k = root.raw()->children; k; k = k->next)
    if (tag_is(k, "body")) body = k;
  if (!body) body = root.raw();

  Walker w(by_class_names, read_noscript);
  w.count_total(body);
  w.visit(body);
  if (w.blocks.empty()) return out;

  // Score containers from the paragraphs they hold.
  auto init = [&](xmlNodePtr n) -> Stats& {
    Stats& s = w.stats[n];
    if (!s.initialised) {
      s.initialised = true;
      s.score = tag_weight(n) + class_weight(n) * std::min(1.0, static_cast<double>(s.chars) / 500);
    }
    return s;
  };
  for (const Block& b : w.blocks) {
    for (xmlNodePtr a = b.container; a && a->type == XML_ELEMENT_NODE; a = a->parent) {
      Stats& s = w.stats[a];
      s.chars += b.chars;
      s.link_chars += b.link_chars;
    }
  }
  for (const Block& b : w.blocks) {
    // A table scores nothing: a sidebar of figures must not draw the choice to itself.
    if (b.kind == Kind::Heading || b.kind == Kind::Table || b.chars < 25) continue;
    double sc = 1 + static_cast<double>(std::count(b.text.begin(), b.text.end(), ',')) +
                std::min(3.0, static_cast<double>(b.chars / 100));
    if (b.kind == Kind::Item) sc *= 0.5;
    sc *= 1 - static_cast<double>(b.link_chars) / static_cast<double>(b.chars);
    // Five levels up, where an element holding nothing but the one below it (the same text)
    // counts as that element: a paragraph wrapped in a stack of its own elements still scores
    // the container it shares with the others.
    int level = 0;
    std::size_t below = 0;
    for (xmlNodePtr a = b.container; a && a->type == XML_ELEMENT_NODE; a = a->parent) {
      const std::size_t chars = w.stats[a].chars;
      if (a != b.container && chars != below && ++level == 5) break;
      below = chars;
      double div = level == 0 ? 1 : level == 1 ? 2 : level * 3;
      init(a).score += sc / div;
    }
  }
  xmlNodePtr top = nullptr;
  double best = -1e9;
  for (auto& [n, s] : w.stats) {
    if (!s.initialised) continue;
    double ld = s.chars ? static_cast<double>(s.link_chars) / static_cast<double>(s.chars) : 0;
    double fs = s.score * (1 - ld);
    if (fs > best || (fs == best && top && contains(n, top))) {
      best = fs;
      top = n;
    }
  }
  if (!top) top = body;
  auto final_score = [&](xmlNodePtr n) {
    auto it = w.stats.find(n);
    if (it == w.stats.end() || !it->second.initialised) return 0.0;
    const Stats& s = it->second;
    double ld = s.chars ? static_cast<double>(s.link_chars) / static_cast<double>(s.chars) : 0;
    return s.score * (1 - ld);
  };
  // Climb while the parent holds this candidate alone or scores comparably.
  double top_score = final_score(top);
  while (top != body && top->parent && top->parent->type == XML_ELEMENT_NODE) {
    xmlNodePtr p = top->parent;
    auto& ps = w.stats[p];
    auto& ts = w.stats[top];
    if (ps.chars == ts.chars) {
      top = p;
      continue;
    }
    if (final_score(p) >= top_score * 0.9 && ps.chars < ts.chars * 2) {
      top = p;
      continue;
    }
    break;
  }

  // The chosen container and the siblings that look like content.
  std::vector<xmlNodePtr> regions{top};
  if (top->parent && top != body) {
    double threshold = std::max(10.0, top_score * 0.2);
    bool after_top = false;
    for (xmlNodePtr s = top->parent->children; s; s = s->next) {
      if (s == top) after_top = true;
      if (s == top || s->type != XML_ELEMENT_NODE) continue;
      auto it = w.stats.find(s);
      if (it == w.stats.end()) continue;
      const Stats& st = it->second;
      double ld = st.chars ? static_cast<double>(st.link_chars) / static_cast<double>(st.chars) : 1;
      bool take = final_score(s) >= threshold;
      // A bare paragraph beside the content: long with little link text, or a short sentence
      // without links, as in readability. One in a box of its own after the content (the last
      // line of a story split across containers) without links; a box before the content is
      // a standfirst, which is the article's lead, not its text.
      if (!take && tag_is(s, "p"))
        take = (st.chars > 80 && ld < 0.25) ||
               (st.chars > 0 && st.link_chars == 0 && ends_with_sentence(s));
      else if (!take && after_top && paragraph_box(s))
        take = st.chars > 0 && st.link_chars == 0 && ends_with_sentence(s);
      if (take) regions.push_back(s);
    }
  }
  auto in_region = [&](xmlNodePtr n) {
    for (xmlNodePtr r : regions)
      if (contains(r, n)) return true;
    return false;
  };

  // Teaser cards and link lists: a small container mostly made of link text.
  auto in_link_cluster = [&](const Block& b) {
    for (xmlNodePtr a = b.container; a && a->type == XML_ELEMENT_NODE; a = a->parent) {
      bool is_region = false;
      for (xmlNodePtr r : regions) is_region = is_region || r == a;
      if (is_region) break;
      auto it = w.stats.find(a);
      if (it == w.stats.end()) continue;
      const Stats& s = it->second;
      if (s.chars >= 400) break;
      if (s.chars > 0 && static_cast<double>(s.link_chars) > 0.4 * static_cast<double>(s.chars))
        return true;
    }
    return false;
  };
  auto in_quote = [&](xmlNodePtr n) {
    for (xmlNodePtr a = n; a && a->type == XML_ELEMENT_NODE; a = a->parent)
      if (tag_is(a, "blockquote")) return true;
    return false;
  };

  // "Key points" (as a heading or a short paragraph) at block i followed by a list, or by
  // paragraphs that start with a bullet character: adds the points and returns the index after
  // them (after a list of links too, which is not added); i + 1 when block i starts none.
  auto key_points_at = [&](std::size_t i, std::vector<std::string>& points) {
    const Block& b = w.blocks[i];
    std::size_t j = i + 1;
    if ((b.kind != Kind::Heading && b.chars >= 40) || !is_key_point_heading(b.text) ||
        j >= w.blocks.size())
      return j;
    const Block& next = w.blocks[j];
    std::vector<std::string> found;
    if (next.kind == Kind::Item) {
      for (; j < w.blocks.size() && w.blocks[j].kind == Kind::Item && w.blocks[j].list == next.list;
           ++j)
        found.push_back(strip_bullet(w.blocks[j].text));  // "<li>• First</li>"
    } else {
      for (; j < w.blocks.size(); ++j) {
        std::string rest = strip_bullet(w.blocks[j].text);
        if (rest.size() == w.blocks[j].text.size() || rest.empty()) break;
        found.push_back(rest);
      }
    }
    if (found.empty()) return i + 1;
    // Points that are mostly links are a list of other pages ("Highlights: Watch …"): neither
    // key points nor text, heading included.
    std::size_t chars = 0, link_chars = 0;
    for (std::size_t k = i + 1; k < j; ++k) {
      chars += w.blocks[k].chars;
      link_chars += w.blocks[k].link_chars;
    }
    if (2 * link_chars <= chars) points.insert(points.end(), found.begin(), found.end());
    return j;
  };
  // A box of key points in an <aside> is read only for its points; whatever else it holds is
  // not the article's text. Any other <aside> walked holds much of the page's text (some sites
  // mark their content column so) and is read as any container.
  auto in_key_point_box = [&](xmlNodePtr n) {
    if (w.key_point_boxes.empty()) return false;
    for (xmlNodePtr a = n; a && a->type == XML_ELEMENT_NODE && a != body; a = a->parent)
      if (w.key_point_boxes.count(a)) return true;
    return false;
  };

  // Which blocks lie in the content, and where it starts and ends.
  std::vector<char> inside(w.blocks.size(), 0);
  std::size_t first_inside = w.blocks.size(), last_inside = 0;
  for (std::size_t i = 0; i < w.blocks.size(); ++i)
    if ((inside[i] = in_region(w.blocks[i].node))) {
      first_inside = std::min(first_inside, i);
      last_inside = i;
    }

  // Paragraphs in document order.
  std::string title_l = util::to_lower(clean_text(title));
  out.sections.emplace_back();
  std::string last;
  bool seen_para = false;
  for (std::size_t i = 0; i < w.blocks.size(); ++i) {
    const Block& b = w.blocks[i];
    if (!inside[i]) continue;
    double ld = b.chars ? static_cast<double>(b.link_chars) / static_cast<double>(b.chars) : 0;
    if (std::size_t j = key_points_at(i, out.key_points); j > i + 1) {
      i = j - 1;
      continue;
    }
    if (in_key_point_box(b.node)) continue;
    if (b.kind == Kind::Heading) {
      if (b.level == 1 || util::to_lower(b.text) == title_l) continue;
      if (ld > 0.5 || b.chars > 200) continue;
      if (is_ui_text(b.text)) continue;
      out.sections.push_back(ArticleSection{b.text, {}});
      continue;
    }
    bool quoted = in_quote(b.node);
    // Mostly links: a list of links, not text. A sentence of the article whose words are mostly
    // a link ("The minister <a>resigned on Tuesday after the report</a>.") is text: some words
    // of its own, eight or more in all, and it ends as a sentence does.
    if (!quoted && (b.kind == Kind::Item ? ld > 0.35 : ld > 0.5) &&
        !(b.kind != Kind::Item && ld < 0.8 && ends_sentence(b.text) &&
          std::count(b.text.begin(), b.text.end(), ' ') >= 7))
      continue;
    if (quoted && ld > 0.9) continue;
    if (!quoted && in_link_cluster(b)) continue;
    if (is_ui_text(b.text)) continue;
    if (b.text == last) continue;
    // The headline again, set as a paragraph above the text (`<p class="headline">`): the title
    // has it already.
    if (!seen_para && !title_l.empty() && util::to_lower(b.text) == title_l) continue;
    // Bylines and datelines above the text; a sentence that starts with "By" or holds a date
    // ("By the time police arrived, …", "The vote is set for March 3, 2027.") is text.
    // "By" in other languages too (Von, Par, Por, Di, Door); the byline is kept for the
    // authors when nothing else names them.
    if (!seen_para && b.chars < 60 && !ends_sentence(b.text)) {
      const bool byline = byline_prefix(b.text) > 0;
      if (byline || (b.chars < 45 && !normalize_date(b.text).empty())) {
        if (byline && out.byline.empty()) out.byline = b.text;
        continue;
      }
    }
    // A short run of text with no sentence in it is a label ("Share", "Menu"); "No!" and
    // "Why cooking?" are answers and questions.
    if (b.kind == Kind::Run && b.chars < 25 && b.text.find('.') == std::string::npos &&
        b.text.find('"') == std::string::npos && !ends_sentence(b.text))
      continue;
    last = b.text;
    seen_para = true;
    out.sections.back().paragraphs.push_back(b.text);
  }
  // Drop sections left without text (trailing "Related" headings and the like); a heading
  // right above another one over text ("Part two", then "The trial") is kept.
  std::vector<ArticleSection> kept;
  for (std::size_t i = out.sections.size(); i-- > 0;) {
    ArticleSection& s = out.sections[i];
    const bool heads_text = !s.heading.empty() && !kept.empty() &&
                            !kept.back().paragraphs.empty() && !kept.back().heading.empty();
    if (!s.paragraphs.empty() || heads_text) kept.push_back(std::move(s));
  }
  std::reverse(kept.begin(), kept.end());
  out.sections = std::move(kept);

  // Figures inside the content, and a lead figure above it in the same article (<article>,
  // <main>, or the content's parent): the picture under the headline.
  xmlNodePtr scope = nullptr;
  for (xmlNodePtr a = top; a && a->type == XML_ELEMENT_NODE && a != body; a = a->parent)
    if (tag_is(a, "article") || tag_is(a, "main")) {
      scope = a;
      break;
    }
  if (!scope && top != body && top->parent && top->parent != body) scope = top->parent;
  auto lead_figure = [&](xmlNodePtr f) {
    return scope && contains(scope, f) && xmlXPathCmpNodes(f, top) == 1;  // f comes first
  };

  // Key points in a box of their own beside the text, in the same article: between the
  // headline and the text (under a heading that names key points plainly, or "Highlights" or
  // "Summary"), or right after the text (within three blocks, and only under a plain heading:
  // a "Highlights" list after an article is as often the site's). A list ahead of the
  // headline is the page's, not the article's; "In brief" beside it is often the site's news.
  if (out.key_points.empty() && scope) {
    const std::size_t first = first_inside, last_block = last_inside;
    std::size_t headline = w.blocks.size();
    for (std::size_t i = 0; i < first && first < w.blocks.size(); ++i)
      if (w.blocks[i].kind == Kind::Heading && w.blocks[i].level == 1 &&
          contains(scope, w.blocks[i].node))
        headline = i;
    // Blocks before the first in the content or after the last are outside it.
    for (std::size_t i = 0; i < w.blocks.size() && first < w.blocks.size(); ++i) {
      const Block& b = w.blocks[i];
      const bool before = headline < i && i < first, after = last_block < i && i <= last_block + 3;
      if ((!before && !after) || !contains(scope, b.node)) continue;
      const std::string heading = key_point_heading_form(b.text);
      if (!is_plain_key_point_heading(b.text) &&
          (after || (heading != "highlights" && heading != "summary")))
        continue;
      std::vector<std::string> points;
      key_points_at(i, points);
      if (points.empty()) continue;
      out.key_points = std::move(points);
      break;
    }
  }
  std::unordered_set<std::string> seen_images;
  for (xmlNodePtr f : w.figures) {
    if (!in_region(f) && !lead_figure(f)) continue;
    Node fig(f);
    Node img;
    std::string src;
    for (const Node& candidate : fig.xpath(".//img|.//amp-img")) {
      src = image_url(candidate);
      if (!src.empty()) {
        img = candidate;
        break;
      }
    }
    if (src.empty()) continue;
    ArticleImage im;
    im.url = resolve_url(base_url, src);
    std::string credit;
    for (const Node& c : fig.xpath(".//*[@class]")) {
      std::string cls = util::to_lower(c.attr("class"));
      if (cls.find("credit") != std::string::npos || cls.find("copyright") != std::string::npos) {
        credit = clean_text(c.raw_text());
        break;
      }
    }
    Node cap = fig.xpath_first(".//figcaption");
    if (!cap) cap = fig.xpath_first(".//*[contains(@class,'wp-caption-text')]");
    if (cap) {
      std::string t = clean_text(cap.raw_text());
      if (!credit.empty()) {
        auto pos = t.find(credit);
        if (pos != std::string::npos)
          t = clean_text(t.substr(0, pos) + t.substr(pos + credit.size()));
        if (credit.size() > 2 && credit.front() == '(' && credit.back() == ')')
          credit = clean_text(credit.substr(1, credit.size() - 2));  // "(AP Photo/...)"
      } else {
        credit = split_credit(t);
      }
      im.caption = t;
    }
    if (im.caption.empty()) im.caption = clean_text(img.attr("alt"));
    im.credit = credit;
    if (seen_images.insert(im.url).second) out.images.push_back(std::move(im));
  }
  return out;
}

}  // namespace vellum::extract
