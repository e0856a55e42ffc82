// `vellum import FILE...`: the captures of WARC files made elsewhere join the archive.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "archive/ArchiveWriter.h"
#include "archive/Importer.h"
#include "cli/Cli.h"
#include "plugins/PluginHost.h"
#include "warc/Compression.h"

namespace vellum::cli {

namespace {

void print_report(const GlobalOptions& g, const archive::ImportReport& r) {
  for (const auto& e : r.errors) std::cerr << "vellum: import: " << e << "\n";
  if (g.json) {
    print_json_line({{"file", r.file},
                     {"records", r.records},
                     {"captures_imported", r.captures},
                     {"requests_imported", r.requests},
                     {"articles", r.articles},
                     {"duplicates_skipped", r.duplicates},
                     {"other_records_skipped", r.skipped},
                     {"refused", r.refused},
                     {"without_block_digest", r.undigested},
                     {"errors", r.errors}});
    return;
  }
  if (g.verbosity < 0) return;
  auto count = [](std::uint64_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::cout << r.file << ": ";
  if (r.records == 0 && !r.ok()) {
    std::cout << "nothing imported, see the error above\n";
    std::cout.flush();
    return;
  }
  std::cout << count(r.records, "record", "records") << " read, "
            << count(r.captures, "capture", "captures") << " imported (" << r.requests
            << " with their request, " << count(r.articles, "article", "articles") << "), "
            << r.duplicates << " already in the archive, "
            << count(r.skipped, "other record", "other records") << " skipped";
  if (r.refused) std::cout << ", " << r.refused << " refused";
  if (r.undigested) std::cout << ", " << r.undigested << " without a block digest to check";
  if (r.captures == 0 && r.duplicates > 0 && r.ok())
    std::cout << "; nothing new: every capture in it is already in the archive";
  if (!r.ok()) std::cout << "; INCOMPLETE, see the errors above";
  std::cout << "\n";
  std::cout.flush();
}

}  // namespace

int run_import(const GlobalOptions& g, const ImportOptions& o) {
  if (o.files.empty()) throw std::runtime_error("no files given (name the WARC files to import)");
  check_compression_level(o.compression, o.level);

  archive::WriterOptions wo;
  wo.dir = g.archive;
  wo.encoder.compression = *warc::parse_compression(o.compression);
  wo.encoder.level = o.level;
  wo.rotate_bytes = o.rotate_size;
  wo.busy = log_each_step();

  archive::ImportOptions io;
  io.extract = !o.no_extract;
  io.log = [](const std::string& m) { spdlog::warn(m); };
  std::unique_ptr<plugins::PluginHost> host;
  if (io.extract) {
    // Import runs extraction on one thread: one worker process is enough.
    host = std::make_unique<plugins::PluginHost>(batch_host_options(g, 1));
    for (const auto& problem : host->load_all()) spdlog::warn("plugin refused: {}", problem);
    io.plugins = host.get();
  }

  // Takes the writer lock, waiting (and saying so) while another process writes the archive.
  auto writer = archive::ArchiveWriter::open(wo, [](const std::string& m) { spdlog::info(m); });
  bool ok = true;
  ProgressBar* bar_now = nullptr;
  io.progress = [&bar_now](std::uint64_t done, std::uint64_t total) {
    if (bar_now) bar_now->update(done, total);
  };
  // One importer for all the files: a record refused in one is remembered in the next.
  archive::Importer importer(*writer, io);
  for (const auto& file : o.files) {
    archive::ImportReport report;
    {
      ProgressBar bar("importing " + std::filesystem::path(file).filename().string());
      bar_now = &bar;
      report = importer.import_file(file);
      bar_now = nullptr;
    }
    print_report(g, report);
    ok = ok && report.ok();
  }
  writer->close();
  return ok ? kExitOk : kExitFailure;
}

}  // namespace vellum::cli
