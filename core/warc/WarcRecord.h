// One WARC record: version line, named fields in order, and the block.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vellum::warc {

// Raised for anything in a WARC file that is not what the format requires. what() reads
// "<file>: offset <n>: <what was found>, expected <what the format requires>".
class WarcFormatError : public std::runtime_error {
 public:
  WarcFormatError(std::string file, std::uint64_t offset, const std::string& message);
  const std::string& file() const { return file_; }
  std::uint64_t offset() const { return offset_; }
  const std::string& detail() const { return detail_; }

 private:
  std::string file_;
  std::uint64_t offset_;
  std::string detail_;
};

class WarcRecord {
 public:
  std::string version = "WARC/1.1";
  std::vector<std::pair<std::string, std::string>> fields;  // in file order, names as written
  std::string block;
  // The header exactly as it was read from a file (version line to the blank line included),
  // set by parse_header; empty for records built in memory. serialize() does not use it:
  // `vellum import` stores it to keep a source record's bytes unchanged.
  std::string header_as_read;

  // Case-insensitive look-up; nullptr when absent.
  const std::string* field(std::string_view name) const;
  std::string field_or(std::string_view name, std::string fallback = {}) const;
  // Replaces the first field of that name (case-insensitive) or appends it.
  void set(std::string_view name, std::string value);
  std::string type() const { return field_or("WARC-Type"); }
  std::string record_id() const { return field_or("WARC-Record-ID"); }

  // Version line, every field, "Content-Length" (always taken from block.size(), replacing any
  // stored value) and the blank line: exactly the bytes that precede the block.
  std::string serialize_header() const;
  // The same with Content-Length given, for a block kept elsewhere (see RecordEncoder).
  std::string serialize_header(std::uint64_t content_length) const;
  // Header + block + "\r\n\r\n".
  std::string serialize() const;
  // The record as it was read (header_as_read, block, "\r\n\r\n"): a record another tool wrote
  // keeps its version line, field spelling and folded lines; serialize() for one built in memory.
  std::string as_read() const;
};

// Parses one uncompressed record that occupies all of `data` (header, block, CRLFCRLF).
// `file` and `offset` only name the place in errors.
WarcRecord parse_record(std::string_view data, const std::string& file, std::uint64_t offset);

// Length of the header part (up to and including the blank line) at the start of `data`, or 0
// when the blank line is not in `data` yet.
std::size_t header_length(std::string_view data);

// Parses the header part alone (version line + fields, with the blank line); fills everything
// but `block`. Returns the Content-Length it declares. Throws WarcFormatError.
std::uint64_t parse_header(std::string_view header, WarcRecord& out, const std::string& file,
                           std::uint64_t offset);

// Whether the block matches the WARC-Block-Digest the record declares: nullopt when it declares
// none, one Vellum cannot compute (another algorithm), or the SHA-1 of an empty block on a
// revisit whose block is not empty. wget (1.x) writes that digest for every revisit it makes
// with --warc-dedup, whatever the response head in the block; it describes no bytes there are.
std::optional<bool> block_digest_matches(const WarcRecord& record);

}  // namespace vellum::warc
