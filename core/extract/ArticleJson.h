// The article record Vellum stores for a capture: the JSON in the WARC metadata record, in the
// sidecar file, and printed by `vellum restore --format json`; and its text layouts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "vellum/article.h"

namespace vellum::extract {

inline constexpr int kArticleSchemaVersion = 1;

// What the capture contributes to the record.
struct CaptureFacts {
  std::string capture_id;
  std::string url;
  std::string final_url;
  std::string fetched_at;  // WARC-Date of the response
  int http_status = 0;
  std::string record_id;       // WARC-Record-ID of the response
  std::string payload_digest;  // its WARC-Payload-Digest
};

struct ExtractorFacts {
  std::string name;  // "generic" or the plugin's name
  std::string version;
  std::string plugin_error;  // why a plugin was not used (it threw, declined, ...); empty if none
};

// The article JSON (PRODUCT: schema_version, capture_id, url, ..., extractor, warc). Unknown
// fields are null or absent, never invented.
nlohmann::json article_json(const Article& article, const CaptureFacts& capture,
                            const ExtractorFacts& extractor);

// Back from JSON (as stored) to the fields the text layouts need.
Article article_from_json(const nlohmann::json& j);

// What a plugin returns, made to hold what the generic extractor's articles hold, so that it is
// stored and printed alike: every text field valid UTF-8 (bad bytes U+FFFD) without control
// characters other than newline and tab, and the dates in UTC ISO 8601 ("2026-04-08T16:09:31Z";
// one that reads as no date is dropped).
void tidy_plugin_article(Article& article);

// The plain text layout of `vellum restore --format text`: title, URL, "Publish Date:" (UTC),
// "Source Domain:", the lead (unless the body opens with it), body paragraphs, "Key Points:"
// with "– " bullets when there are any.
std::string article_text(const nlohmann::json& j);

// Markdown: "# title", a metadata line, "## " sub-headings, "> " lead, "- " key points.
std::string article_markdown(const nlohmann::json& j);

}  // namespace vellum::extract
