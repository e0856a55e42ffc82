// Differential check of DomScope::article: the document the generic extractor parses without
// script and style text must be the whole document in every other respect — the same elements,
// attributes, text and comments in the same places, and the same JSON-LD and meta tags.
#include <libxml/tree.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "extract/PageBuilder.h"

namespace {

bool is_raw_text(xmlNodePtr n) {
  return xmlStrcasecmp(n->name, BAD_CAST "script") == 0 ||
         xmlStrcasecmp(n->name, BAD_CAST "style") == 0;
}

// The tree as text, leaving out the text inside script and style elements.
void dump(xmlNodePtr parent, bool raw, std::string& out) {
  for (xmlNodePtr n = parent->children; n; n = n->next) {
    switch (n->type) {
      case XML_ELEMENT_NODE: {
        out += '<';
        out += reinterpret_cast<const char*>(n->name);
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
          out += ' ';
          out += reinterpret_cast<const char*>(a->name);
          out += "=\"";
          if (xmlChar* v = xmlNodeListGetString(n->doc, a->children, 1)) {
            out += reinterpret_cast<const char*>(v);
            xmlFree(v);
          }
          out += '"';
        }
        out += '>';
        dump(n, is_raw_text(n), out);
        out += "</>";
        break;
      }
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        if (!raw && n->content) out += reinterpret_cast<const char*>(n->content);
        break;
      case XML_COMMENT_NODE:
        out += "<!--";
        if (n->content) out += reinterpret_cast<const char*>(n->content);
        out += "-->";
        break;
      default:
        out += "<?" + std::to_string(static_cast<int>(n->type)) + ">";
    }
  }
}

std::string dump(const vellum::Page& page) {
  std::string out;
  if (page.document && page.document->raw())
    dump(reinterpret_cast<xmlNodePtr>(page.document->raw()), false, out);
  return out;
}

void differ(const char* what, const std::string& whole, const std::string& article) {
  std::size_t at = 0;
  while (at < whole.size() && at < article.size() && whole[at] == article[at]) ++at;
  std::size_t from = at > 300 ? at - 300 : 0;
  std::fprintf(stderr,
               "DomScope::article changed the %s at %zu:\n  whole:   %.600s\n  article: %.600s\n",
               what, at, whole.c_str() + from, article.c_str() + from);
  if (const char* dir = std::getenv("DOMSCOPE_DUMP")) {  // both documents, to compare by hand
    for (auto [name, text] : {std::pair{"/whole.txt", &whole}, std::pair{"/article.txt", &article}})
      if (FILE* f = std::fopen((std::string(dir) + name).c_str(), "wb")) {
        std::fwrite(text->data(), 1, text->size(), f);
        std::fclose(f);
      }
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace vellum::extract;
  vellum::Page page;
  page.url = page.final_url = "https://www.example.com/news/story.html";
  page.html = to_utf8(std::string_view(reinterpret_cast<const char*>(data), size), "utf-8");
  vellum::Page whole = build_page_from_decoded(page);
  vellum::Page article = build_page_from_decoded(page, DomScope::article);
  std::string a = dump(whole), b = dump(article);
  if (a != b) differ("document", a, b);
  std::string ja, jb;
  for (const auto& j : whole.json_ld) ja += j.dump();
  for (const auto& j : article.json_ld) jb += j.dump();
  if (ja != jb) differ("JSON-LD", ja, jb);
  if (whole.meta != article.meta) differ("meta tags", "", "");
  return 0;
}
