// Reading WARC files record by record (plain, gzip per record, zstd per record with or without
// dictionary) and single records by location.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "warc/Compression.h"
#include "warc/WarcRecord.h"

namespace vellum::warc {

// Where a record's stored bytes lie in its file (compressed bytes for gzip/zstd files).
struct RecordLocation {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class WarcReader {
 public:
  // Opens the file and detects its compression from the first bytes (zstd frame or dictionary
  // frame, gzip member, "WARC/"), or from the name (.zst, .gz) when they are none of these (a
  // damaged first record); reads the dictionary when there is one. Throws WarcFormatError.
  explicit WarcReader(const std::filesystem::path& file);
  // The same, reading only the records that start at `from` (which must be a record's start)
  // and end by `until`, as if the file ended there: bytes another thread is appending past
  // `until` are never read.
  WarcReader(const std::filesystem::path& file, std::uint64_t from, std::uint64_t until);
  ~WarcReader();
  WarcReader(const WarcReader&) = delete;
  WarcReader& operator=(const WarcReader&) = delete;

  // The next record, or nullopt at a clean end of file. A torn, corrupt or malformed record
  // throws WarcFormatError naming the file and the offset where that record starts.
  std::optional<WarcRecord> next();
  // After next() threw: looks past the damage for the next gzip member or zstd frame that
  // decodes (checksum included) to one whole, well-formed record, and continues there; the next
  // call to next() returns that record. Returns its offset, or nullopt when there is none (next()
  // then reports the end of the file). In a plain file the record looked for starts right after
  // a CRLF CRLF and, having no checksum, must declare a WARC-Block-Digest that its block
  // matches: text in a block that only looks like a record is passed over.
  std::optional<std::uint64_t> resynchronise();
  // Location of the record the last next() returned.
  RecordLocation last_location() const;
  // Whether that record lies in a gzip member or zstd frame holding several records (as tools
  // that compress a whole file write) that is cut short or damaged after it: the record read
  // whole, its location runs from the unit's start to the end of the file, and reading on
  // reaches the damage and throws.
  bool last_in_damaged_unit() const;
  Compression compression() const;
  // Offset of the first record (after any dictionary frame).
  std::uint64_t data_start() const;
  std::shared_ptr<const ZstdDictionary> dictionary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads the one record stored at `loc` (reads the file's dictionary frame when needed).
// Throws WarcFormatError when the bytes there are not one complete record.
WarcRecord read_record_at(const std::filesystem::path& file, RecordLocation loc);

// The same record as the bytes that were written for it (decompressed, not re-serialised), for
// copying records unchanged into another file. Checked to be exactly one complete record; throws
// WarcFormatError otherwise.
std::string read_record_bytes_at(const std::filesystem::path& file, RecordLocation loc);

// For salvaging a damaged record: the record's bytes as read_record_bytes_at gives them when it
// reads whole (`damage` empty), else its stored bytes decoded as far as they go, with no
// checksum checked, and in `damage` what read_record_bytes_at found wrong. May be empty.
std::string salvage_record_bytes_at(const std::filesystem::path& file, RecordLocation loc,
                                    std::string& damage);

// Result of checking a file from the start: where the last complete, valid record ends.
struct ScanResult {
  std::uint64_t valid_end = 0;  // offset just past the last good record (or the preamble)
  std::uint64_t records = 0;    // good records before valid_end
  std::uint64_t file_size = 0;
  std::optional<std::string> error;  // what stopped the scan early, if anything
  // Where the next whole, well-formed record after the bad one starts, when there is one (see
  // WarcReader::resynchronise): then the bad record is damage, not a tail torn by a crash.
  std::optional<std::uint64_t> resumes_at;
};
// Scans a file record by record, stopping at the first torn or invalid record; never throws
// for bad content (an unreadable file still throws std::system_error).
ScanResult scan_valid_prefix(const std::filesystem::path& file);

}  // namespace vellum::warc
