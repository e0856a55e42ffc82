// Running extraction on one capture: the plugin that claims the URL (or the one a source
// forces), falling back to the generic extractor when there is none, it declines, or it fails.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "extract/ArticleJson.h"
#include "extract/PageBuilder.h"
#include "plugins/PluginHost.h"

namespace vellum::extract {

struct ExtractionResult {
  std::optional<Article> article;  // nullopt when the capture is skipped
  ExtractorFacts extractor;
  std::string skipped;  // why there is no article ("not HTML: image/png")
};

// `plugins` may be null (generic extractor only); `forced` names a plugin to use regardless of
// routing (empty: route by URL).
ExtractionResult run_extraction(const PageInput& input, plugins::PluginHost* plugins,
                                const std::string& forced = {});

// The same for a page already built (vellum extract PAGE.html).
ExtractionResult run_extraction(const Page& page, plugins::LoadedPlugin* plugin);

}  // namespace vellum::extract
