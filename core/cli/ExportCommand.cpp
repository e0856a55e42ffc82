// `vellum export`: selected captures as one .warc.gz file or one WACZ package.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>
#include <stdexcept>

#include "archive/ArchiveReader.h"
#include "archive/Export.h"
#include "cli/Cli.h"
#include "util/Time.h"

namespace vellum::cli {

namespace {

std::string human_bytes(std::uint64_t n) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

int run_export(const GlobalOptions& g, const ExportOptions& o) {
  archive::ExportOptions eo;
  eo.output = o.output;
  if (!o.format.empty()) {
    auto f = archive::parse_export_format(o.format);
    if (!f) throw std::runtime_error("found --format '" + o.format + "', expected warc.gz or wacz");
    eo.format = *f;
  } else if (auto f = archive::export_format_of(o.output)) {
    eo.format = *f;
  } else {
    throw std::runtime_error("cannot tell the format of " + o.output +
                             " from its name, expected --format warc.gz|wacz or a name ending "
                             "in .warc.gz or .wacz");
  }
  auto named = archive::export_format_of(o.output);
  if (named && *named != eo.format)
    throw std::runtime_error("found --format " +
                             std::string(archive::export_format_name(eo.format)) + " with output " +
                             o.output + ", expected a name ending in ." +
                             std::string(archive::export_format_name(eo.format)));
  if (!named && eo.format == archive::ExportFormat::wacz)
    spdlog::warn("{} does not end in .wacz, the extension WACZ readers expect", o.output);
  eo.filter.domain = o.domain;
  eo.filter.since = time_bound("--since", o.since, false);
  eo.filter.until = time_bound("--until", o.until, true);
  eo.skip_damaged = o.skip_damaged;

  archive::ArchiveReader reader(g.archive);
  archive::ExportSummary s;
  {
    ProgressBar bar("export");
    eo.progress = [&bar](std::uint64_t done, std::uint64_t total) { bar.update(done, total); };
    s = archive::export_archive(reader, eo);
  }

  for (const auto& line : s.left_out) spdlog::warn("{}", line);
  if (g.json) {
    print_json_line({{"file", s.file.string()},
                     {"format", std::string(archive::export_format_name(eo.format))},
                     {"captures", s.captures},
                     {"referenced", s.referenced},
                     {"records", s.records},
                     {"pages", s.pages},
                     {"bytes", s.bytes},
                     {"skipped", s.skipped},
                     {"left_out", s.left_out}});
  } else if (g.verbosity >= 0) {
    std::cout << "exported " << s.captures << " captures";
    if (s.referenced > 0) std::cout << " (+" << s.referenced << " that revisits refer to)";
    std::cout << ", " << s.records << " records, " << human_bytes(s.bytes) << ", to "
              << s.file.string();
    if (!s.left_out.empty())
      std::cout << "; left out " << s.skipped << " captures and damaged records of "
                << s.left_out.size() - s.skipped << " others (named above)";
    std::cout << "\n";
  }
  return s.left_out.empty() ? 0 : 1;
}

}  // namespace vellum::cli
