#include "extract/Extraction.h"

#include "extract/ArticleJson.h"
#include "extract/GenericExtractor.h"
#include "extract/TextUtil.h"

namespace vellum::extract {

namespace {

// What a plugin says (its name, version, an exception's message, which may quote the page) as
// stored and printed: one line, no control characters, valid UTF-8.
std::string plugin_text(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  return validate_utf8(printable(s));
}

}  // namespace

ExtractionResult run_extraction(const Page& page, plugins::LoadedPlugin* plugin) {
  ExtractionResult r;
  if (plugin) {
    try {
      if (auto a = plugin->extract(page)) {
        r.article = std::move(*a);
        tidy_plugin_article(*r.article);
        r.extractor = {plugin_text(plugin->info().name), plugin_text(plugin->info().version), {}};
        return r;
      }
      r.extractor.plugin_error =
          plugin_text("plugin '" + plugin->info().name + "' declined the page");
    } catch (const std::exception& e) {
      r.extractor.plugin_error = plugin_text(e.what());
    }
  }
  if (page.document) {
    r.article = GenericExtractor().extract(page);
  } else {  // decoded for a plugin in a worker process, not parsed here until now
    r.article = GenericExtractor().extract(build_page_from_decoded(page, DomScope::article));
  }
  r.extractor.name = kGenericExtractorName;
  r.extractor.version = kGenericExtractorVersion;
  return r;
}

ExtractionResult run_extraction(const PageInput& input, plugins::PluginHost* plugins,
                                const std::string& forced) {
  ExtractionResult r;
  r.skipped = skip_reason(input);
  if (!r.skipped.empty()) return r;
  Page page;
  try {
    page = decode_page(input);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    const bool says_what = what.rfind("not HTML", 0) == 0 || what.rfind("too much markup", 0) == 0;
    r.skipped = says_what ? what : "cannot decode the page: " + what;
    return r;
  }
  std::shared_ptr<plugins::LoadedPlugin> plugin;
  std::string missing;
  if (plugins) {
    if (!forced.empty()) {
      plugin = plugins->by_name(forced);
      if (!plugin) missing = "plugin '" + forced + "' is not loaded";
    } else {
      plugin = plugins->route(page.final_url.empty() ? page.url : page.final_url);
    }
  }
  // A plugin in a worker process parses the page there: parse it here only when it runs here,
  // or when the generic extractor has to take over; for the generic extractor alone, without
  // the script and style text it never reads.
  if (!plugin)
    page = build_page_from_decoded(std::move(page), DomScope::article);
  else if (!plugin->isolated())
    page = build_page_from_decoded(std::move(page));
  r = run_extraction(page, plugin.get());
  if (!missing.empty() && r.extractor.plugin_error.empty()) r.extractor.plugin_error = missing;
  return r;
}

}  // namespace vellum::extract
