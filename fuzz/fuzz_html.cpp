// Extraction of arbitrary bytes served as HTML: charset detection and decoding, the DOM,
// metadata (JSON-LD, meta tags, microdata), content scoring, and the article JSON written from
// the result (which must always be valid UTF-8 JSON).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "extract/ArticleJson.h"
#include "extract/Extraction.h"
#include "extract/PageBuilder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vellum::extract::PageInput in;
  in.url = "https://www.example.com/news/2026/story.html";
  // The first byte picks the Content-Type the server claimed, so that the header, BOM and
  // <meta charset> paths are all reached.
  static const char* kTypes[] = {"text/html", "text/html; charset=utf-8",
                                 "text/html; charset=iso-8859-1", "text/html; charset=shift_jis",
                                 "application/xhtml+xml"};
  std::size_t skip = size > 0 ? 1 : 0;
  in.headers.push_back({"Content-Type", kTypes[size > 0 ? data[0] % 5 : 0]});
  in.body.assign(reinterpret_cast<const char*>(data) + skip, size - skip);
  auto r = vellum::extract::run_extraction(in, nullptr);
  if (r.article) {
    vellum::extract::CaptureFacts facts;
    facts.url = facts.final_url = in.url;
    auto j = vellum::extract::article_json(*r.article, facts, r.extractor);
    std::string text = j.dump();  // throws on invalid UTF-8: a finding
    (void)vellum::extract::article_text(j);
  }
  return 0;
}
