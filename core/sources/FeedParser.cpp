#include "sources/FeedParser.h"

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/encoding.h>
#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "extract/DateParser.h"
#include "util/Text.h"
#include "util/Url.h"

namespace vellum::sources {

namespace {

constexpr std::string_view kExpected = "expected an RSS, Atom or sitemap document";

constexpr std::string_view kAtomNs = "http://www.w3.org/2005/Atom";
constexpr std::string_view kAtom03Ns = "http://purl.org/atom/ns#";
constexpr std::string_view kRdfNs = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
constexpr std::string_view kRss10Ns = "http://purl.org/rss/1.0/";
constexpr std::string_view kRss090Ns = "http://my.netscape.com/rdf/simple/0.9/";
constexpr std::string_view kDcNs = "http://purl.org/dc/elements/1.1/";
constexpr std::string_view kXmlNs = "http://www.w3.org/XML/1998/namespace";

constexpr std::size_t kChunk = 64 * 1024;     // decoded bytes produced per step
constexpr std::size_t kMaxField = 64 * 1024;  // longest text kept from one element
constexpr std::size_t kSniffBytes = 4096;     // bytes looked at before parsing

// A namespace URI with its scheme and trailing slash removed, so that the "https://" and
// "…/0.9/" spellings some generators use still match.
std::string_view ns_core(std::string_view ns) {
  if (ns.starts_with("http://"))
    ns.remove_prefix(7);
  else if (ns.starts_with("https://"))
    ns.remove_prefix(8);
  while (ns.ends_with('/')) ns.remove_suffix(1);
  return ns;
}

// The sitemap protocol's namespace, Google's older ones, or none (common in hand-made files).
bool is_sitemap_ns(std::string_view ns) {
  if (ns.empty()) return true;
  std::string_view c = ns_core(ns);
  return c == "www.sitemaps.org/schemas/sitemap/0.9" || c == "www.google.com/schemas/sitemap/0.9" ||
         c == "www.google.com/schemas/sitemap/0.84";
}

bool is_news_ns(std::string_view ns) {
  return ns_core(ns) == "www.google.com/schemas/sitemap-news/0.9";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// An Atom title of type="html": markup removed and the escapes left after XML decoding undone.
std::string html_title_text(std::string_view s) {
  std::string text;
  bool in_tag = false;
  for (char c : s) {
    if (c == '<') {
      in_tag = true;
      text += ' ';
    } else if (c == '>' && in_tag) {
      in_tag = false;
    } else if (!in_tag) {
      text += c;
    }
  }
  static const std::pair<std::string_view, char> kEscapes[] = {{"&lt;", '<'},   {"&gt;", '>'},
                                                               {"&quot;", '"'}, {"&apos;", '\''},
                                                               {"&#39;", '\''}, {"&amp;", '&'}};
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [from, to] : kEscapes) {
        if (std::string_view(text).substr(i, from.size()) == from) {
          out += to;
          i += from.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return util::one_line(out);
}

std::optional<util::TimePoint> parse_date(std::string_view text) {
  std::string iso = extract::normalize_date(text);
  if (iso.empty()) return std::nullopt;
  return util::parse_warc_date(iso);
}

// Appends `in` to `out` as valid UTF-8 that XML accepts: invalid sequences, C0 controls other
// than tab, CR and LF, and U+FFFE/U+FFFF each become U+FFFD. An incomplete sequence at the end
// is left in `in` (returned count) unless `final`. Returns how many bytes were left.
std::size_t repair_utf8(std::string_view in, bool final, std::string& out, std::size_t& replaced) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::size_t i = 0;
  while (i < in.size()) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    if (c < 0x80) {
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        out += kReplacement;
        ++replaced;
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    std::size_t len = c >= 0xC2 && c <= 0xDF   ? 2
                      : c >= 0xE0 && c <= 0xEF ? 3
                      : c >= 0xF0 && c <= 0xF4 ? 4
                                               : 0;
    if (len == 0) {
      out += kReplacement;
      ++replaced;
      ++i;
      continue;
    }
    // Check each continuation byte with the ranges of RFC 3629 (no overlongs, no surrogates).
    std::size_t have = 1;
    bool bad = false;
    for (; have < len && i + have < in.size(); ++have) {
      unsigned char d = static_cast<unsigned char>(in[i + have]);
      unsigned char lo = 0x80, hi = 0xBF;
      if (have == 1) {
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
      }
      if (d < lo || d > hi) {
        bad = true;
        break;
      }
    }
    if (bad) {
      out += kReplacement;
      ++replaced;
      i += have;  // the bytes that were valid so far are part of the broken sequence
      continue;
    }
    if (have < len) {  // runs past the end of this chunk
      if (!final) return in.size() - i;
      out += kReplacement;
      ++replaced;
      break;
    }
    std::string_view seq = in.substr(i, len);
    if (seq == "\xEF\xBF\xBE" || seq == "\xEF\xBF\xBF") {
      out += kReplacement;
      ++replaced;
    } else {
      out += seq;
    }
    i += len;
  }
  return 0;
}

// The decoded bytes handed to libxml2: the body itself or its gzip-decoded form, never more
// than the cap, optionally repaired as UTF-8. Input problems end the stream (libxml2 then
// reports a premature end) and are kept for the caller to report.
class DecodedInput {
 public:
  DecodedInput(std::string_view body, std::size_t cap) : body_(body), cap_(cap) {
    gzip_ = body.size() >= 2 && static_cast<unsigned char>(body[0]) == 0x1f &&
            static_cast<unsigned char>(body[1]) == 0x8b;
    if (gzip_) {
      if (inflateInit2(&z_, 15 + 16) != Z_OK) throw FeedError("zlib could not be initialised");
      z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
      z_.avail_in = static_cast<uInt>(std::min<std::size_t>(body.size(), UINT32_MAX));
      z_open_ = true;
    }
  }
  ~DecodedInput() {
    if (z_open_) inflateEnd(&z_);
  }
  DecodedInput(const DecodedInput&) = delete;
  DecodedInput& operator=(const DecodedInput&) = delete;

  bool gzip() const { return gzip_; }
  bool over_cap() const { return over_cap_; }
  const std::string& gzip_problem() const { return gzip_problem_; }
  std::size_t replaced() const { return replaced_; }
  void set_repair(bool on) { repair_ = on; }

  // Drops the first `n` decoded bytes, which peek() has seen.
  void skip(std::size_t n) { lookahead_.erase(0, std::min(n, lookahead_.size())); }

  // Up to `n` decoded bytes from the start, without consuming them.
  std::string_view peek(std::size_t n) {
    while (lookahead_.size() < n && !ended_) lookahead_ += next_raw();
    return std::string_view(lookahead_).substr(0, n);
  }

  // Copies the next decoded bytes (at most `len`) to `out`; 0 at the end.
  int read(char* out, int len) {
    while (ready_pos_ == ready_.size()) {
      ready_.clear();
      ready_pos_ = 0;
      std::string raw = lookahead_.empty() ? next_raw() : std::exchange(lookahead_, {});
      const bool last = raw.empty();  // next_raw() returns nothing only at the end
      if (last && carry_.empty()) return 0;
      if (!repair_) {
        ready_ = std::move(raw);
        continue;
      }
      carry_ += raw;
      std::size_t left = repair_utf8(carry_, last, ready_, replaced_);
      carry_.erase(0, carry_.size() - left);
    }
    std::size_t n = std::min(static_cast<std::size_t>(len), ready_.size() - ready_pos_);
    std::memcpy(out, ready_.data() + ready_pos_, n);
    ready_pos_ += n;
    return static_cast<int>(n);
  }

 private:
  // The next decoded chunk; empty once the input is exhausted or broken.
  std::string next_raw() {
    if (ended_) return {};
    if (!gzip_) {
      std::string_view part = body_.substr(pos_, kChunk);
      pos_ += part.size();
      if (part.empty()) ended_ = true;
      return std::string(part);
    }
    std::string out(kChunk, '\0');
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = static_cast<uInt>(out.size());
    while (z_.avail_out > 0) {
      int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        // Another gzip member may follow (concatenated files are valid gzip).
        if (z_.avail_in >= 2 && z_.next_in[0] == 0x1f && z_.next_in[1] == 0x8b) {
          inflateReset(&z_);
          continue;
        }
        ended_ = true;
        break;
      }
      if (rc == Z_BUF_ERROR && z_.avail_in == 0) {
        gzip_problem_ = "the gzip data ends before its end marker";
        ended_ = true;
        break;
      }
      if (rc != Z_OK) {
        gzip_problem_ = std::string("the gzip data is corrupt (zlib: ") +
                        (z_.msg ? z_.msg : "error " + std::to_string(rc)) + ")";
        ended_ = true;
        break;
      }
    }
    out.resize(out.size() - z_.avail_out);
    produced_ += out.size();
    if (produced_ > cap_) {
      over_cap_ = true;
      ended_ = true;
      return {};
    }
    return out;
  }

  std::string_view body_;
  std::size_t cap_;
  bool gzip_ = false;
  z_stream z_{};
  bool z_open_ = false;
  std::size_t pos_ = 0;
  std::size_t produced_ = 0;
  bool ended_ = false;
  bool over_cap_ = false;
  std::string gzip_problem_;
  bool repair_ = false;
  std::size_t replaced_ = 0;
  std::string lookahead_;  // decoded bytes peeked at but not yet handed out
  std::string carry_;      // an incomplete UTF-8 sequence waiting for the next chunk
  std::string ready_;      // bytes ready for libxml2
  std::size_t ready_pos_ = 0;
};

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && util::iequals(s.substr(0, prefix.size()), prefix);
}

// What the first bytes say about the document, before any parsing.
struct Sniff {
  bool empty = false;
  bool html = false;
  bool json = false;
  bool utf8 = true;  // UTF-8 (declared, by BOM, or by default): safe to repair
  // The XML declaration names an encoding the bytes cannot be in (a UTF-8 byte order mark
  // says otherwise, 8-bit bytes are no UTF-16) or that no converter knows: read as UTF-8.
  bool ignore_declared = false;
  std::string note;      // why the declaration was set aside
  std::size_t skip = 0;  // a byte order mark and whitespace before the XML declaration
};

// Whether a converter for the encoding `name` exists.
bool known_encoding(const std::string& name) {
  xmlCharEncodingHandlerPtr h = xmlFindCharEncodingHandler(name.c_str());
  if (!h) return false;
  xmlCharEncCloseFunc(h);
  return true;
}

Sniff sniff(std::string_view head) {
  Sniff s;
  if (head.starts_with("\xFE\xFF") || head.starts_with("\xFF\xFE") ||
      (head.size() >= 2 && (head[0] == '\0' || head[1] == '\0'))) {
    s.utf8 = false;  // UTF-16 or UTF-32: libxml2 converts it; the checks below need ASCII
    return s;
  }
  const std::string_view whole = head;
  const bool bom = head.starts_with("\xEF\xBB\xBF");
  if (bom) head.remove_prefix(3);
  std::string_view rest = trim(head);
  if (rest.empty()) {
    s.empty = true;
    return s;
  }
  if (rest.starts_with("<?xml")) {
    // libxml2 takes nothing before the declaration (a blank line a template printed).
    s.skip = static_cast<std::size_t>(rest.data() - whole.data());
    std::size_t end = rest.find("?>");
    std::string_view decl = rest.substr(0, end);
    std::size_t enc = decl.find("encoding");
    if (enc != std::string_view::npos) {
      std::size_t q = decl.find_first_of("\"'", enc);
      if (q != std::string_view::npos) {
        std::size_t q2 = decl.find(decl[q], q + 1);
        const std::string name(decl.substr(q + 1, q2 == std::string_view::npos ? q2 : q2 - q - 1));
        s.utf8 = util::iequals(name, "utf-8") || util::iequals(name, "utf8");
        const std::string quoted = util::quote(name, 40);
        if (s.utf8) {
          // as declared
        } else if (bom) {
          s.note = "the document declares encoding " + quoted +
                   " but begins with a UTF-8 byte order mark; read as UTF-8";
        } else if (istarts_with(name, "utf-16") || istarts_with(name, "utf-32") ||
                   istarts_with(name, "ucs-")) {
          s.note = "the document declares encoding " + quoted +
                   " but its bytes are 8-bit; read as UTF-8";
        } else if (!known_encoding(name)) {
          s.note = "the document declares encoding " + quoted +
                   ", which no converter knows; read as UTF-8";
        }
        if (!s.note.empty()) {
          s.ignore_declared = true;
          s.utf8 = true;
        }
      }
    }
    rest = end == std::string_view::npos ? std::string_view() : trim(rest.substr(end + 2));
  }
  // Comments and processing instructions (stylesheets) may precede the root element.
  while (rest.starts_with("<!--") || rest.starts_with("<?")) {
    std::size_t end = rest.starts_with("<!--") ? rest.find("-->") : rest.find("?>");
    if (end == std::string_view::npos) return s;
    rest = trim(rest.substr(end + (rest.starts_with("<!--") ? 3 : 2)));
  }
  s.html = istarts_with(rest, "<!doctype html") || istarts_with(rest, "<html");
  s.json = rest.starts_with('{') || rest.starts_with('[');
  return s;
}

// The error libxml2 reported: the first fatal one, else the first error.
struct XmlProblem {
  std::string message;
  int line = 0;
  int code = 0;
  bool fatal = false;
};

struct ParserDeleter {
  void operator()(xmlParserCtxtPtr c) const {
    if (c->myDoc) xmlFreeDoc(c->myDoc);
    xmlFreeParserCtxt(c);
  }
};

std::string_view str(const xmlChar* s) {
  return s ? std::string_view(reinterpret_cast<const char*>(s)) : std::string_view();
}

// The attributes SAX2 hands to startElementNs: five pointers each (local name, prefix, URI,
// value start, value end).
struct Attributes {
  const xmlChar** items = nullptr;
  int count = 0;

  // The value of the attribute `name` in namespace `ns` (none when empty). Without entity
  // substitution libxml2 leaves '&' as "&#38;" in attribute values; that is undone here.
  std::string get(std::string_view name, std::string_view ns = {}) const {
    for (int i = 0; i < count; ++i) {
      const xmlChar** a = items + 5 * i;
      if (str(a[0]) != name || str(a[2]) != ns) continue;
      std::string value(reinterpret_cast<const char*>(a[3]), static_cast<std::size_t>(a[4] - a[3]));
      for (std::size_t p = value.find("&#38;"); p != std::string::npos;
           p = value.find("&#38;", p + 1))
        value.replace(p, 5, "&");
      return value;
    }
    return {};
  }
};

// The text and attributes gathered from one item, entry, url or sitemap element.
struct Entry {
  int line = 0;
  std::string link, link_base;     // <link>, <loc>
  std::string alt_href, alt_base;  // Atom <link rel="alternate" href>
  std::string guid, about, entry_base;
  bool guid_permalink = true;
  std::string date, fallback_date;  // preferred and second-choice dates
  std::string title;
  bool html_title = false;
};

// The streaming walk over one document: element stack with xml:base, the entry being read, and
// the results.
class DiscoveryParser {
 public:
  explicit DiscoveryParser(const std::string& base_url) : seen_(16, UrlHash{&out_}, UrlEq{&out_}) {
    bases_.push_back(base_url);
  }

  // Set once the parser context exists, for line numbers.
  void set_context(xmlParserCtxtPtr ctxt) { ctxt_ = ctxt; }
  // Lines before the first byte libxml2 sees (blank ones skipped before the declaration): every
  // line reported is the document's own.
  void set_line_offset(int lines) { line_offset_ = lines; }
  int line_offset() const { return line_offset_; }
  std::size_t depth() const { return bases_.size() - 1; }

  bool root_seen() const { return root_seen_; }
  Discovery& result() { return out_; }
  std::size_t found() const { return out_.links.size() + out_.sitemaps.size(); }

  void start_element(std::string_view ns, std::string_view local, Attributes attrs) {
    attrs_ = attrs;
    std::string base = bases_.back();
    if (attrs.count > 0) {
      std::string xml_base = attrs.get("base", kXmlNs);
      if (!xml_base.empty()) {
        std::string resolved = util::resolve_url(base, xml_base);
        if (!resolved.empty()) base = std::move(resolved);
      }
    }
    bases_.push_back(std::move(base));
    const std::size_t depth = bases_.size() - 1;  // the root element is at depth 1

    if (!root_seen_) {
      root_seen_ = true;
      choose_kind(ns, local);
      return;
    }
    if (capture_) return;  // markup inside a field (an XHTML title): only its text counts
    if (!entry_) {
      if (is_entry(ns, local)) {
        entry_.emplace();
        entry_depth_ = depth;
        entry_->line = current_line();
        entry_->entry_base = bases_.back();
        if (kind_ == DocumentKind::rdf) entry_->about = attrs.get("about", kRdfNs);
      }
      return;
    }
    field(ns, local, depth - entry_depth_);
  }

  void end_element() {
    const std::size_t depth = bases_.size() - 1;
    if (capture_ && depth == capture_depth_) capture_ = nullptr;
    if (news_depth_ == depth) news_depth_ = 0;
    if (entry_ && depth == entry_depth_) finish_entry();
    bases_.pop_back();
  }

  void text(const xmlChar* chars, int len) {
    if (!capture_ || !chars || len <= 0 || capture_->size() >= kMaxField) return;
    std::string_view v(reinterpret_cast<const char*>(chars), static_cast<std::size_t>(len));
    capture_->append(v.substr(0, kMaxField - capture_->size()));
  }

  // Sentences for what was skipped, added once the walk is over.
  void add_summary_warnings() {
    const char* noun = kind_ == DocumentKind::atom           ? "<entry>"
                       : kind_ == DocumentKind::urlset       ? "<url>"
                       : kind_ == DocumentKind::sitemapindex ? "<sitemap>"
                                                             : "<item>";
    if (skipped_ > 0)
      out_.warnings.push_back(
          std::to_string(skipped_) + " " + noun +
          " element(s) without an http(s) link were skipped (the first at line " +
          std::to_string(first_skipped_line_) + ")");
    if (bad_dates_ > 0)
      out_.warnings.push_back(std::to_string(bad_dates_) +
                              " date(s) could not be read (the first, " +
                              util::quote(first_bad_date_) + ", at line " +
                              std::to_string(first_bad_date_line_) + "); those links have no date");
  }

 private:
  // Hashing indexes into out_.links by their URL lets the seen-set share the strings.
  struct UrlHash {
    const Discovery* d;
    std::size_t operator()(std::size_t i) const {
      return std::hash<std::string>{}(d->links[i].url);
    }
  };
  struct UrlEq {
    const Discovery* d;
    bool operator()(std::size_t a, std::size_t b) const {
      return d->links[a].url == d->links[b].url;
    }
  };

  int current_line() const { return ctxt_ ? xmlSAX2GetLineNumber(ctxt_) + line_offset_ : 0; }

  void choose_kind(std::string_view ns, std::string_view local) {
    if (local == "rss") {
      kind_ = DocumentKind::rss;
      item_ns_ = ns;
    } else if (local == "RDF" && ns == kRdfNs) {
      kind_ = DocumentKind::rdf;
    } else if (local == "feed" && (ns == kAtomNs || ns == kAtom03Ns)) {
      kind_ = DocumentKind::atom;
      item_ns_ = ns;
    } else if ((local == "urlset" || local == "sitemapindex") && is_sitemap_ns(ns)) {
      kind_ = local == "urlset" ? DocumentKind::urlset : DocumentKind::sitemapindex;
      item_ns_ = ns;
    } else if (util::iequals(local, "html")) {
      throw FeedError("found an HTML document (<html>), " + std::string(kExpected), current_line());
    } else {
      std::string found = "found the root element <" + std::string(local) + ">";
      if (!ns.empty()) found += " in namespace " + std::string(ns);
      if (local == "feed") found += " (Atom 1.0 is " + std::string(kAtomNs) + ")";
      throw FeedError(
          found + ", expected <rss>, <rdf:RDF>, Atom <feed>, <urlset> or <sitemapindex>",
          current_line());
    }
    out_.kind = kind_;
  }

  bool is_entry(std::string_view ns, std::string_view local) const {
    switch (kind_) {
      case DocumentKind::rss:
        return local == "item" && ns == item_ns_;
      case DocumentKind::rdf:
        return local == "item" && (ns == kRss10Ns || ns == kRss090Ns);
      case DocumentKind::atom:
        return local == "entry" && ns == item_ns_;
      case DocumentKind::urlset:
        return local == "url" && ns == item_ns_;
      case DocumentKind::sitemapindex:
        return local == "sitemap" && ns == item_ns_;
    }
    return false;
  }

  // Collects the text of the element just started into `target`; the first such element wins.
  void capture(std::string& target, std::size_t depth) {
    if (!trim(target).empty()) return;
    target.clear();
    capture_ = &target;
    capture_depth_ = entry_depth_ + depth;
  }

  // A child element of the current entry, `rel` levels below it.
  void field(std::string_view ns, std::string_view local, std::size_t rel) {
    Entry& e = *entry_;
    const bool own = ns == item_ns_;
    switch (kind_) {
      case DocumentKind::rss:
        if (rel != 1) return;
        if (own && local == "link") {
          capture(e.link, rel);
          e.link_base = bases_.back();
        } else if (own && local == "guid") {
          capture(e.guid, rel);
          e.guid_permalink = !util::iequals(trim(attrs_.get("isPermaLink")), "false");
        } else if (own && local == "pubDate") {
          capture(e.date, rel);
        } else if (own && local == "title") {
          capture(e.title, rel);
        } else if (ns == kDcNs && local == "date") {
          capture(e.fallback_date, rel);
        } else if (ns == kAtomNs && local == "link") {
          atom_link(e);
        }
        return;
      case DocumentKind::rdf:
        if (rel != 1) return;
        if ((ns == kRss10Ns || ns == kRss090Ns) && local == "link") {
          capture(e.link, rel);
          e.link_base = bases_.back();
        } else if ((ns == kRss10Ns || ns == kRss090Ns) && local == "title") {
          capture(e.title, rel);
        } else if (ns == kDcNs && local == "date") {
          capture(e.date, rel);
        }
        return;
      case DocumentKind::atom:
        if (rel != 1 || !own) return;  // skips <source>, which describes another feed
        if (local == "link") {
          atom_link(e);
        } else if (local == "published" || local == "issued") {
          capture(e.date, rel);
        } else if (local == "updated" || local == "modified") {
          capture(e.fallback_date, rel);
        } else if (local == "title") {
          capture(e.title, rel);
          e.html_title = util::iequals(attrs_.get("type"), "html");
        }
        return;
      case DocumentKind::urlset:
        if (rel == 1 && own && local == "loc") {
          capture(e.link, rel);
          e.link_base = bases_.back();
        } else if (rel == 1 && own && local == "lastmod") {
          capture(e.fallback_date, rel);
        } else if (rel == 1 && local == "news" && is_news_ns(ns)) {
          news_depth_ = entry_depth_ + 1;
        } else if (rel == 2 && news_depth_ != 0 && is_news_ns(ns)) {
          if (local == "publication_date") capture(e.date, rel);
          if (local == "title") capture(e.title, rel);
        }
        return;
      case DocumentKind::sitemapindex:
        if (rel == 1 && own && local == "loc") {
          capture(e.link, rel);
          e.link_base = bases_.back();
        }
        return;
    }
  }

  // <link rel="alternate" href="…"/>; a missing rel means alternate. The first one counts.
  void atom_link(Entry& e) {
    if (!e.alt_href.empty()) return;
    std::string rel = std::string(trim(attrs_.get("rel")));
    if (!rel.empty() && rel != "alternate" &&
        rel != "http://www.iana.org/assignments/relation/alternate")
      return;
    std::string href = attrs_.get("href");
    if (trim(href).empty()) return;
    e.alt_href = std::move(href);
    e.alt_base = bases_.back();
  }

  std::string resolved(const std::string& base, std::string_view ref) const {
    ref = trim(ref);
    if (ref.empty()) return {};
    return util::resolve_url(base, std::string(ref));
  }

  std::string entry_url(const Entry& e) const {
    switch (kind_) {
      case DocumentKind::rss: {
        if (auto u = resolved(e.link_base, e.link); !u.empty()) return u;
        if (auto u = resolved(e.alt_base, e.alt_href); !u.empty()) return u;
        // A guid is a permalink unless it says otherwise, but only a full URL is taken: many
        // feeds put ids such as "12345" there without isPermaLink="false".
        if (e.guid_permalink && util::parse_url(trim(e.guid))) return resolved({}, e.guid);
        return {};
      }
      case DocumentKind::rdf:
        if (auto u = resolved(e.link_base, e.link); !u.empty()) return u;
        return resolved(e.entry_base, e.about);
      case DocumentKind::atom:
        return resolved(e.alt_base, e.alt_href);
      case DocumentKind::urlset:
      case DocumentKind::sitemapindex:
        return resolved(e.link_base, e.link);
    }
    return {};
  }

  void finish_entry() {
    Entry e = std::move(*entry_);
    entry_.reset();
    capture_ = nullptr;
    std::string url = entry_url(e);
    if (url.empty()) {
      if (skipped_++ == 0) first_skipped_line_ = e.line;
      return;
    }
    if (kind_ == DocumentKind::sitemapindex) {
      if (seen_sitemaps_.insert(url).second) out_.sitemaps.push_back(std::move(url));
      return;
    }
    DiscoveredLink link;
    link.url = std::move(url);
    std::string_view unread;
    for (const std::string* d : {&e.date, &e.fallback_date}) {
      if (trim(*d).empty()) continue;
      link.published = parse_date(*d);
      if (link.published) break;
      if (unread.empty()) unread = trim(*d);
    }
    if (!link.published && !unread.empty() && bad_dates_++ == 0) {
      first_bad_date_ = std::string(unread);
      first_bad_date_line_ = e.line;
    }
    link.title = e.html_title ? html_title_text(e.title) : util::one_line(e.title);
    out_.links.push_back(std::move(link));
    if (!seen_.insert(out_.links.size() - 1).second) out_.links.pop_back();
  }

  xmlParserCtxtPtr ctxt_ = nullptr;
  int line_offset_ = 0;
  Attributes attrs_;  // of the element being started
  Discovery out_;
  std::unordered_set<std::size_t, UrlHash, UrlEq> seen_;
  std::unordered_set<std::string> seen_sitemaps_;  // indexes name far fewer URLs
  std::vector<std::string> bases_;                 // xml:base in effect at each open element
  bool root_seen_ = false;
  DocumentKind kind_ = DocumentKind::rss;
  std::string item_ns_;
  std::optional<Entry> entry_;
  std::size_t entry_depth_ = 0;
  std::size_t news_depth_ = 0;  // depth of the open <news:news>, 0 when none
  std::string* capture_ = nullptr;
  std::size_t capture_depth_ = 0;
  std::size_t skipped_ = 0;
  int first_skipped_line_ = 0;
  std::size_t bad_dates_ = 0;
  std::string first_bad_date_;
  int first_bad_date_line_ = 0;
};

// What an entity reference in text stands for. Declarations in the document are never
// consulted: a reference is either an HTML character entity (&nbsp;, &rsquo; ... which sloppy
// feeds use without declaring them) or nothing at all. So no entity can pull in a file or expand.
struct EntityStandIn {
  EntityStandIn() = default;
  EntityStandIn(const EntityStandIn&) = delete;
  EntityStandIn& operator=(const EntityStandIn&) = delete;
  ~EntityStandIn() {
    if (entity.orig) xmlFree(entity.orig);  // libxml2 may hand over a declaration's text
  }

  xmlEntity entity{};
  std::string name;
  std::string text;  // UTF-8; empty for names HTML does not define
};

// One parse: the walk, the error libxml2 reported, and an exception a callback raised.
struct Session {
  explicit Session(const std::string& base_url) : parser(base_url) {}
  DiscoveryParser parser;
  XmlProblem problem;
  std::exception_ptr failure;
  xmlParserCtxtPtr ctxt = nullptr;
  std::unordered_map<std::string, std::unique_ptr<EntityStandIn>> entities;
  std::size_t dropped_entities = 0;  // distinct names
  std::string first_dropped;

  xmlEntityPtr entity(const xmlChar* name) {
    // Inside the DTD libxml2 looks names up while declaring them: nothing to stand in for. In
    // attribute values it copies only the first byte of a stand-in: those references are
    // reported as undeclared instead, which is what they are.
    if (!name || ctxt->inSubset != 0 || ctxt->instate == XML_PARSER_ATTRIBUTE_VALUE) return nullptr;
    std::string key(str(name));
    auto& slot = entities[key];
    if (!slot) {
      slot = std::make_unique<EntityStandIn>();
      slot->name = key;
      if (const htmlEntityDesc* html = htmlEntityLookup(name)) {
        util::append_utf8(slot->text, html->value);
      }
      slot->entity.type = XML_ENTITY_DECL;
      slot->entity.name = reinterpret_cast<const xmlChar*>(slot->name.c_str());
      // The type libxml2 gives &amp; and friends: the text is passed on as characters, never
      // parsed as markup.
      slot->entity.etype = XML_INTERNAL_PREDEFINED_ENTITY;
      slot->entity.content = reinterpret_cast<xmlChar*>(const_cast<char*>(slot->text.c_str()));
      slot->entity.length = static_cast<int>(slot->text.size());
      if (slot->text.empty() && dropped_entities++ == 0) first_dropped = "&" + key + ";";
    }
    return &slot->entity;
  }
};

// Exceptions must not unwind through libxml2's C frames: a callback that throws keeps the
// exception and stops the parser; parse_discovery rethrows it.
template <typename F>
void guarded(void* ctx, F&& f) {
  auto* s = static_cast<Session*>(ctx);
  if (s->failure) return;
  try {
    f(*s);
  } catch (...) {
    s->failure = std::current_exception();
    xmlStopParser(s->ctxt);
  }
}

// Only element, text and error events: no entity declarations are stored (so no entity can
// ever be expanded), no DTD is read, no tree is built.
xmlSAXHandler sax_handler() {
  xmlSAXHandler h{};
  h.initialized = XML_SAX2_MAGIC;
  h.startElementNs = [](void* ctx, const xmlChar* local, const xmlChar*, const xmlChar* uri, int,
                        const xmlChar**, int nb_attributes, int, const xmlChar** attributes) {
    guarded(ctx, [&](Session& s) {
      s.parser.start_element(str(uri), str(local), Attributes{attributes, nb_attributes});
    });
  };
  h.endElementNs = [](void* ctx, const xmlChar*, const xmlChar*, const xmlChar*) {
    guarded(ctx, [](Session& s) { s.parser.end_element(); });
  };
  h.characters = [](void* ctx, const xmlChar* ch, int len) {
    guarded(ctx, [&](Session& s) { s.parser.text(ch, len); });
  };
  h.getEntity = [](void* ctx, const xmlChar* name) -> xmlEntityPtr {
    auto* s = static_cast<Session*>(ctx);
    try {
      return s->entity(name);
    } catch (...) {
      return nullptr;
    }
  };
  h.cdataBlock = h.characters;
  h.ignorableWhitespace = h.characters;
  h.serror = [](void* ctx, auto error) {
    XmlProblem& p = static_cast<Session*>(ctx)->problem;
    if (!error || error->level < XML_ERR_ERROR) return;
    if (p.fatal || (!p.message.empty() && error->level != XML_ERR_FATAL)) return;
    p.message = std::string(trim(error->message ? error->message : "unknown error"));
    p.line = error->line > 0 ? error->line + static_cast<Session*>(ctx)->parser.line_offset() : 0;
    p.code = error->code;
    p.fatal = error->level == XML_ERR_FATAL;
  };
  return h;
}

// libxml2 reports a few problems (a failed charset conversion) on its per-thread generic
// channel, which prints to stderr, rather than to the parser's handler. The parse fails on them
// anyway and says so; during a parse that channel is silenced.
void ignore_generic_error(void*, const char*, ...) {}

class QuietGenericErrors {
 public:
  QuietGenericErrors() : old_(xmlGenericError), old_context_(xmlGenericErrorContext) {
    xmlSetGenericErrorFunc(nullptr, ignore_generic_error);
  }
  ~QuietGenericErrors() { xmlSetGenericErrorFunc(old_context_, old_); }
  QuietGenericErrors(const QuietGenericErrors&) = delete;
  QuietGenericErrors& operator=(const QuietGenericErrors&) = delete;

 private:
  xmlGenericErrorFunc old_;
  void* old_context_;
};

std::string size_text(std::size_t n) {
  return std::to_string(n) + " bytes";
}

}  // namespace

FeedError::FeedError(const std::string& message, int line)
    : std::runtime_error(message), line_(line) {}

const char* to_string(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::rss:
      return "rss";
    case DocumentKind::rdf:
      return "rdf";
    case DocumentKind::atom:
      return "atom";
    case DocumentKind::urlset:
      return "urlset";
    case DocumentKind::sitemapindex:
      return "sitemapindex";
  }
  return "unknown";
}

Discovery parse_discovery(std::string_view body, const std::string& base_url,
                          std::size_t max_decoded_bytes) {
  static const bool initialised = (xmlInitParser(), true);
  (void)initialised;

  DecodedInput input(body, max_decoded_bytes);
  if (!input.gzip() && body.size() > max_decoded_bytes)
    throw FeedError("found a document of " + size_text(body.size()) + ", expected at most " +
                    size_text(max_decoded_bytes));
  const std::string bomb = "the gzip body decodes to more than " + size_text(max_decoded_bytes) +
                           " (the limit); refused as a likely compression bomb";

  const std::string head(input.peek(kSniffBytes));
  if (input.over_cap()) throw FeedError(bomb);
  Sniff s = sniff(head);
  if (s.empty && !input.gzip_problem().empty())
    throw FeedError("found gzip data that does not decode (" + input.gzip_problem() + "), " +
                    std::string(kExpected));
  if (s.empty) {
    std::string what = input.gzip()
                           ? "found an empty document inside gzip data, "
                           : (body.empty() ? "found an empty body, " : "found only whitespace, ");
    throw FeedError(what + std::string(kExpected));
  }
  if (s.html) throw FeedError("found an HTML document (<html>), " + std::string(kExpected));
  if (s.json)
    throw FeedError("found a JSON document (JSON Feed is not supported), " +
                    std::string(kExpected));
  input.set_repair(s.utf8);
  input.skip(s.skip);

  // A SAX2 push parser, fed chunk by chunk: memory stays flat however long the document, and
  // every entry before a fatal error has been seen when it stops. Options: NONET (no network);
  // deliberately not NOENT (entity substitution), DTDLOAD or HUGE (which lifts size limits).
  QuietGenericErrors quiet;
  Session session(base_url);
  xmlSAXHandler sax = sax_handler();
  std::unique_ptr<xmlParserCtxt, ParserDeleter> ctxt(
      xmlCreatePushParserCtxt(&sax, &session, nullptr, 0, nullptr));
  if (!ctxt) throw FeedError("libxml2 could not create an XML parser");
  xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | (s.ignore_declared ? XML_PARSE_IGNORE_ENC : 0));
  session.ctxt = ctxt.get();
  session.parser.set_context(ctxt.get());
  session.parser.set_line_offset(
      static_cast<int>(std::count(head.begin(), head.begin() + static_cast<long>(s.skip), '\n')));
  std::string chunk(kChunk, '\0');
  while (true) {
    const int n = input.read(chunk.data(), static_cast<int>(chunk.size()));
    xmlParseChunk(ctxt.get(), chunk.data(), n, n == 0 ? 1 : 0);
    if (n == 0 || session.failure || ctxt->disableSAX || ctxt->instate == XML_PARSER_EOF) break;
  }
  if (session.failure) std::rethrow_exception(session.failure);
  if (input.over_cap()) throw FeedError(bomb);

  DiscoveryParser& parser = session.parser;
  const XmlProblem& problem = session.problem;
  const bool failed = problem.fatal || ctxt->disableSAX;
  Discovery& out = parser.result();
  if (failed) {
    std::string where =
        problem.line > 0 ? "line " + std::to_string(problem.line) : "an unknown line";
    std::string why = problem.message.empty() ? "the XML parser stopped" : problem.message;
    // libxml2 calls a document cut short "extra content at the end of the document", and one
    // without any element "empty".
    if (problem.code == XML_ERR_DOCUMENT_EMPTY) why = "no element where the document should start";
    if (problem.code == XML_ERR_DOCUMENT_END && parser.depth() > 0)
      why = "the document ends while " + std::to_string(parser.depth()) +
            " element(s) are still open";
    if (!input.gzip_problem().empty()) why = input.gzip_problem() + "; " + why;
    if (!parser.root_seen() && !trim(head).starts_with('<'))
      throw FeedError("found " + util::quote(trim(head), 30) + ", which is not XML (" + where +
                          ": " + why + "), " + std::string(kExpected),
                      problem.line);
    if (!parser.root_seen())
      throw FeedError("found malformed XML before the root element at " + where + " (" + why +
                          "), " + std::string(kExpected),
                      problem.line);
    if (parser.found() == 0)
      throw FeedError("found malformed XML at " + where + " (" + why +
                          ") before any link, expected a well-formed RSS, Atom or sitemap document",
                      problem.line);
    out.warnings.push_back("the document breaks off at " + where + " (" + why + "); kept the " +
                           std::to_string(parser.found()) + " link(s) read before it");
  } else if (!parser.root_seen()) {
    throw FeedError("found no root element, " + std::string(kExpected));
  } else if (!input.gzip_problem().empty()) {
    out.warnings.push_back(input.gzip_problem());
  }
  if (!s.note.empty()) out.warnings.push_back(s.note);
  if (session.dropped_entities > 0)
    out.warnings.push_back("references to " + std::to_string(session.dropped_entities) +
                           " entity name(s) HTML does not define, such as " +
                           session.first_dropped + ", were left out (entities are never expanded)");
  if (input.replaced() > 0)
    out.warnings.push_back("replaced " + std::to_string(input.replaced()) +
                           " invalid UTF-8 sequence(s) or control byte(s) with U+FFFD");
  parser.add_summary_warnings();
  return std::move(out);
}

}  // namespace vellum::sources
