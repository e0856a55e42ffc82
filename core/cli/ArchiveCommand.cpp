// `vellum archive`: fetch URLs on an Asio loop, store each capture on a worker thread.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>

#include "archive/ArchiveWriter.h"
#include "archive/CaptureArticle.h"
#include "cli/Cli.h"
#include "fetch/Fetcher.h"
#include "plugins/PluginHost.h"
#include "util/Url.h"
#include "warc/Compression.h"
#include "warc/HttpMessage.h"

namespace vellum::cli {

namespace {

namespace asio = boost::asio;

struct Outcome {
  std::string url;
  std::string final_url;
  std::string capture_id;
  int status = 0;
  bool revisit = false;
  bool truncated = false;
  std::string error;
  std::string title;
};

void report(const GlobalOptions& g, const Outcome& o) {
  if (g.json) {
    nlohmann::json j;
    j["url"] = o.url;
    j["capture_id"] = o.capture_id.empty() ? nlohmann::json() : nlohmann::json(o.capture_id);
    j["status"] = o.status ? nlohmann::json(o.status) : nlohmann::json();
    if (!o.final_url.empty() && o.final_url != o.url) j["final_url"] = o.final_url;
    if (o.revisit) j["revisit"] = true;
    if (o.truncated) j["truncated"] = true;
    if (!o.title.empty()) j["title"] = o.title;
    if (!o.error.empty()) j["error"] = o.error;
    print_json_line(j);
    return;
  }
  if (!o.error.empty()) {
    std::cout << "failed  " << o.url << "  " << o.error << "\n";
  } else {
    std::cout << o.capture_id << "  " << o.status << "  " << o.url;
    // Where a redirect led; not the same URL written as it was requested ("x.example" and
    // "http://x.example/").
    const auto requested = util::parse_request_url(o.url);
    if (!o.final_url.empty() && (!requested || requested->str() != o.final_url))
      std::cout << " -> " << o.final_url;
    if (o.revisit) std::cout << "  (unchanged: revisit)";
    if (o.truncated) std::cout << "  (cut at --max-size)";
    if (!o.title.empty()) std::cout << "  " << o.title;
    std::cout << "\n";
  }
  std::cout.flush();
}

}  // namespace

index::Index::BusyHook log_each_step() {
  return [told = std::make_shared<std::string>()](const std::string& what) {
    if (what != *told) spdlog::info("{}", what);
    *told = what;
  };
}

void check_compression_level(const std::string& compression, int level) {
  const int max = warc::max_level(*warc::parse_compression(compression));
  if (max > 0 && (level < 1 || level > max))
    throw UsageError("--level: found " + std::to_string(level) + ", expected 1 to " +
                     std::to_string(max) + " for --compression " + compression);
}

int run_archive(const GlobalOptions& g, const ArchiveOptions& o) {
  std::vector<std::string> urls = o.urls;
  if (!o.input.empty()) read_url_list(o.input, urls);
  if (urls.empty()) throw UsageError("no URLs given (name them, or use -i FILE)");
  check_compression_level(o.compression, o.level);

  archive::WriterOptions wo;
  wo.dir = g.archive;
  wo.encoder.compression = *warc::parse_compression(o.compression);
  wo.encoder.level = o.level;
  wo.rotate_bytes = o.rotate_size;
  wo.busy = log_each_step();
  // Articles: plugins from the plugin directories, the generic extractor for everything else.
  std::unique_ptr<plugins::PluginHost> host;
  if (!o.no_extract) {
    // Extraction is CPU-bound: as many plugin workers as cores, however many threads store.
    host = std::make_unique<plugins::PluginHost>(
        batch_host_options(g, std::max(1u, std::thread::hardware_concurrency())));
    for (const auto& problem : host->load_all()) spdlog::warn("plugin refused: {}", problem);
    wo.extract = [&host](const fetch::Exchange& hop,
                         const index::CaptureRow& row) -> std::optional<nlohmann::json> {
      extract::ExtractionResult r;
      auto json = archive::exchange_article(hop, row, host.get(), {}, r);
      if (!json) spdlog::debug("{}: no article: {}", hop.url, r.skipped);
      if (!r.extractor.plugin_error.empty())
        spdlog::warn("{}: {}; used the generic extractor", hop.url, r.extractor.plugin_error);
      return json;
    };
  }
  auto writer = archive::ArchiveWriter::open(wo, [](const std::string& m) { spdlog::info(m); });

  fetch::FetchOptions fo;
  fo.concurrency = o.concurrency;
  // Whole milliseconds, at least one: 0 would mean no limit at all to libcurl.
  const auto millis = [](double seconds) {
    return std::chrono::milliseconds(std::max(1L, std::lround(std::ceil(seconds * 1000))));
  };
  fo.connect_timeout = millis(o.connect_timeout);
  fo.total_timeout = millis(o.timeout);
  fo.max_body_bytes = o.max_size;
  fo.max_redirects = o.max_redirects;
  fo.resolve = o.resolve;
  fo.user_agent = o.user_agent;
  fo.ca_file = o.cacert;

  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  fetch::Fetcher fetcher(io, fo);
  // Storing blocks while a capture is made durable; more threads than cores keep compressing
  // while others wait for the disk.
  unsigned workers = 2 * std::max(1u, std::thread::hardware_concurrency()) + 2;
  asio::thread_pool pool(workers);

  std::size_t outstanding = urls.size(), failed = 0, stored = 0;
  bool stopping = false;
  asio::signal_set signals(io, SIGINT, SIGTERM);
  auto all_done = [&] {
    guard.reset();
    signals.cancel();
  };
  auto finish_one = [&](const Outcome& out) {
    report(g, out);
    if (out.error.empty())
      ++stored;
    else
      ++failed;
    if (--outstanding == 0) all_done();
  };

  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    spdlog::warn("signal {}: finishing captures in flight and closing the archive", sig);
    stopping = true;
    io.stop();
  });

  // URLs are handed to the fetcher as earlier ones finish, so that at most `window` pages are
  // held in memory at once (fetching or waiting to be stored).
  const std::size_t window = static_cast<std::size_t>(o.concurrency) + workers;
  std::size_t next = 0, active = 0;
  std::function<void()> feed = [&] {
    while (!stopping && next < urls.size() && active < window) {
      const std::string& url = urls[next++];
      if (!util::parse_url(url)) {
        finish_one({url, {}, {}, 0, false, false, "not an http(s) URL", {}});
        continue;
      }
      ++active;
      fetcher.fetch(url, [&](fetch::FetchResult r) {
        asio::post(pool, [&, r = std::move(r)]() {
          Outcome out;
          out.url = r.url;
          out.final_url = r.final_url;
          if (!r.hops.empty()) out.status = r.hops.back().status;
          try {
            archive::StoreResult s = writer->store(r);
            if (!s.hops.empty()) {
              out.capture_id = s.hops.back().capture_id;
              out.revisit = s.hops.back().revisit;
              out.truncated = s.hops.back().truncated;
              out.title = s.hops.back().title;
            }
            out.error = r.error;
          } catch (const std::exception& e) {
            out.error = std::string("could not store the capture: ") + e.what();
          }
          asio::post(io, [&, out = std::move(out)]() {
            --active;
            finish_one(out);
            feed();
          });
        });
      });
    }
  };
  feed();
  if (outstanding == 0) all_done();
  io.run();
  pool.join();
  writer->close();
  if (stopping) {
    spdlog::warn("stopped: {} stored, {} failed, {} not done", stored, failed,
                 urls.size() - stored - failed);
    return 1;
  }
  if (g.verbosity >= 0 && !g.json)
    spdlog::info("{} of {} URLs archived in {}{}", stored, urls.size(), g.archive.string(),
                 failed ? ", " + std::to_string(failed) + " failed" : std::string());
  return failed ? 1 : 0;
}

}  // namespace vellum::cli
