#include "archive/CaptureArticle.h"

#include "warc/HttpMessage.h"

namespace vellum::archive {

std::optional<nlohmann::json> capture_article(const index::CaptureRow& row,
                                              const warc::HttpHead& head, std::string payload,
                                              plugins::PluginHost* plugins,
                                              const std::string& forced_plugin,
                                              extract::ExtractionResult& result) {
  extract::PageInput input;
  input.url = input.final_url = row.url;
  input.status = head.status;
  input.headers = head.headers;
  input.body = std::move(payload);
  result = extract::run_extraction(input, plugins, forced_plugin);
  if (!result.article) return std::nullopt;
  extract::CaptureFacts facts{row.capture_id, row.url,       row.url,           row.date,
                              row.status,     row.record_id, row.payload_digest};
  return extract::article_json(*result.article, facts, result.extractor);
}

std::optional<nlohmann::json> stored_capture_article(ArchiveReader& reader,
                                                     const index::CaptureRow& row,
                                                     plugins::PluginHost* plugins,
                                                     const std::string& forced_plugin,
                                                     extract::ExtractionResult& result) {
  RestoredPayload p = reader.payload(row);
  return capture_article(row, p.head, std::move(p.entity), plugins, forced_plugin, result);
}

std::optional<nlohmann::json> exchange_article(const fetch::Exchange& hop,
                                               const index::CaptureRow& row,
                                               plugins::PluginHost* plugins,
                                               const std::string& forced_plugin,
                                               extract::ExtractionResult& result) {
  if (row.status < 200 || row.status >= 300) {
    result.skipped = "HTTP status " + std::to_string(row.status);
    return std::nullopt;
  }
  auto head = warc::parse_http_head(hop.response_head);
  if (!head) {
    result.skipped = "the response head does not parse";
    return std::nullopt;
  }
  std::string payload = warc::body_payload(hop.response_body, *head).bytes;
  return capture_article(row, *head, std::move(payload), plugins, forced_plugin, result);
}

}  // namespace vellum::archive
