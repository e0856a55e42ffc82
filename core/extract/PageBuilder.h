// Turns a captured response into the Page extractors receive: decodes the body (content
// coding, charset from the header, BOM or <meta charset>, invalid bytes replaced), parses it,
// and collects JSON-LD objects and meta tags.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vellum/page.h"

namespace vellum::extract {

struct PageInput {
  std::string url;
  std::string final_url;  // empty: same as url
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // entity body as served (content coding still applied)
};

// Why a capture gets no article ("not HTML: application/pdf"), or empty when it is HTML.
std::string skip_reason(const PageInput& in);

// What a body that is certainly not HTML is, by its first bytes ("PDF data", "a PNG image",
// "JSON"…), else "".
std::string non_html_kind(std::string_view body);

// Builds the page. Throws std::runtime_error with a clear reason when the body cannot be
// decoded (unknown content coding, corrupt compressed data), is not HTML (a PDF, an image), or
// holds more markup than a page is parsed with (over a million '<', which would cost libxml2
// hundreds of megabytes; news pages hold thousands).
Page build_page(const PageInput& in);

// build_page without the parsing: the capture fields and `html` decoded to UTF-8, no document,
// JSON-LD or meta tags yet (build_page_from_decoded adds them). Throws as build_page does.
Page decode_page(const PageInput& in);

// What the parsed document holds. `full` is the page as served, for plugins. `article` leaves
// out the text of <style> elements and of <script> elements other than JSON-LD, which the
// generic extractor never reads: over half the bytes of a typical news page, and the slowest
// part of libxml2's HTML parsing. `page.html` keeps everything either way.
enum class DomScope { full, article };

// For a page file on disk (`vellum extract PAGE.html`): no headers, charset from BOM or meta.
// Throws when the markup is over the bound build_page has.
Page build_page_from_html(std::string html, const std::string& url,
                          DomScope scope = DomScope::full);

// Completes a page whose capture fields and decoded HTML are set: parses `page.html` and
// collects JSON-LD and meta tags exactly as build_page does (a plugin worker process rebuilds
// the page it is sent with this).
Page build_page_from_decoded(Page page, DomScope scope = DomScope::full);

// `html` without the text of its <style> and non-JSON-LD <script> elements (the elements stay,
// empty); everything else is copied byte for byte. Tags, comments and declarations are read as
// libxml2 reads them, an element's text ends where libxml2 ends it (at "</" and the element's
// name), and from any point where libxml2 could read on differently (an odd start tag, a
// control character in the text) the rest is copied as it is.
std::string without_raw_text(std::string_view html);

// Converts bytes in `charset` to UTF-8, replacing invalid sequences with U+FFFD; bytes that
// claim to be UTF-8 are validated the same way.
std::string to_utf8(std::string_view bytes, const std::string& charset);

}  // namespace vellum::extract
