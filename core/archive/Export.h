// `vellum export`: copying selected captures out of an archive into one file other tools read,
// a gzip-compressed WARC file or a WACZ package (docs/export.md describes both layouts).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "archive/ArchiveReader.h"
#include "index/Index.h"
#include "util/Time.h"

namespace vellum::archive {

enum class ExportFormat { warc_gz, wacz };

// "warc.gz" or "wacz"; nullopt for anything else.
std::optional<ExportFormat> parse_export_format(std::string_view name);
std::string_view export_format_name(ExportFormat f);
// The format a file name's extension names (".warc.gz", ".wacz"), if any.
std::optional<ExportFormat> export_format_of(const std::filesystem::path& file);

struct ExportOptions {
  ExportFormat format = ExportFormat::warc_gz;
  std::filesystem::path output;
  // Captures to export, as `vellum list` selects them (domain, since, until; limit unused).
  index::ListFilter filter;
  // Called after each capture is written with the captures done and the total.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // The time recorded as the export's creation (warcinfo, datapackage.json); empty: now.
  std::optional<util::TimePoint> created;
  // Read and check every record first, then export what reads and leave out the rest (a
  // capture with a damaged record, a revisit whose payload is in one, a damaged article),
  // instead of failing on the first damaged record.
  bool skip_damaged = false;
};

struct ExportSummary {
  std::uint64_t captures = 0;    // captures selected by the filter
  std::uint64_t referenced = 0;  // captures added because a selected revisit refers to them
  std::uint64_t records = 0;     // WARC records written, warcinfo included
  std::uint64_t pages = 0;       // WACZ: lines in pages/pages.jsonl after the header
  std::uint64_t bytes = 0;       // size of the file written
  std::filesystem::path file;
  std::uint64_t skipped = 0;          // selected captures left out as damaged (skip_damaged)
  std::vector<std::string> left_out;  // one line for each capture or article left out
};

// Writes the export to a temporary file beside `options.output` and renames it into place once
// complete, so a failed export leaves no output behind. Throws std::runtime_error saying what
// went wrong: the output directory missing, nothing selected, a record unreadable or failing its
// block digest (with skip_damaged: every selected capture damaged).
ExportSummary export_archive(ArchiveReader& reader, const ExportOptions& options);

}  // namespace vellum::archive
