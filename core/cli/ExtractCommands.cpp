// The commands that run extractors: `vellum extract` (a saved page, no archive touched),
// `reextract`, `plugins`, and the article of a capture stored without one. They are built into
// `vellum-capture` only; `vellum` hands them over (CaptureDispatch.cpp) and so never loads
// libxml2.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "archive/ArchiveReader.h"
#include "archive/ArchiveWriter.h"
#include "archive/CaptureArticle.h"
#include "cli/Cli.h"
#include "extract/ArticleJson.h"
#include "extract/Extraction.h"
#include "extract/PageBuilder.h"
#include "plugins/PluginHost.h"
#include "util/Text.h"

namespace vellum::cli {

namespace {

std::string read_input(const std::string& file) {
  std::ostringstream ss;
  if (file == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    throw std::runtime_error(file + ": found a directory, expected an HTML file");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file);
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

nlohmann::json extract_capture_article(const GlobalOptions& g, archive::ArchiveReader& reader,
                                       const index::CaptureRow& row,
                                       const std::string& unreadable) {
  plugins::PluginHost host(host_options(g));
  host.load_all();
  extract::ExtractionResult r;
  auto found = archive::stored_capture_article(reader, row, &host, {}, r);
  if (!found)
    throw std::runtime_error("capture " + row.capture_id + " has no article: " + r.skipped);
  // A revisit never has an article record of its own (its payload is the earlier capture's),
  // so extracting it on the fly is the normal case, not worth a notice.
  if (!unreadable.empty())
    spdlog::warn(
        "the stored article of capture {} cannot be read ({}); extracted it again from "
        "the stored page with {}",
        row.capture_id, unreadable, r.extractor.name);
  else if (row.record_type == "revisit")
    spdlog::debug("capture {} is a revisit; extracted its article with {}", row.capture_id,
                  r.extractor.name);
  else
    spdlog::info("capture {} was stored without an article; extracted it now with {}",
                 row.capture_id, r.extractor.name);
  nlohmann::json j = std::move(*found);
  archive::add_response_location(j, row);
  return j;
}

// One page, run by the plugin's author or to look at a saved page: in this process, where a
// debugger or sanitizer sees the plugin's own frames.
int run_extract(const GlobalOptions& g, const ExtractOptions& o) {
  std::string html = read_input(o.file);
  const std::string source = o.file == "-" ? std::string("standard input") : o.file;
  {
    // As at capture: what is not HTML gets no article, and says why. A file named as HTML is
    // taken as a server takes it, as text/html (a fragment without <html> or <head> is still a
    // page; binary data is not); other files and standard input by their markup.
    extract::PageInput probe;
    probe.body = html;
    const std::string ext = util::to_lower(std::filesystem::path(o.file).extension().string());
    if (o.file != "-" && (ext == ".html" || ext == ".htm" || ext == ".xhtml"))
      probe.headers.emplace_back("Content-Type", "text/html");
    if (html.empty() || !extract::skip_reason(probe).empty() ||
        (!probe.headers.empty() && !extract::non_html_kind(html).empty())) {
      const std::string kind = extract::non_html_kind(html);
      throw std::runtime_error(source + ": " +
                               (html.empty() ? std::string("found an empty file")
                                : !kind.empty()
                                    ? "found " + kind
                                    : std::string("found no HTML markup near its start (no <html>, "
                                                  "<head>, <body>, <title> or <meta>)")) +
                               ", expected an HTML page");
    }
  }
  // A file is at its file: URL; a page on standard input has none to take.
  if (o.url.empty() && o.file == "-")
    throw UsageError(
        "found no --url for the page on standard input, expected --url URL: the address it was "
        "served at (routing, relative links and the source domain depend on it)");
  std::string url = o.url.empty() ? "file://" + std::filesystem::absolute(o.file).string() : o.url;
  Page page;
  try {
    page = extract::build_page_from_html(std::move(html), url);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(source + ": " + e.what());
  }

  plugins::PluginHost host(host_options(g));
  std::shared_ptr<plugins::LoadedPlugin> plugin;
  if (!o.plugin.empty()) {
    plugin = host.load_file(o.plugin, true);  // throws with the reason
  } else {
    for (const auto& problem : host.load_all()) std::cerr << "vellum: plugin: " << problem << "\n";
    plugin = host.route(url);
  }
  extract::ExtractionResult r = extract::run_extraction(page, plugin.get());
  if (!r.extractor.plugin_error.empty())
    std::cerr << "vellum: " << r.extractor.plugin_error << "; used the generic extractor\n";
  extract::CaptureFacts facts;
  facts.url = facts.final_url = url;
  nlohmann::json j = extract::article_json(*r.article, facts, r.extractor);
  j.erase("capture_id");
  j.erase("warc");
  if (g.json)  // --json: the article as one line, like every other command's output
    print_json_line(j);
  else if (o.format == "text")
    std::cout << extract::article_text(j);
  else if (o.format == "markdown")
    std::cout << extract::article_markdown(j) << "\n";
  else
    std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return 0;
}

int run_reextract(const GlobalOptions& g, const ReextractOptions& o) {
  plugins::PluginHost host(batch_host_options(g, 1));  // one capture at a time
  for (const auto& problem : host.load_all())
    std::cerr << "vellum: plugin refused: " << problem << "\n";
  if (!o.plugin.empty() && !host.by_name(o.plugin))
    throw std::runtime_error("no plugin named '" + o.plugin + "' in the plugin directories");

  // The writer first: opening it brings an index of an older schema up to date, which the
  // reader (read-only) would refuse.
  archive::WriterOptions wo;
  wo.dir = g.archive;
  wo.busy = log_each_step();
  auto writer = archive::ArchiveWriter::open(wo, [](const std::string& m) { spdlog::info(m); });
  archive::ArchiveReader reader(g.archive);
  index::ListFilter f;
  f.domain = o.domain;
  f.newest_first = false;
  // The rows are read twice, a batch at a time, and none kept: counted first (for the progress
  // bar), then re-extracted (an archive of a million captures held in memory took gigabytes).
  auto wanted = [](const index::CaptureRow& r) {
    return r.record_type == "response" && r.status >= 200 && r.status < 300;
  };
  std::size_t total = 0;
  reader.index().each(f, [&](index::CaptureRow&& r) { total += wanted(r) ? 1 : 0; });

  ProgressBar bar("re-extracting");
  std::size_t done = 0, stored = 0, skipped = 0, failed = 0;
  reader.index().each(f, [&](index::CaptureRow&& row) {
    if (!wanted(row)) return;
    bar.update(done++, std::max(total, done));
    try {
      extract::ExtractionResult r;
      auto found = archive::stored_capture_article(reader, row, &host, o.plugin, r);
      if (!found) {
        ++skipped;
        return;
      }
      const nlohmann::json& j = *found;
      writer->store_article(row, j);
      ++stored;
      if (g.json)
        print_json_line({{"capture_id", row.capture_id},
                         {"url", row.url},
                         {"extractor", r.extractor.name},
                         {"title", r.article->title}});
      else if (g.verbosity > 0)
        std::cout << row.capture_id << "  " << r.extractor.name << "  " << r.article->title << "\n";
    } catch (const std::exception& e) {
      ++failed;
      std::cerr << "vellum: reextract: " << row.capture_id << " (" << row.url << "): " << e.what()
                << "\n";
    }
  });
  bar.update(done, done);
  writer->close();
  if (!g.json && g.verbosity >= 0)
    std::cout << "re-extracted " << stored << " of " << done << " captures (" << skipped
              << " without an article, " << failed << " failed)\n";
  return failed ? 1 : 0;
}

int run_plugins(const GlobalOptions& g, const std::string& check_file) {
  if (!check_file.empty()) {
    plugins::PluginHost host({});
    auto p = host.load_file(check_file, true);
    const auto& i = p->info();
    if (g.json) {
      print_json_line({{"ok", true},
                       {"name", i.name},
                       {"version", i.version},
                       {"file", i.file.string()},
                       {"hosts", i.hosts},
                       {"url_patterns", i.url_patterns}});
    } else {
      std::cout << "ok: " << i.name << " " << i.version << " (" << i.file.string() << ")\n";
    }
    return 0;
  }
  plugins::HostOptions options = host_options(g);
  auto dirs = options.dirs;
  plugins::PluginHost host(std::move(options));
  auto problems = host.load_all();
  for (const auto& p : host.plugins()) {
    const auto& i = p->info();
    if (g.json) {
      print_json_line({{"name", i.name},
                       {"version", i.version},
                       {"file", i.file.string()},
                       {"hosts", i.hosts},
                       {"url_patterns", i.url_patterns}});
    } else {
      std::string hosts;
      for (const auto& h : i.hosts) hosts += (hosts.empty() ? "" : ", ") + h;
      for (const auto& h : i.url_patterns) hosts += (hosts.empty() ? "" : ", ") + h;
      std::cout << i.name << "  " << i.version << "  " << i.file.string() << "  " << hosts << "\n";
    }
  }
  for (const auto& p : problems) {
    std::cerr << "vellum: plugin refused: " << p << "\n";
    // A script reading standard output sees why the command fails, as for every command.
    if (g.json) print_json_line({{"error", "plugin refused: " + p}});
  }
  if (host.plugins().empty() && !g.json) {
    std::cerr << "vellum: no plugins in";
    for (const auto& d : dirs) std::cerr << " " << d.string();
    std::cerr << "\n";
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace vellum::cli
