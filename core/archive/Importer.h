// `vellum import`: captures from WARC files made elsewhere (wget, other crawlers, another Vellum
// archive) become captures of this archive, their records' bytes unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "archive/ArchiveWriter.h"
#include "plugins/PluginHost.h"

namespace vellum::archive {

struct ImportOptions {
  bool extract = true;                          // false: --no-extract
  plugins::PluginHost* plugins = nullptr;       // site plugins; null: the generic extractor only
  std::function<void(const std::string&)> log;  // warnings (plugin errors, unpaired records)
  // Bytes of the source file read so far, and its size.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Captures stored per group commit (and the raw bytes at which a batch is stored earlier).
  std::size_t batch_captures = 256;
  std::uint64_t batch_bytes = 32ull << 20;
};

// What importing one file did.
struct ImportReport {
  std::string file;
  std::uint64_t records = 0;     // records read from the file
  std::uint64_t captures = 0;    // response and revisit records imported
  std::uint64_t requests = 0;    // request records imported with them
  std::uint64_t articles = 0;    // articles extracted and stored
  std::uint64_t duplicates = 0;  // captures already in the archive (their requests not counted)
  std::uint64_t skipped = 0;     // records of other types, and requests without a response
  std::uint64_t refused = 0;     // records whose digest does not match their bytes
  std::uint64_t undigested = 0;  // imported records with no block digest Vellum can check
  // One line each: refused records, and where and why reading the file stopped.
  std::vector<std::string> errors;
  bool ok() const { return errors.empty(); }
};

class Importer {
 public:
  // `writer` holds the archive's writer lock for as long as the importer is used.
  Importer(ArchiveWriter& writer, ImportOptions options);

  // Imports every capture of one WARC file (.warc, .warc.gz, .warc.zst; WARC/1.0 or 1.1).
  // Reading stops at the first damage: what was read before it is stored, and the report names
  // the offset and what was found there. Throws only when the archive cannot be written.
  ImportReport import_file(const std::filesystem::path& file);

  // Responses and revisits refused so far, in any file: what refers to them later (a request,
  // a revisit, perhaps in the next file) is not imported as if they were there.
  struct Refused {
    std::set<std::string> ids;       // their record ids, and those of their requests
    std::set<std::string> payloads;  // "URI payload-digest"
  };

 private:
  ArchiveWriter& writer_;
  ImportOptions options_;
  Refused refused_;
};

}  // namespace vellum::archive
