// Extraction for captures already described by an index row: at capture time (from the
// exchange just fetched) and later (from the stored payload: restore, reextract).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "archive/ArchiveReader.h"
#include "extract/Extraction.h"
#include "fetch/Fetcher.h"
#include "index/Index.h"
#include "plugins/PluginHost.h"

namespace vellum::archive {

// The article JSON of a capture from its entity body (chunked coding removed) and HTTP head;
// nullopt (with the reason in `result.skipped`) when the capture has no article. `result`
// tells which extractor ran.
std::optional<nlohmann::json> capture_article(const index::CaptureRow& row,
                                              const warc::HttpHead& head, std::string payload,
                                              plugins::PluginHost* plugins,
                                              const std::string& forced_plugin,
                                              extract::ExtractionResult& result);

// The same for an exchange just fetched (at capture time): nullopt for non-2xx responses and
// heads that do not parse.
std::optional<nlohmann::json> exchange_article(const fetch::Exchange& hop,
                                               const index::CaptureRow& row,
                                               plugins::PluginHost* plugins,
                                               const std::string& forced_plugin,
                                               extract::ExtractionResult& result);

// The same, reading the payload from the archive.
std::optional<nlohmann::json> stored_capture_article(ArchiveReader& reader,
                                                     const index::CaptureRow& row,
                                                     plugins::PluginHost* plugins,
                                                     const std::string& forced_plugin,
                                                     extract::ExtractionResult& result);

}  // namespace vellum::archive
