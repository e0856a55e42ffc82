#include "extract/ArticleJson.h"

#include <cctype>
#include <cstring>

#include "extract/DateParser.h"
#include "extract/TextUtil.h"
#include "util/Text.h"
#include "util/Url.h"

namespace vellum::extract {

namespace {

nlohmann::json or_null(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

// Fields as printed: without control characters, which articles stored by older versions may
// hold and which a terminal would obey.
std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? printable(it->get<std::string>()) : std::string();
}

std::vector<std::string> strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(printable(v.get<std::string>()));
  return out;
}

// Text that Markdown shows as written: the characters that would start emphasis, code (a "~~~"
// fence too), strikethrough, a link or image, raw HTML or an entity ("&copy;") are escaped with
// a backslash.
std::string md_inline(const std::string& text) {
  std::string out;
  out.reserve(text.size() + text.size() / 16);
  for (char c : text) {
    if (c != '\0' && std::strchr("\\`*_[]<~&", c) != nullptr) out += '\\';
    out += c;
  }
  return out;
}

// A heading's text: as md_inline, and '#'s at its end after a space escaped, which Markdown
// would otherwise take for the heading's closing sequence and drop ("Ranked #"; "C#" stays).
std::string md_heading(const std::string& text) {
  std::string out = md_inline(text);
  if (!out.ends_with('#')) return out;
  const auto before = out.find_last_not_of('#');
  if (before == std::string::npos || out[before] == ' ' || out[before] == '\t')
    out.insert(before + 1, "\\");
  return out;
}

// A line of text that Markdown does not read as a heading, a quote, a list item or a rule
// because of how it starts ("# 1", "> x", "- x", "1. x", "2026.").
std::string md_line(std::string_view text) {
  std::string out = md_inline(std::string(text));
  std::size_t i = 0;
  while (i < out.size() && out[i] == ' ') ++i;
  if (i >= out.size()) return out;
  const char c = out[i];
  if (c == '#' || c == '>' || c == '-' || c == '+' || c == '=') {
    out.insert(i, "\\");
  } else if (std::isdigit(static_cast<unsigned char>(c))) {
    std::size_t j = i;
    while (j < out.size() && std::isdigit(static_cast<unsigned char>(out[j]))) ++j;
    if (j < out.size() && (out[j] == '.' || out[j] == ')')) out.insert(j, "\\");
  }
  return out;
}

// A paragraph as a Markdown paragraph: each line escaped, and its line breaks (from <br>, a
// table's rows, <pre>) kept as hard line breaks (two spaces before the newline). A paragraph
// with an indented line is preformatted text (program code, from <pre>), which only a fenced
// code block shows as it is: Markdown would read the indentation as a code block of its own
// and show the escapes.
std::string md_block(const std::string& text) {
  bool indented = !text.empty() && (text.front() == ' ' || text.front() == '\t');
  for (std::size_t nl = text.find('\n'); !indented && nl != std::string::npos;
       nl = text.find('\n', nl + 1))
    indented = nl + 1 < text.size() && (text[nl + 1] == ' ' || text[nl + 1] == '\t');
  if (indented) {
    // The fence is longer than any run of backticks in the text.
    std::size_t longest = 0, run = 0;
    for (char c : text) {
      run = c == '`' ? run + 1 : 0;
      longest = std::max(longest, run);
    }
    const std::string fence(std::max<std::size_t>(3, longest + 1), '`');
    return fence + "\n" + text + "\n" + fence;
  }
  std::string out;
  std::string_view rest = text;
  while (true) {
    const auto nl = rest.find('\n');
    out += md_line(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    out += "  \n";
    rest.remove_prefix(nl + 1);
  }
  return out;
}

// "2026-04-08T16:09:31Z" -> "2026-04-08 16:09:31"
std::string publish_date_text(const std::string& iso) {
  if (iso.size() < 19) return iso;
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

}  // namespace

nlohmann::json article_json(const Article& a, const CaptureFacts& c, const ExtractorFacts& e) {
  nlohmann::json j;
  j["schema_version"] = kArticleSchemaVersion;
  j["capture_id"] = c.capture_id;
  j["url"] = c.url;
  j["final_url"] = or_null(c.final_url.empty() ? c.url : c.final_url);
  j["canonical_url"] = or_null(a.canonical_url);
  j["fetched_at"] = or_null(c.fetched_at);
  j["http_status"] = c.http_status ? nlohmann::json(c.http_status) : nlohmann::json();
  auto u = util::parse_url(c.final_url.empty() ? c.url : c.final_url);
  j["source_domain"] = u ? nlohmann::json(util::source_domain(u->host)) : nlohmann::json();
  j["title"] = or_null(a.title);
  j["authors"] = a.authors;
  j["published"] = or_null(a.published);
  j["modified"] = or_null(a.modified);
  j["language"] = or_null(a.language);
  j["lead"] = or_null(a.lead);
  j["key_points"] = a.key_points;
  j["body_text"] = a.body_text();
  nlohmann::json sections = nlohmann::json::array();
  for (const auto& s : a.sections)
    sections.push_back({{"heading", or_null(s.heading)}, {"paragraphs", s.paragraphs}});
  j["sections"] = sections;
  nlohmann::json images = nlohmann::json::array();
  for (const auto& i : a.images)
    images.push_back(
        {{"url", i.url}, {"caption", or_null(i.caption)}, {"credit", or_null(i.credit)}});
  j["images"] = images;
  j["tags"] = a.tags;
  j["extractor"] = {{"name", e.name}, {"version", e.version}};
  if (!e.plugin_error.empty()) j["extractor"]["plugin_error"] = e.plugin_error;
  j["warc"] = {{"record_id", c.record_id}, {"payload_digest", or_null(c.payload_digest)}};
  return j;
}

void tidy_plugin_article(Article& a) {
  auto clean = [](std::string& s) { s = validate_utf8(printable(s)); };
  auto clean_all = [&](std::vector<std::string>& v) {
    for (auto& s : v) clean(s);
  };
  for (std::string* s :
       {&a.title, &a.published, &a.modified, &a.language, &a.canonical_url, &a.lead})
    clean(*s);
  clean_all(a.authors);
  clean_all(a.key_points);
  clean_all(a.tags);
  for (auto& section : a.sections) {
    clean(section.heading);
    clean_all(section.paragraphs);
  }
  for (auto& image : a.images) {
    clean(image.url);
    clean(image.caption);
    clean(image.credit);
  }
  for (std::string* date : {&a.published, &a.modified})
    if (!date->empty()) *date = normalize_date(*date, writes_day_first(a.language));
}

Article article_from_json(const nlohmann::json& j) {
  Article a;
  a.title = str(j, "title");
  a.authors = strings(j, "authors");
  a.published = str(j, "published");
  a.modified = str(j, "modified");
  a.language = str(j, "language");
  a.canonical_url = str(j, "canonical_url");
  a.lead = str(j, "lead");
  a.key_points = strings(j, "key_points");
  a.tags = strings(j, "tags");
  if (auto it = j.find("sections"); it != j.end() && it->is_array()) {
    for (const auto& s : *it) {
      ArticleSection sec;
      sec.heading = str(s, "heading");
      sec.paragraphs = strings(s, "paragraphs");
      a.sections.push_back(std::move(sec));
    }
  }
  if (auto it = j.find("images"); it != j.end() && it->is_array()) {
    for (const auto& i : *it)
      a.images.push_back({str(i, "url"), str(i, "caption"), str(i, "credit")});
  }
  return a;
}

namespace {

// The page's URL for text and Markdown: a control character in it (an imported record may hold
// one) written as %XX, as `list` and `show` print it, not dropped.
std::string printable_url(const nlohmann::json& j) {
  for (const char* key : {"final_url", "url"})
    if (auto it = j.find(key);
        it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
      return printable(util::terminal_safe(it->get<std::string>()));
  return {};
}

}  // namespace

std::string article_text(const nlohmann::json& j) {
  Article a = article_from_json(j);
  std::string out;
  if (!a.title.empty()) out += a.title + "\n\n";  // only what is known
  out += printable_url(j) + "\n\n";
  if (!a.published.empty()) out += "Publish Date: " + publish_date_text(a.published) + "\n\n";
  std::string domain = str(j, "source_domain");
  if (!domain.empty()) out += "Source Domain: " + domain + "\n\n";
  std::string body = a.body_text();
  // The lead (standfirst, or the first paragraph a site plugin keeps apart) opens the text,
  // unless the body opens with it already.
  if (!a.lead.empty() && body != a.lead && !body.starts_with(a.lead + "\n\n"))
    out += a.lead + "\n" + (body.empty() ? "" : "\n");
  if (!body.empty()) out += body + "\n";
  if (!a.key_points.empty()) {
    out += "\nKey Points:\n";
    for (const auto& k : a.key_points) out += "\u2013 " + k + "\n";
  }
  return out;
}

std::string article_markdown(const nlohmann::json& j) {
  Article a = article_from_json(j);
  std::string out = a.title.empty() ? std::string() : "# " + md_heading(a.title) + "\n\n";
  std::string meta = "<" + printable_url(j) + ">";
  if (!a.authors.empty()) {
    meta += " · ";
    for (std::size_t i = 0; i < a.authors.size(); ++i)
      meta += (i ? ", " : "") + md_inline(a.authors[i]);
  }
  if (!a.published.empty()) meta += " · " + publish_date_text(a.published) + " UTC";
  out += meta + "\n\n";
  if (!a.lead.empty()) out += "> " + md_line(a.lead) + "\n\n";
  for (const auto& s : a.sections) {
    if (!s.heading.empty()) out += "## " + md_heading(s.heading) + "\n\n";
    for (const auto& p : s.paragraphs) out += md_block(p) + "\n\n";
  }
  if (!a.key_points.empty()) {
    out += "## Key Points\n\n";
    for (const auto& k : a.key_points) out += "- " + md_line(k) + "\n";
    out += "\n";
  }
  while (out.size() > 1 && out.ends_with("\n\n")) out.pop_back();
  return out;
}

}  // namespace vellum::extract
