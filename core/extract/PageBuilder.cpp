#include "extract/PageBuilder.h"

#include <errno.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "extract/HtmlEntities.h"
#include "extract/TextUtil.h"
#include "util/Json.h"
#include "util/Text.h"
#include "warc/HttpMessage.h"

namespace vellum::extract {

namespace {

constexpr std::uint64_t kMaxDecoded = 64ull << 20;
constexpr std::size_t kSniffBytes = 4096;
// libxml2 needs 200-400 bytes per element it builds, so markup is bounded before it is parsed:
// the largest news pages measured hold under 6,000 '<', and a million keeps a page's DOM
// within a few hundred megabytes.
constexpr std::size_t kMaxMarkup = 1'000'000;
constexpr const char* kReplacement = "\xEF\xBF\xBD";

std::string header_value(const PageInput& in, std::string_view name) {
  for (const auto& [k, v] : in.headers)
    if (util::iequals(k, name)) return v;
  return {};
}

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r' || s[a] == '\n')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r' || s[b - 1] == '\n'))
    --b;
  return std::string(s.substr(a, b - a));
}

// "text/html; charset=UTF-8" -> "text/html".
std::string media_type(const std::string& content_type) {
  return util::to_lower(trim(std::string_view(content_type).substr(0, content_type.find(';'))));
}

// The value of `charset=` in a header or attribute text; empty when absent.
std::string charset_param(std::string_view text) {
  std::string lower = util::to_lower(text);
  auto pos = lower.find("charset");
  if (pos == std::string::npos) return {};
  pos += 7;
  while (pos < lower.size() && (lower[pos] == ' ' || lower[pos] == '\t')) ++pos;
  if (pos >= lower.size() || lower[pos] != '=') return {};
  ++pos;
  while (pos < lower.size() && (lower[pos] == ' ' || lower[pos] == '"' || lower[pos] == '\''))
    ++pos;
  std::size_t end = pos;
  while (end < lower.size() &&
         (std::isalnum(static_cast<unsigned char>(lower[end])) || lower[end] == '-' ||
          lower[end] == '_' || lower[end] == ':' || lower[end] == '.'))
    ++end;
  return lower.substr(pos, end - pos);
}

// Charset from a byte-order mark; `bom_len` receives its length.
std::string bom_charset(std::string_view b, std::size_t& bom_len) {
  bom_len = 0;
  if (b.size() >= 3 && b.substr(0, 3) == "\xEF\xBB\xBF") {
    bom_len = 3;
    return "utf-8";
  }
  if (b.size() >= 2 && b.substr(0, 2) == "\xFF\xFE") {
    bom_len = 2;
    return "utf-16le";
  }
  if (b.size() >= 2 && b.substr(0, 2) == "\xFE\xFF") {
    bom_len = 2;
    return "utf-16be";
  }
  return {};
}

// UTF-16 without a byte order mark or label, told by its zero bytes: markup is ASCII, so in
// UTF-16LE nearly every second byte of the start is zero and in UTF-16BE nearly every first,
// which no 8-bit or UTF-8 page shows. Empty when the start does not look like that.
std::string utf16_by_zero_bytes(std::string_view b) {
  const std::size_t n = std::min<std::size_t>(b.size(), 512) / 2 * 2;
  if (n < 16) return {};
  std::size_t even_zero = 0, odd_zero = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    even_zero += b[i] == '\0';
    odd_zero += b[i + 1] == '\0';
  }
  const std::size_t units = n / 2;
  if (odd_zero * 10 >= units * 9 && even_zero * 10 < units) return "utf-16le";
  if (even_zero * 10 >= units * 9 && odd_zero * 10 < units) return "utf-16be";
  return {};
}

// ISO-2022-JP without a label, told by its escape sequences into JIS X 0208 (ESC $ B, ESC $ @):
// the encoding is 7-bit, so it would otherwise pass for UTF-8 with the escapes and the JIS
// bytes shown as text. Any byte of 128 or more rules it out.
bool iso2022jp_by_escapes(std::string_view b) {
  const std::string_view head = b.substr(0, kSniffBytes);
  bool escape = false;
  for (std::size_t i = 0; i < head.size(); ++i) {
    const auto c = static_cast<unsigned char>(head[i]);
    if (c >= 0x80) return false;
    if (c == 0x1B && i + 2 < head.size() && head[i + 1] == '$' &&
        (head[i + 2] == 'B' || head[i + 2] == '@'))
      escape = true;
  }
  return escape;
}

// The attributes of the tag starting at `pos` (just past its name) up to its '>', names in lower
// case, as the HTML prescan reads them; `pos` is left past the tag.
std::vector<std::pair<std::string, std::string>> tag_attributes(std::string_view h,
                                                                std::size_t& pos) {
  std::vector<std::pair<std::string, std::string>> attrs;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; };
  while (pos < h.size()) {
    while (pos < h.size() && (space(h[pos]) || h[pos] == '/')) ++pos;
    if (pos >= h.size() || h[pos] == '>') break;
    std::size_t start = pos;
    while (pos < h.size() && !space(h[pos]) && h[pos] != '/' && h[pos] != '>' && h[pos] != '=')
      ++pos;
    std::string name = util::to_lower(h.substr(start, pos - start));
    while (pos < h.size() && space(h[pos])) ++pos;
    std::string value;
    if (pos < h.size() && h[pos] == '=') {
      ++pos;
      while (pos < h.size() && space(h[pos])) ++pos;
      if (pos < h.size() && (h[pos] == '"' || h[pos] == '\'')) {
        const char quote = h[pos++];
        std::size_t close = h.find(quote, pos);
        if (close == std::string_view::npos) close = h.size();
        value = h.substr(pos, close - pos);
        pos = std::min(close + 1, h.size());
      } else {
        start = pos;
        while (pos < h.size() && !space(h[pos]) && h[pos] != '>') ++pos;
        value = h.substr(start, pos - start);
      }
    }
    if (name.empty())
      ++pos;  // a stray '=' or quote
    else
      attrs.emplace_back(std::move(name), std::move(value));
  }
  if (pos < h.size()) ++pos;  // the '>'
  return attrs;
}

// Charset declared near the top by <meta charset="..."> or by <meta http-equiv="Content-Type"
// content="...; charset=...">, read as the HTML prescan reads it: from those attributes only
// (never from the text of another, such as a description that mentions "charset="), and not
// inside comments.
std::string meta_charset(std::string_view b) {
  // The HTML prescan reads the first bytes; a browser that meets a <meta charset> later in the
  // head (after kilobytes of inline script) decodes the page again with it. So: the head, up to
  // 64 KiB, and at least the first 4 KiB.
  constexpr std::size_t kHeadBytes = 64 * 1024;
  std::size_t head_end = std::min(b.size(), kHeadBytes);
  for (std::size_t at = b.find('<'); at != std::string_view::npos && at < head_end;
       at = b.find('<', at + 1)) {
    const std::string_view tag = b.substr(at + 1, 5);
    if (util::iequals(tag, "/head") || util::iequals(tag.substr(0, 4), "body")) {
      head_end = at;
      break;
    }
  }
  const std::string_view h = b.substr(0, std::max(head_end, kSniffBytes));
  std::size_t pos = 0;
  while ((pos = h.find('<', pos)) != std::string_view::npos) {
    if (h.substr(pos).starts_with("<!--")) {
      const std::size_t close = h.find("-->", pos + 4);
      if (close == std::string_view::npos) break;
      pos = close + 3;
      continue;
    }
    ++pos;
    if (pos + 4 >= h.size() || !util::iequals(h.substr(pos, 4), "meta")) continue;
    const char after = h[pos + 4];
    if (after != ' ' && after != '\t' && after != '\n' && after != '\r' && after != '\f' &&
        after != '/')
      continue;  // <metadata>
    pos += 4;
    std::string charset, content;
    bool content_type = false;
    for (auto& [name, value] : tag_attributes(h, pos)) {
      if (name == "charset" && charset.empty()) charset = util::to_lower(trim_ascii(value));
      if (name == "content" && content.empty()) content = value;
      if (name == "http-equiv") content_type = util::iequals(trim_ascii(value), "content-type");
    }
    if (!charset.empty()) return charset;
    if (content_type)
      if (std::string cs = charset_param(content); !cs.empty()) return cs;
  }
  return {};
}

// The encoding an XML declaration at the very start names (`<?xml version="1.0"
// encoding="ISO-8859-1"?>`, as XHTML pages begin), or empty.
std::string xml_declared_charset(std::string_view b) {
  if (!b.starts_with("<?xml")) return {};
  const std::string decl = util::to_lower(b.substr(0, std::min<std::size_t>(b.find("?>"), 256)));
  auto at = decl.find("encoding");
  if (at == std::string::npos) return {};
  at = decl.find_first_not_of(" \t\r\n", at + 8);
  if (at == std::string::npos || decl[at] != '=') return {};
  at = decl.find_first_not_of(" \t\r\n", at + 1);
  if (at == std::string::npos || (decl[at] != '"' && decl[at] != '\'')) return {};
  const auto end = decl.find(decl[at], at + 1);
  if (end == std::string::npos) return {};
  return decl.substr(at + 1, end - at - 1);
}

// A charset label as browsers read it (WHATWG Encoding, "labels"), as the iconv name of the
// decoder they use: Latin-1 and ASCII are windows-1252, Shift_JIS is Microsoft's CP932, EUC-KR
// is CP949, the GB2312 family is GB18030, Big5 is Big5-HKSCS, ISO-8859-9 is windows-1254, each
// the superset pages written for the older name use. Other labels go to iconv as they are.
std::string canonical_charset(const std::string& cs) {
  struct Label {
    std::string_view label, decoder;
  };
  static constexpr Label kLabels[] = {
      {"utf8", "utf-8"},
      {"unicode-1-1-utf-8", "utf-8"},
      {"x-unicode20utf8", "utf-8"},
      {"unicode11utf8", "utf-8"},
      {"unicode20utf8", "utf-8"},
      {"ansi_x3.4-1968", "windows-1252"},
      {"ascii", "windows-1252"},
      {"cp1252", "windows-1252"},
      {"cp819", "windows-1252"},
      {"csisolatin1", "windows-1252"},
      {"ibm819", "windows-1252"},
      {"iso-8859-1", "windows-1252"},
      {"iso-ir-100", "windows-1252"},
      {"iso8859-1", "windows-1252"},
      {"iso88591", "windows-1252"},
      {"iso_8859-1", "windows-1252"},
      {"iso_8859-1:1987", "windows-1252"},
      {"l1", "windows-1252"},
      {"latin1", "windows-1252"},
      {"latin-1", "windows-1252"},
      {"us-ascii", "windows-1252"},
      {"x-cp1252", "windows-1252"},
      {"csisolatin5", "windows-1254"},
      {"iso-8859-9", "windows-1254"},
      {"iso-ir-148", "windows-1254"},
      {"iso8859-9", "windows-1254"},
      {"iso88599", "windows-1254"},
      {"iso_8859-9", "windows-1254"},
      {"iso_8859-9:1989", "windows-1254"},
      {"l5", "windows-1254"},
      {"latin5", "windows-1254"},
      {"x-cp1254", "windows-1254"},
      {"dos-874", "cp874"},
      {"iso-8859-11", "cp874"},
      {"iso8859-11", "cp874"},
      {"iso885911", "cp874"},
      {"tis-620", "cp874"},
      {"windows-874", "cp874"},
      {"csshiftjis", "cp932"},
      {"ms932", "cp932"},
      {"ms_kanji", "cp932"},
      {"shift-jis", "cp932"},
      {"shift_jis", "cp932"},
      {"sjis", "cp932"},
      {"windows-31j", "cp932"},
      {"x-sjis", "cp932"},
      {"cseucpkdfmtjapanese", "euc-jp"},
      {"x-euc-jp", "euc-jp"},
      {"cseuckr", "cp949"},
      {"csksc56011987", "cp949"},
      {"euc-kr", "cp949"},
      {"iso-ir-149", "cp949"},
      {"korean", "cp949"},
      {"ks_c_5601-1987", "cp949"},
      {"ks_c_5601-1989", "cp949"},
      {"ksc5601", "cp949"},
      {"ksc_5601", "cp949"},
      {"windows-949", "cp949"},
      {"chinese", "gb18030"},
      {"csgb2312", "gb18030"},
      {"csiso58gb231280", "gb18030"},
      {"gb2312", "gb18030"},
      {"gb_2312", "gb18030"},
      {"gb_2312-80", "gb18030"},
      {"gbk", "gb18030"},
      {"iso-ir-58", "gb18030"},
      {"x-gbk", "gb18030"},
      {"big5", "big5-hkscs"},
      {"cn-big5", "big5-hkscs"},
      {"csbig5", "big5-hkscs"},
      {"x-x-big5", "big5-hkscs"},
      {"utf-16", "utf-16le"},
      {"csunicode", "utf-16le"},
      {"iso-10646-ucs-2", "utf-16le"},
      {"ucs-2", "utf-16le"},
      {"unicode", "utf-16le"},
      {"unicodefeff", "utf-16le"},
      {"unicodefffe", "utf-16be"},
  };
  std::string c = util::to_lower(trim(cs));
  for (const Label& l : kLabels)
    if (c == l.label) return std::string(l.decoder);
  return c;
}

// Whether bytes that declare no charset are in a legacy 8-bit one rather than UTF-8: more of
// them fail to be UTF-8 than form UTF-8 sequences of two bytes or more. One stray byte in a
// UTF-8 page does not make it Latin-1, nor does one pair that happens to be valid UTF-8 ("Â©")
// make a Latin-1 page UTF-8.
bool undeclared_legacy_8bit(std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t invalid = 0, valid = 0;
  for (std::size_t i = 0; i < n;) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence_length(p + i, n - i);
    if (len > 1) {
      ++valid;
      i += len;
      continue;
    }
    ++invalid;
    ++i;
  }
  return invalid > valid;
}

std::optional<std::string> iconv_to_utf8(std::string_view in, const std::string& charset) {
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return std::nullopt;
  const std::string lower = util::to_lower(charset);
  const std::size_t unit = lower.rfind("utf-16", 0) == 0 || lower.rfind("ucs-2", 0) == 0   ? 2
                           : lower.rfind("utf-32", 0) == 0 || lower.rfind("ucs-4", 0) == 0 ? 4
                                                                                           : 1;
  std::string out;
  out.reserve(in.size() + in.size() / 2 + 16);
  char buf[16384];
  char* src = const_cast<char*>(in.data());
  std::size_t left = in.size();
  while (left > 0) {
    char* dst = buf;
    std::size_t room = sizeof buf;
    std::size_t r = iconv(cd, &src, &left, &dst, &room);
    out.append(buf, static_cast<std::size_t>(dst - buf));
    if (r != static_cast<std::size_t>(-1)) break;
    if (errno == E2BIG) continue;
    // EILSEQ or EINVAL: skip one code unit and mark it. Skipping a single byte of UTF-16 or
    // UTF-32 would read every later unit out of step and garble the rest of the page.
    out += kReplacement;
    std::size_t skip = std::min(left, unit);
    src += skip;
    left -= skip;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  iconv_close(cd);
  return validate_utf8(out);
}

bool looks_like_html(std::string_view body);

// What a body that is certainly not HTML is, by its first bytes ("PDF data", …), else "".
std::string binary_kind(std::string_view body) {
  struct Magic {
    std::string_view bytes;
    const char* kind;
  };
  static constexpr Magic kMagic[] = {
      {"%PDF-", "PDF data"},
      {"\x89PNG\r\n\x1a\n", "a PNG image"},
      {"GIF87a", "a GIF image"},
      {"GIF89a", "a GIF image"},
      {"\xFF\xD8\xFF", "a JPEG image"},
      {"PK\x03\x04", "a ZIP archive"},
      {"\x1F\x8B", "gzip data"},
      {"\x28\xB5\x2F\xFD", "zstd data"},
  };
  for (const auto& m : kMagic)
    if (body.starts_with(m.bytes)) return m.kind;
  if (body.size() >= 12 && body.substr(0, 4) == "RIFF" && body.substr(8, 4) == "WEBP")
    return "a WebP image";
  // JSON: an object or array first, not the start of an HTML document, and no markup near the
  // start or the whole of it JSON (an API's answer that carries rendered HTML in its strings).
  // A JSON document that is whole is JSON whatever its strings hold (a whole HTML page, even).
  std::size_t i = body.starts_with("\xEF\xBB\xBF") ? 3 : 0;
  const std::string_view json = body.substr(i);
  while (i < body.size() && i < 64 &&
         (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
    ++i;
  if (i < body.size() && (body[i] == '{' || body[i] == '[') &&
      ((!looks_like_html(body) && body.substr(0, 1024).find('<') == std::string_view::npos) ||
       nlohmann::json::accept(json)))
    return "JSON";
  return {};
}

// Whether the first kilobyte after any leading white space, comments and processing
// instructions (a licence notice, an XML declaration; read up to 256 KiB in) holds the start of
// an HTML document.
bool looks_like_html(std::string_view body) {
  constexpr std::size_t kLeadingBound = 256 * 1024;
  std::size_t pos = 0;
  while (pos < body.size() && pos < kLeadingBound) {
    const char c = body[pos];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
      ++pos;
      continue;
    }
    std::size_t close = std::string_view::npos;
    if (body.substr(pos).starts_with("<!--"))
      close = body.find("-->", pos + 4);
    else if (body.substr(pos).starts_with("<?"))
      close = body.find("?>", pos + 2);
    else
      break;
    if (close == std::string_view::npos) break;
    pos = close + (body[close] == '-' ? 3 : 2);
  }
  if (pos >= body.size()) pos = 0;
  std::string head = util::to_lower(body.substr(pos, 1024));
  return head.find("<!doctype html") != std::string::npos ||
         head.find("<html") != std::string::npos || head.find("<head") != std::string::npos ||
         head.find("<body") != std::string::npos || head.find("<meta") != std::string::npos ||
         head.find("<title") != std::string::npos;
}

// The value of the four hex digits at `at`, or -1.
long hex4_at(std::string_view s, std::size_t at) {
  if (at + 4 > s.size()) return -1;
  long v = 0;
  for (std::size_t i = at; i < at + 4; ++i) {
    const int d = util::hex_value(s[i]);
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// A "\u" escape of a surrogate that is not half of a pair ("\ud800" alone, as pages cut a
// string in the middle of an emoji) makes the whole block JSON no parser takes; it is read as
// U+FFFD, as a browser's JSON.parse keeps the block.
void replace_lone_surrogates(std::string& s) {
  bool in = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!in || s[i] == '"') {
      in = s[i] == '"' ? !in : in;
      continue;
    }
    if (s[i] != '\\') continue;
    if (i + 1 >= s.size() || s[i + 1] != 'u') {
      ++i;  // the escaped character
      continue;
    }
    const long unit = hex4_at(s, i + 2);
    if (unit >= 0xD800 && unit <= 0xDBFF && s.compare(i + 6, 2, "\\u") == 0) {
      const long low = hex4_at(s, i + 8);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        i += 11;
        continue;
      }
    }
    if (unit >= 0xD800 && unit <= 0xDFFF) s.replace(i + 2, 4, "FFFD");
    i += 5;
  }
}

// Strips HTML comment / CDATA wrappers some sites put around JSON-LD.
std::string clean_json_text(std::string s) {
  s = trim(s);
  auto strip_prefix = [&](std::string_view p) {
    if (s.rfind(p, 0) == 0) s = trim(std::string_view(s).substr(p.size()));
  };
  auto strip_suffix = [&](std::string_view p) {
    if (s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0)
      s = trim(std::string_view(s).substr(0, s.size() - p.size()));
  };
  strip_prefix("<!--");
  strip_prefix("//<![CDATA[");
  strip_prefix("<![CDATA[");
  strip_suffix("-->");
  strip_suffix("//]]>");
  strip_suffix("]]>");
  // Raw line breaks and tabs inside strings are not JSON, but common in pages' JSON-LD; a
  // browser's schema tools accept them, so read them as spaces rather than lose the block.
  util::JsonStringTracker strings;
  for (char& c : s)
    if (strings.inside(c) && static_cast<unsigned char>(c) < 0x20) c = ' ';
  replace_lone_surrogates(s);
  return s;
}

// JSON-LD as the slips pages make leave it readable (search engines' tools read it so): the
// comments a template leaves, a comma before a closing bracket, a ';' after the object.
std::string without_json_slips(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  util::JsonStringTracker strings;
  int depth = 0;          // of objects and arrays, outside strings
  bool several = false;   // two values one after the other ("{...}{...}"): read as an array
  bool one_done = false;  // a value at the top has closed
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (strings.inside(c)) {
      out += c;
      continue;
    }
    if (c == '/' && i + 1 < s.size() && (s[i + 1] == '*' || s[i + 1] == '/')) {
      const std::size_t end = s[i + 1] == '*' ? s.find("*/", i + 2) : s.find('\n', i + 2);
      if (end == std::string_view::npos) break;
      i = s[i + 1] == '*' ? end + 1 : end - 1;
      out += ' ';
      continue;
    } else if (c == ',') {
      std::size_t j = i + 1;
      while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) ++j;
      if (j < s.size() && (s[j] == '}' || s[j] == ']')) continue;
    } else if (c == '{' || c == '[') {
      if (depth == 0 && one_done) {
        while (!out.empty() && (out.back() == ';' || out.back() == ',' || out.back() == ' ' ||
                                out.back() == '\n' || out.back() == '\r' || out.back() == '\t'))
          out.pop_back();
        out += ',';
        several = true;
      }
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) one_done = true;
    }
    out += c;
  }
  while (!out.empty() && (out.back() == ';' || out.back() == ' ' || out.back() == '\n' ||
                          out.back() == '\r' || out.back() == '\t'))
    out.pop_back();
  return several ? "[" + out + "]" : out;
}

void collect_json_ld(const nlohmann::json& j, std::vector<nlohmann::json>& out, int depth = 0) {
  if (depth > 8) return;
  if (j.is_array()) {
    for (const auto& e : j) collect_json_ld(e, out, depth + 1);
    return;
  }
  if (!j.is_object()) return;
  auto g = j.find("@graph");
  if (g != j.end()) {
    if (j.contains("@type")) {
      nlohmann::json self = j;
      self.erase("@graph");
      out.push_back(std::move(self));
    }
    collect_json_ld(*g, out, depth + 1);
    return;
  }
  out.push_back(j);
  // A WebPage (or ItemPage, ProfilePage…) that holds its article as its mainEntity: the article
  // is an item of its own, as it would be in a @graph.
  if (auto m = j.find("mainEntity"); m != j.end() && (m->is_object() || m->is_array()))
    collect_json_ld(*m, out, depth + 1);
}

void fill_from_document(Page& page) {
  const Document& doc = *page.document;
  for (const Node& s : doc.xpath("//script[@type]")) {
    std::string type = util::to_lower(s.attr("type"));
    if (type.find("ld+json") == std::string::npos) continue;
    const std::string text = clean_json_text(s.raw_text());
    auto j = util::parse_json(text);
    if (j.is_discarded()) j = util::parse_json(without_json_slips(text));
    if (j.is_discarded()) continue;
    collect_json_ld(j, page.json_ld);
  }
  for (const Node& m : doc.xpath("//meta[@content]")) {
    std::string key = m.attr("property");
    if (key.empty()) key = m.attr("name");
    if (key.empty()) key = m.attr("itemprop");
    key = util::to_lower(trim(key));
    if (key.empty()) continue;
    page.meta.emplace(std::move(key), trim(m.attr("content")));
  }
}

// The tokenizing below follows libxml2's HTML parser (2.9), which builds the document: where it
// ends a tag, a comment or a raw-text element, so does without_raw_text. Where that is unclear
// (an unusual declaration or processing instruction), the rest of the page is left as it is.

bool is_blank(char c) {  // libxml2's IS_BLANK_CH
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_name_start(char c) {
  return is_alpha(c) || c == '_' || c == ':' || c == '.';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-';
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

// Whether `s` continues at `at` with `word` (lower case), ignoring case.
bool has_word_at(std::string_view s, std::size_t at, std::string_view word) {
  if (s.size() - at < word.size()) return false;
  for (std::size_t k = 0; k < word.size(); ++k)
    if (lower(s[at + k]) != word[k]) return false;
  return true;
}

constexpr std::size_t kNone = std::string_view::npos;

// From just past a start tag's name to just past its end ('>' or "/>", which ends an element
// without content), or kNone when it does not end. Attribute values in quotes may hold '>'; an
// attribute that is no name is skipped up to a blank or the end of the tag, and makes the tag
// `irregular` (libxml2 may then treat the element's content differently).
std::size_t start_tag_end(std::string_view s, std::size_t k, bool& empty_element, bool& irregular) {
  const std::size_t n = s.size();
  auto ends_empty = [&](std::size_t at) { return s[at] == '/' && at + 1 < n && s[at + 1] == '>'; };
  empty_element = irregular = false;
  for (;;) {
    while (k < n && is_blank(s[k])) ++k;
    if (k >= n) return kNone;
    if (s[k] == '>') return k + 1;
    if (ends_empty(k)) {
      empty_element = true;
      return k + 2;
    }
    if (!is_name_start(s[k])) {
      irregular = true;
      while (k < n && !is_blank(s[k]) && s[k] != '>' && !ends_empty(k)) ++k;
      continue;
    }
    while (k < n && is_name_char(s[k])) ++k;
    while (k < n && is_blank(s[k])) ++k;
    if (k >= n || s[k] != '=') continue;
    ++k;
    while (k < n && is_blank(s[k])) ++k;
    if (k < n && (s[k] == '"' || s[k] == '\'')) {
      k = s.find(s[k], k + 1);
      if (k == kNone) return kNone;
      ++k;
    } else {
      while (k < n && !is_blank(s[k]) && s[k] != '>') ++k;
    }
  }
}

// Just past the '>' ending the declaration or instruction at `i`, or kNone when unsure.
std::size_t markup_end(std::string_view s, std::size_t i) {
  std::size_t end = s.find('>', i);
  if (end == kNone) return kNone;
  std::string_view body = s.substr(i, end - i);
  if (has_word_at(s, i, "<!doctype")) {
    // Quoted identifiers are read as literals: give up unless each is closed before the '>'.
    if (std::count(body.begin(), body.end(), '"') % 2 != 0 ||
        std::count(body.begin(), body.end(), '\'') % 2 != 0)
      return kNone;
    return end + 1;
  }
  if (s.compare(i, 2, "<?") == 0 && i + 2 < s.size() && is_name_start(s[i + 2])) return end + 1;
  return kNone;
}

}  // namespace

std::string without_raw_text(std::string_view html) {
  std::string out;
  out.reserve(html.size());
  std::size_t copied = 0, i = 0;
  while ((i = html.find('<', i)) != kNone) {
    if (i + 1 >= html.size()) break;
    char next = html[i + 1];
    if (html.compare(i, 4, "<!--") == 0) {
      i = html.find("-->", i + 4);
      if (i == kNone) break;
      i += 3;
      continue;
    }
    if (next == '?' || (next == '!' && has_word_at(html, i, "<!doctype"))) {
      i = markup_end(html, i);
      if (i == kNone) break;
      continue;
    }
    if (next == '/' && i + 2 < html.size() && is_alpha(html[i + 2])) {  // an end tag
      i = html.find('>', i);
      if (i == kNone) break;
      ++i;
      continue;
    }
    if (!is_alpha(next)) {  // text: a lone '<', "</" without a name, "<!" but a comment
      ++i;
      continue;
    }
    std::size_t open = i, name_end = i + 1;
    while (name_end < html.size() && is_name_char(html[name_end])) ++name_end;
    bool empty_element = false, irregular = false;
    std::size_t end = start_tag_end(html, name_end, empty_element, irregular);
    if (end == kNone) break;
    i = end;
    std::string name(html.substr(open + 1, name_end - open - 1));
    for (char& c : name) c = lower(c);
    if (name != "script" && name != "style") continue;
    if (irregular) break;
    if (empty_element) continue;
    bool keep = false;  // JSON-LD is read from the DOM: its text stays
    if (name == "script") {
      std::string tag(html.substr(open, end - open));
      for (char& c : tag) c = lower(c);
      keep = tag.find("ld+json") != std::string::npos;
    }
    // libxml2 reads "</" right after the start tag as an end tag: only the element's own is sure.
    auto own_end_tag = [&](std::size_t at) {
      std::size_t after = at + 2 + name.size();
      return html.compare(at, 2, "</") == 0 && has_word_at(html, at + 2, name) &&
             (after >= html.size() || !is_name_char(html[after]));
    };
    if (html.compare(i, 2, "</") == 0) {
      if (own_end_tag(i)) continue;
      break;
    }
    // A start tag right after it that libxml2 lets close the element (<noscript> a script,
    // <body> or <frameset> a style): nothing to leave out.
    if (i + 1 < html.size() && html[i] == '<' && is_alpha(html[i + 1])) {
      std::size_t e = i + 1;  // libxml2 takes this name without '.'
      while (e < html.size() && is_name_char(html[e]) && html[e] != '.') ++e;
      std::string first(html.substr(i + 1, e - i - 1));
      for (char& c : first) c = lower(c);
      if (name == "script" ? first == "noscript" : first == "body" || first == "frameset") continue;
    }
    // The text runs to "</" and the element's name (any case), where libxml2 ends it too.
    std::size_t close = i;
    while ((close = html.find("</", close)) != kNone && !has_word_at(html, close + 2, name))
      close += 2;
    if (close == kNone) close = html.size();
    // A longer name ("</scripts") or a control character (which libxml2 drops, then reads on
    // as content) leaves the rest of the page unsure.
    if (close < html.size() && !own_end_tag(close)) break;
    if (std::any_of(html.begin() + static_cast<std::ptrdiff_t>(i),
                    html.begin() + static_cast<std::ptrdiff_t>(close), [](char c) {
                      return static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
                             c != '\r';
                    }))
      break;
    if (!keep) {
      out.append(html.substr(copied, i - copied));
      copied = close;
    }
    i = close;
  }
  out.append(html.substr(copied));
  return out;
}

namespace {

// "&#x2713;": a reference libxml2 reads as the browser reads the one it stands for.
std::string fmt_reference(char32_t c) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = ";";
  for (; c; c >>= 4) out.insert(out.begin(), kHex[c & 15]);
  return "&#x" + out;
}

// The code point a numeric character reference at `at` ("&#146;", "&#x92") names where HTML
// reads it otherwise than libxml2 (WHATWG HTML, "numeric character reference end state"), and
// the end of the reference; 0 where they agree. 128..159 name the windows-1252 characters, as
// pages written for that charset use them, where libxml2 reads C1 control characters, which
// text drops (the five positions windows-1252 leaves empty are left alone); 0, a surrogate or
// a number past U+10FFFF name U+FFFD, where libxml2 ends the attribute or text at the
// reference (an og:title cut short).
std::pair<char32_t, std::size_t> numeric_reference_at(std::string_view html, std::size_t at) {
  static constexpr char16_t kCp1252[32] = {
      0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};
  std::size_t i = at + 2;
  const bool hex = i < html.size() && (html[i] == 'x' || html[i] == 'X');
  if (hex) ++i;
  const std::size_t digits = i;
  unsigned long value = 0;  // held at 0x110000 once past it
  while (i < html.size() && (hex ? std::isxdigit(static_cast<unsigned char>(html[i]))
                                 : std::isdigit(static_cast<unsigned char>(html[i])))) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(html[i])));
    value = std::min<unsigned long>(
        value * (hex ? 16 : 10) + static_cast<unsigned long>(c <= '9' ? c - '0' : c - 'a' + 10),
        0x110000);
    ++i;
  }
  if (i == digits) return {0, 0};
  char32_t named = 0;
  if (value >= 0x80 && value <= 0x9F)
    named = kCp1252[value - 0x80];
  else if (value == 0 || (value >= 0xD800 && value <= 0xDFFF) || value > 0x10FFFF)
    named = 0xFFFD;
  if (i < html.size() && html[i] == ';') ++i;
  return {named, i};
}

bool is_ascii_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

// The named character reference at `at` ("&check;", "&copy 2024") where HTML reads it and
// libxml2 does not, and its end; null where they agree. libxml2 knows HTML 4's names, each
// with its semicolon; HTML has 2,231, and reads the 106 older ones without a semicolon too,
// except, as in an attribute, before a letter, digit or '=' ("?a=1&copy=2" stays as it is).
std::pair<const HtmlEntity*, std::size_t> named_reference_at(std::string_view html,
                                                             std::size_t at) {
  std::size_t i = at + 1;
  while (i < html.size() && i - at <= 32 && is_ascii_alnum(html[i])) ++i;
  if (i == at + 1) return {nullptr, 0};
  if (i < html.size() && html[i] == ';') {
    if (const HtmlEntity* e = find_html_entity(html.substr(at + 1, i - at))) {
      const std::string name(html.substr(at + 1, i - at - 1));
      if (htmlEntityLookup(reinterpret_cast<const xmlChar*>(name.c_str()))) return {nullptr, 0};
      return {e, i + 1};
    }
  }
  const HtmlEntity* e = longest_legacy_entity(html.substr(at + 1, i - at - 1));
  if (!e) return {nullptr, 0};
  const std::size_t end = at + 1 + e->name.size();
  if (end < html.size() && (is_ascii_alnum(html[end]) || html[end] == '=')) return {nullptr, 0};
  return {e, end};
}

// Where the text of the next <script> or <style> element at or after `from` starts (just past its
// start tag); npos when there is none.
std::size_t find_raw_text(std::string_view html, std::size_t from) {
  for (std::size_t at = html.find('<', from); at != std::string_view::npos;
       at = html.find('<', at + 1)) {
    for (std::string_view name : {"script", "style"}) {
      const std::size_t after = at + 1 + name.size();
      if (!has_word_at(html, at + 1, name) || after >= html.size()) continue;
      const char next = html[after];
      if (next != '>' && next != ' ' && next != '\t' && next != '\n' && next != '\r' && next != '/')
        continue;
      bool empty_element = false, irregular = false;
      const std::size_t end = start_tag_end(html, after, empty_element, irregular);
      return end == kNone ? html.size() : end;
    }
  }
  return std::string_view::npos;
}

// Where the raw text starting at `from` ends: its element's end tag ("</script", "</style", any
// case), or the page's end.
std::size_t raw_text_end(std::string_view html, std::size_t from) {
  for (std::size_t at = html.find("</", from); at != std::string_view::npos;
       at = html.find("</", at + 2))
    if (has_word_at(html, at + 2, "script") || has_word_at(html, at + 2, "style")) return at;
  return html.size();
}

// The page with the character references libxml2 would read otherwise than a browser written
// out as references it reads the same (numeric, in hexadecimal), for the copy that is parsed;
// nullopt when there are none.
std::optional<std::string> with_browser_references(std::string_view html) {
  std::string out;
  std::size_t copied = 0;
  auto put = [&](std::size_t at, std::size_t end, std::initializer_list<char32_t> chars) {
    if (out.empty()) out.reserve(html.size() + 64);
    out.append(html.substr(copied, at - copied));
    for (char32_t c : chars)
      if (c) out += fmt_reference(c);
    copied = end;
  };
  // The text of <script> and <style> is raw: browsers read no reference in it (a JSON-LD URL's
  // "&copy=1" stays as written); the scan jumps over it.
  std::size_t raw_from = find_raw_text(html, 0);
  std::size_t at = html.find('&');
  while (at != std::string_view::npos) {
    if (raw_from <= at) {  // npos never is
      const std::size_t raw_end = raw_text_end(html, raw_from);
      raw_from = find_raw_text(html, raw_end);
      if (raw_end > at) at = html.find('&', raw_end);
      continue;
    }
    if (at + 1 >= html.size()) break;
    if (html[at + 1] == '#') {
      const auto [named, end] = numeric_reference_at(html, at);
      if (named) put(at, end, {named});
    } else if (std::isalpha(static_cast<unsigned char>(html[at + 1]))) {
      const auto [e, end] = named_reference_at(html, at);
      if (e) put(at, end, {e->first, e->second});
    }
    at = html.find('&', at + 1);
  }
  if (copied == 0) return std::nullopt;
  out.append(html.substr(copied));
  return out;
}

// A page without a <body> tag whose content starts with an element libxml2 2.9 does not know
// (HTML5's <article>, <main>, <section>, <header>...; minifiers drop the optional tags): libxml2
// keeps it inside the implied <head>, where no text is read, while an HTML parser opens the
// body at the first element a head cannot hold. The copy that is parsed gets a <body> tag
// there; nullopt when the page has one, or when nothing outside a head's elements starts.
std::optional<std::string> with_implied_body(std::string_view html) {
  for (std::size_t at = html.find('<'); at != std::string_view::npos; at = html.find('<', at + 1))
    if (has_word_at(html, at + 1, "body")) return std::nullopt;
  static constexpr std::string_view kHeadElements[] = {
      "html",  "head",   "meta",     "link",     "title",    "base",
      "style", "script", "noscript", "template", "basefont", "bgsound"};
  std::size_t at = 0;
  while ((at = html.find('<', at)) != std::string_view::npos) {
    if (html.compare(at, 4, "<!--") == 0) {
      const std::size_t end = html.find("-->", at + 4);
      if (end == std::string_view::npos) return std::nullopt;
      at = end + 3;
      continue;
    }
    if (at + 1 >= html.size() || !std::isalpha(static_cast<unsigned char>(html[at + 1]))) {
      const std::size_t end = html.find('>', at + 1);  // </x>, <!doctype>, <?xml?>
      if (end == std::string_view::npos) return std::nullopt;
      at = end + 1;
      continue;
    }
    std::size_t e = at + 1;
    while (e < html.size() && (std::isalnum(static_cast<unsigned char>(html[e])) || html[e] == '-'))
      ++e;
    std::string name(html.substr(at + 1, e - at - 1));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::find(std::begin(kHeadElements), std::end(kHeadElements), name) ==
        std::end(kHeadElements)) {
      std::string out;
      out.reserve(html.size() + 6);
      out.append(html.substr(0, at)).append("<body>").append(html.substr(at));
      return out;
    }
    // Past the tag, its quoted attribute values whole ("x<y" in a content is no tag).
    bool empty_element = false, irregular = false;
    e = start_tag_end(html, e, empty_element, irregular);
    if (e == kNone) return std::nullopt;
    // Raw text (a script's, a title's) to its end tag, else the tag itself.
    if (name == "script" || name == "style" || name == "title" || name == "noscript" ||
        name == "template") {
      std::size_t end = e;
      while ((end = html.find("</", end)) != std::string_view::npos &&
             !has_word_at(html, end + 2, name))
        end += 2;
      if (end == std::string_view::npos) return std::nullopt;
      at = end + 2;
    } else {
      at = e;
    }
  }
  return std::nullopt;
}

Page finish(Page page, DomScope scope = DomScope::full) {
  auto mapped = with_browser_references(page.html);
  if (auto bodied = with_implied_body(mapped ? *mapped : page.html)) mapped = std::move(bodied);
  const std::string& html = mapped ? *mapped : page.html;
  page.document = scope == DomScope::full ? Document::parse(html, page.final_url)
                                          : Document::parse(without_raw_text(html), page.final_url);
  if (page.document && page.document->raw()) fill_from_document(page);
  return page;
}

// Decodes `bytes` to UTF-8 with the charset from the header (may be empty), BOM or meta tag.
std::string decode_charset(std::string_view bytes, const std::string& header_charset) {
  std::size_t bom_len = 0;
  // A byte order mark decides over any label, as in browsers (WHATWG Encoding, "decode"); then
  // the HTTP header; then a meta tag.
  std::string bom = bom_charset(bytes, bom_len);
  std::string cs = bom;
  if (cs.empty()) cs = canonical_charset(header_charset);
  if (cs.empty()) {
    cs = canonical_charset(meta_charset(bytes));
    // Then the XML declaration of an XHTML page.
    if (cs.empty()) cs = canonical_charset(xml_declared_charset(bytes));
    // A page declaring UTF-16 in a tag cannot have been read as ASCII: ignore it.
    if (cs.rfind("utf-16", 0) == 0) cs.clear();
  }
  // Undeclared: UTF-16 when its zero bytes show it, ISO-2022-JP when its escapes do; else UTF-8,
  // unless the bytes are plainly not (browsers then take windows-1252).
  if (cs.empty()) cs = utf16_by_zero_bytes(bytes);
  if (cs.empty() && iso2022jp_by_escapes(bytes)) cs = "iso-2022-jp";
  if (cs.empty()) cs = undeclared_legacy_8bit(bytes) ? "windows-1252" : "utf-8";
  if (bom == cs) bytes.remove_prefix(bom_len);
  return to_utf8(bytes, cs);
}

// Throws when `html` holds more markup than a page is parsed with (kMaxMarkup).
void check_markup(std::string_view html) {
  std::size_t tags = 0;  // memchr skips the text between tags many bytes at a time
  const char* const end = html.data() + html.size();
  for (const char* p = html.data(); p < end; ++p, ++tags) {
    p = static_cast<const char*>(std::memchr(p, '<', static_cast<std::size_t>(end - p)));
    if (!p) break;
  }
  if (tags > kMaxMarkup)
    throw std::runtime_error("too much markup to extract: found " + std::to_string(tags) +
                             " '<' characters, expected at most " + std::to_string(kMaxMarkup));
}

}  // namespace

std::string to_utf8(std::string_view bytes, const std::string& charset) {
  std::string cs = canonical_charset(charset);
  if (cs.empty() || cs == "utf-8") return validate_utf8(bytes);
  auto out = iconv_to_utf8(bytes, cs);
  if (!out) return validate_utf8(bytes);  // unknown charset: best effort
  return std::move(*out);
}

std::string non_html_kind(std::string_view body) {
  return binary_kind(body);
}

std::string skip_reason(const PageInput& in) {
  std::string type = media_type(header_value(in, "Content-Type"));
  if (type == "text/html" || type == "application/xhtml+xml") return {};
  if (type.empty()) {
    std::string_view body = in.body;
    std::string decoded;
    std::string coding = warc::body_codings(in.headers);
    if (!coding.empty() && !in.body.empty()) {
      std::string err;
      bool partial = false;
      auto d = warc::decode_content(in.body, coding, kMaxDecoded, &err, &partial);
      if (!d) return "undecodable body: " + err;
      decoded = std::move(*d);
      body = decoded;
    }
    std::size_t bom_len = 0;
    std::string charset = bom_charset(body, bom_len);
    if (charset.empty()) charset = utf16_by_zero_bytes(body);
    body.remove_prefix(bom_len);
    if (charset.rfind("utf-16", 0) == 0) {
      // Markup in UTF-16 is found once the start is decoded.
      const std::size_t head = std::min<std::size_t>(body.size(), 8192) / 2 * 2;
      if (looks_like_html(to_utf8(body.substr(0, head), charset))) return {};
    } else if (looks_like_html(body)) {
      return {};
    }
    if (std::string kind = binary_kind(body); !kind.empty())
      return "not HTML: " + kind + ", no content type";
    return "not HTML: no content type and no HTML markup";
  }
  return "not HTML: " + type;
}

Page build_page(const PageInput& in) {
  return finish(decode_page(in));
}

Page decode_page(const PageInput& in) {
  Page page;
  page.url = in.url;
  page.final_url = in.final_url.empty() ? in.url : in.final_url;
  page.status = in.status;
  page.headers = in.headers;
  std::string coding = warc::body_codings(in.headers);
  std::string decoded;
  std::string_view body = in.body;
  if (!coding.empty() && !in.body.empty()) {
    std::string err;
    // A body cut short (at the capture's size cap) gives the article of what arrived.
    bool partial = false;
    auto d = warc::decode_content(in.body, coding, kMaxDecoded, &err, &partial);
    if (!d) throw std::runtime_error("cannot decode content coding '" + coding + "': " + err);
    decoded = std::move(*d);
    body = decoded;
  } else if (body.size() > kMaxDecoded) {
    body = body.substr(0, kMaxDecoded);
  }
  if (std::string kind = binary_kind(body); !kind.empty())
    throw std::runtime_error("not HTML: found " + kind + " served as '" +
                             header_value(in, "Content-Type") + "', expected an HTML page");
  page.html = decode_charset(body, charset_param(header_value(in, "Content-Type")));
  check_markup(page.html);
  return page;
}

Page build_page_from_decoded(Page page, DomScope scope) {
  page.document.reset();
  page.json_ld.clear();
  page.meta.clear();
  return finish(std::move(page), scope);
}

Page build_page_from_html(std::string html, const std::string& url, DomScope scope) {
  Page page;
  page.url = url;
  page.final_url = url;
  page.status = 200;
  if (html.size() > kMaxDecoded) html.resize(kMaxDecoded);
  page.html = decode_charset(html, {});
  check_markup(page.html);
  return finish(std::move(page), scope);
}

}  // namespace vellum::extract
